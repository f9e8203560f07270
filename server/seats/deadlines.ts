// The idle seats' deadlines this node releases: a heap of them and one timer, for the earliest.
//
// A timer fires only in the event loop's timers phase, and a mass disconnect holds the loop in
// one poll phase while it reads every socket's close (1.5 s for 10,000 on a 2-core Xeon): a seat
// idled early in it falls due before the phase ends. So whoever may have held the loop that long
// asks (`check`) as well as the timer: the engine after every seat move it publishes, and each
// later stage of a left socket's connection closing (server/realtime/teardown-checks.ts).

import TinyQueue from 'tinyqueue';

/** The longest a timer waits (a 32-bit signed count of milliseconds). */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Deadline {
  at: number;
  sessionId: string;
  licenseId: string;
}

export class Deadlines {
  /** Every deadline set, also those since moved or dropped (stale: not `held`'s), earliest first. */
  private heap = new TinyQueue<Deadline>([], byTime);
  /** Each session's deadline in force. */
  private readonly held = new Map<string, Deadline>();
  private timer: NodeJS.Timeout | undefined;
  /** When the timer fires; Infinity with none. */
  private armedAt = Infinity;
  private stopped = false;

  constructor(
    private readonly now: () => number,
    /** A license has a seat past its deadline (one call for all of its seats due together). */
    private readonly onDue: (licenseId: string) => void,
  ) {}

  /** The session's seat falls due at `at` (replacing the deadline it had). */
  set(sessionId: string, licenseId: string, at: number): void {
    if (this.stopped) return;
    const d = { at, sessionId, licenseId };
    this.held.set(sessionId, d);
    this.heap.push(d);
    // Sessions idling and resuming leave stale entries behind: past twice what is held, the heap
    // is built again from what is (a hold by a receipt may be 30 days away).
    if (this.heap.length > 2 * this.held.size + 1024) this.heap = new TinyQueue([...this.held.values()], byTime);
    if (at < this.armedAt) this.arm();
  }

  /** The session's seat no longer falls due here (resumed, ended). */
  delete(sessionId: string): void {
    this.held.delete(sessionId);
  }

  /** How many seats have a deadline here. */
  get size(): number {
    return this.held.size;
  }

  /** Deadlines in the heap, stale ones included (what it holds in memory). */
  get queued(): number {
    return this.heap.length;
  }

  /** Hands the licenses with a seat past its deadline to `onDue`. Costs a comparison when none is. */
  check(): void {
    if (this.stopped) return;
    const now = this.now();
    if ((this.heap.peek()?.at ?? Infinity) > now) return;
    const due = new Set<string>();
    while (this.heap.length > 0 && this.heap.peek()!.at <= now) {
      const d = this.heap.pop()!;
      if (this.held.get(d.sessionId) !== d) continue;
      this.held.delete(d.sessionId);
      due.add(d.licenseId);
    }
    this.arm();
    for (const licenseId of due) this.onDue(licenseId);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.held.clear();
    this.heap = new TinyQueue([], byTime);
  }

  /** The timer, for the earliest deadline held (stale entries at the top dropped first). */
  private arm(): void {
    while (this.heap.length > 0 && this.held.get(this.heap.peek()!.sessionId) !== this.heap.peek()) this.heap.pop();
    const at = this.heap.peek()?.at ?? Infinity;
    if (at === this.armedAt && this.timer) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = at;
    if (at === Infinity) return;
    // It may fire a hair early: `check` then finds nothing due and arms it again.
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.armedAt = Infinity;
        this.check();
        if (!this.timer) this.arm();
      },
      Math.min(MAX_TIMER_MS, Math.max(0, at - this.now())),
    );
    this.timer.unref();
  }
}

function byTime(a: Deadline, b: Deadline): number {
  return a.at - b.at;
}
