// Sends one webhook's events (docs/contract.md "Webhooks") for the node holding it
// (webhook-worker.ts): in outbox order, one event per POST or (its `batchSize`) a JSON array of up
// to that many, one request at a time or (its `concurrency`) up to that many in flight, a new one
// going out as each is answered, never two holding one session (decisions/webhook-batch.ts,
// `nextRequest`); outcomes are recorded event by event in outbox order, so a session's events
// still arrive in the order they happened. The outbox is read a
// batch of rows at a time, the batch's delivery log rows in one read, and the events delivered at
// their first attempt are logged together with the cursor's move in one transaction (at the end
// of the batch, before any wait, and at least every FLUSH_MS): one read and one write per batch
// instead of five round trips per event. A failed attempt is logged at once (its retry schedule
// must outlive a restart). Until the batch's write, a crash loses only the record that those
// events were sent: the next owner sends them again (at least once, as the contract says).
import {
  afterAttempt,
  type AttemptResult,
  eventOfAuditRow,
  eventsOfSeatRow,
  type RetrySchedule,
  rowFor,
  seatTypesFor,
  signatureHeader,
  type WebhookEvent,
} from './decisions/webhook-delivery';
import { deliveryLimits, mergeOutbox, nextRequest } from './decisions/webhook-batch';
import type { WebhookHttp } from './webhook-http';
import type { DeliveredEvent, Delivery, OutboxSource, Webhook, WebhookStore } from './webhook-store';

/** Outbox rows read per batch. */
export const BATCH = 100;
/** The longest delivered events go unlogged while a batch is under way (a slow receiver). */
const FLUSH_MS = 500;
/** Outbox rows a batch reads at most, reading more while its requests are in flight. */
const READ_AHEAD = 4 * BATCH;

export type Step = { kind: 'progress' } | { kind: 'idle' } | { kind: 'wait'; until: number };

export interface SenderDeps {
  store: WebhookStore;
  http: WebhookHttp;
  now: () => number;
  options: { timeoutMs: number; pollMs: number };
  schedule: RetrySchedule;
  /** Until when this node holds its claims. */
  claimedUntil: () => number;
  /** How far the outboxes may be read. */
  marks: () => Readonly<Record<OutboxSource, number>>;
}

/** One event of a batch: what the delivery log says of it, and the key its order is kept by. */
interface Item {
  event: WebhookEvent;
  logged: Delivery | undefined;
  key: string;
}

/** One request: its events' bytes in order (none where an event was logged as done already), and what came of it. */
interface Flight {
  sent: Array<{ item: Item; payload: string } | undefined>;
  /** Its events' ordering keys: busy until it is recorded. */
  keys: string[];
  /** Sent and not answered yet. */
  sending: boolean;
  startedAt: number;
  answered?: Promise<void>;
  outcome?: { result: AttemptResult; at: number };
}

const delivered = (r: AttemptResult): r is { responseStatus: number } => 'responseStatus' in r && r.responseStatus >= 200 && r.responseStatus < 300;

export class WebhookSender {
  /** Read past here (in memory: the durable cursor, or further where nothing matched). */
  pos: Record<OutboxSource, number>;
  /** The cursors as last written. */
  private durable: Record<OutboxSource, number>;
  busy?: Promise<void>;
  /** A pending delivery's next attempt. */
  waitUntil?: number;
  readonly abort = new AbortController();
  /** Deleted on this node: nothing more is written for it. */
  deleted = false;
  private unlogged: DeliveredEvent[] = [];
  private cursors: Partial<Record<OutboxSource, number>> = {};
  private unloggedSince = 0;

  constructor(
    readonly webhook: Webhook,
    private readonly deps: SenderDeps,
  ) {
    this.pos = { seat: webhook.seatCursor, audit: webhook.auditCursor };
    this.durable = { ...this.pos };
  }

  /** The outbox ids went back below `back` (SQLite after pruning): reads and the cursor go back too. */
  async goBack(source: OutboxSource, back: number): Promise<void> {
    if (this.pos[source] <= back) return;
    this.pos[source] = back;
    this.durable[source] = Math.min(this.durable[source], back);
    await this.deps.store.resetCursor(this.webhook.id, source, back);
  }

  /** Delivers batches while the claim holds, there are events, and none is waiting for a retry. */
  async run(stillHeld: () => boolean): Promise<void> {
    this.waitUntil = undefined;
    try {
      while (!this.abort.signal.aborted && stillHeld()) {
        const step = await this.batch();
        if (step.kind === 'idle') return;
        if (step.kind === 'wait') {
          this.waitUntil = step.until;
          return;
        }
      }
    } finally {
      if (!this.deleted) await this.flush();
    }
  }

  private async batch(): Promise<Step> {
    const { store, now, options } = this.deps;
    const w = this.webhook;
    const filter = { tenantId: w.tenantId, licenseId: w.licenseId };
    /** Read past here in this batch: the cursor's position, then the last row read. */
    const readTo = { ...this.pos };
    /** The batch's rows, in order, as read (more are read while requests are in flight). */
    const rows: Array<{ source: OutboxSource; id: number; events: WebhookEvent[]; key: string }> = [];
    let end: Step = { kind: 'progress' };
    /** How far the last read could read. */
    let marks = { ...this.deps.marks() };
    /** Reads the outbox past `readTo`, up to a row whose tenant is not known yet: the events read, in order. */
    const read = async (): Promise<Item[]> => {
      marks = { ...this.deps.marks() };
      const seat = await store.seatOutbox(filter, seatTypesFor(w.events), readTo.seat, marks.seat, BATCH);
      const audit = w.events.includes('license.changed') ? await store.auditOutbox(filter, readTo.audit, marks.audit, BATCH) : [];
      const first = rows.length;
      for (const r of mergeOutbox(seat, audit, BATCH)) {
        const fit = r.source === 'seat' ? rowFor(r.row, w.tenantId, now()) : 'deliver';
        if (fit === 'wait') {
          end = { kind: 'wait', until: now() + options.pollMs * 4 };
          break;
        }
        const events = fit === 'skip' ? [] : r.source === 'seat' ? eventsOfSeatRow(r.row, w.events) : [eventOfAuditRow(r.row)];
        // A session's events keep their order; events of no session keep theirs within the license.
        const key = r.source === 'seat' && r.row.sessionId !== null ? `session:${r.row.sessionId}` : `license:${r.row.licenseId}`;
        rows.push({ source: r.source, id: r.row.id, events, key });
        readTo[r.source] = r.row.id;
      }
      const added = rows.slice(first);
      const logged = new Map((await store.deliveriesOf(w.id, added.flatMap((r) => r.events.map((e) => e.id)))).map((d) => [d.eventId, d]));
      return added.flatMap((row) => row.events.map((event) => ({ event, logged: logged.get(event.id), key: row.key })));
    };
    const items = await read();
    if (rows.length === 0 && end.kind === 'progress') {
      // Nothing matched up to the marks: the next read starts there.
      this.pos = { seat: Math.max(this.pos.seat, marks.seat), audit: Math.max(this.pos.audit, marks.audit) };
      return { kind: 'idle' };
    }
    // A row's cursor moves once every event before its end is handled (`done`).
    let done = 0;
    let moved = 0;
    let itemsBefore = 0;
    const advance = async () => {
      for (; moved < rows.length; moved++) {
        const row = rows[moved]!;
        if (itemsBefore + row.events.length > done) return;
        itemsBefore += row.events.length;
        this.pos[row.source] = row.id;
        if (row.events.length > 0) this.cursors[row.source] = row.id;
        if (this.unlogged.length > 0 && now() - this.unloggedSince >= FLUSH_MS) await this.flush();
      }
    };
    await advance();
    // While requests are in flight, the events that came since are read too (up to READ_AHEAD rows
    // in all), so a slow answer holds back only its own session's, not every event after the batch.
    const more = async (): Promise<Item[]> => (end.kind === 'progress' && rows.length < READ_AHEAD ? read() : []);
    const stop = await this.deliver(
      items,
      async (handled) => {
        done = handled;
        await advance();
      },
      more,
    );
    if (stop) return stop;
    await this.flush();
    return end;
  }

  /**
   * Sends a batch's events (`items`, in outbox order) as requests of up to `batchSize` events, up
   * to `concurrency` of them in flight: each answer lets the next request go, unless the next
   * event's session is in a request not yet answered and recorded (then it waits for that one).
   * What came of each event is recorded in outbox order, and `progress` hears how many events from
   * the start are handled. Returns why it stopped before the end: an event waiting for its retry
   * (everything after it waits too, but what was already sent is recorded), or a claim too short
   * for another attempt. When every event read is in a request and there is room for another,
   * `more` reads the events that came since (none: it tries again after an answer, or `pollMs`).
   */
  private async deliver(items: Item[], progress: (handled: number) => Promise<void>, more: () => Promise<Item[]>): Promise<Step | undefined> {
    const { now } = this.deps;
    /** Requests sent (or, every event in them logged already, not needed), not yet recorded, in outbox order. */
    const flights: Flight[] = [];
    /** The first event not in a request yet; the events recorded; those handled from the start (the cursor's). */
    let next = 0;
    let recorded = 0;
    let handled = 0;
    /** Nothing more goes out: the first event that must wait, in outbox order, or a claim too short. */
    let stop: { at: number; step: Step } | undefined;
    for (;;) {
      // Stopped (deleted, or taken over): what is not recorded yet, the next owner sends again.
      if (this.abort.signal.aborted) return { kind: 'idle' };
      const { concurrency, batchSize } = deliveryLimits(this.webhook);
      while (!stop && next < items.length && flights.filter((f) => f.sending).length < concurrency) {
        const busy = new Set(flights.flatMap((f) => f.keys));
        const length = nextRequest(items.slice(next, next + batchSize).map((i) => i.key), busy, batchSize);
        if (length === 0) break;
        const flight: Flight = { sent: [], keys: [], sending: false, startedAt: now() };
        for (const item of items.slice(next, next + length)) {
          const { logged } = item;
          if (logged && logged.status !== 'pending') {
            flight.sent.push(undefined);
            next++;
            continue;
          }
          if (logged && logged.nextAttemptAt > now()) {
            stop = { at: next, step: { kind: 'wait', until: logged.nextAttemptAt } };
            break;
          }
          // An attempt must end before the claim could lapse, or two nodes might deliver at once.
          if (now() + this.deps.options.timeoutMs >= this.deps.claimedUntil()) {
            stop = { at: next, step: { kind: 'idle' } };
            break;
          }
          // A retry sends the bytes logged at its first attempt.
          flight.sent.push({ item, payload: logged?.payload ?? JSON.stringify(item.event) });
          flight.keys.push(item.key);
          next++;
        }
        if (flight.sent.length === 0) break;
        flights.push(flight);
        const payloads = flight.sent.flatMap((s) => (s ? [s.payload] : []));
        if (payloads.length === 0) continue;
        // With a batch size above 1 the body is always an array, so a receiver reads one shape.
        flight.sending = true;
        flight.answered = this.attempt(batchSize > 1 ? `[${payloads.join(',')}]` : payloads[0]!).then((result) => {
          flight.outcome = { result, at: now() };
          flight.sending = false;
        });
      }
      if (flights.length === 0) return stop?.step;
      const answers = flights.flatMap((f) => (f.sending ? [f.answered!] : []));
      if (flights[0]!.sending) {
        // Every event read is out while the oldest request waits, with room for more: read on.
        if (!stop && next >= items.length && answers.length < concurrency) {
          const added = await more();
          if (added.length > 0) {
            items.push(...added);
            continue;
          }
          // Nothing new yet: look again after the next answer, or after the poll interval.
          let timer: NodeJS.Timeout | undefined;
          const poll = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.deps.options.pollMs)));
          await Promise.race([...answers, poll]).finally(() => clearTimeout(timer));
        }
        // The oldest request's answer first: outcomes are recorded in outbox order.
        else await Promise.race(answers);
      }
      // Stopped mid-attempt: nothing more is recorded.
      if (this.abort.signal.aborted) return { kind: 'idle' };
      while (flights.length > 0 && !flights[0]!.sending) {
        const flight = flights.shift()!;
        for (const s of flight.sent) {
          const index = recorded++;
          const wait = s && (await this.record(s.item, s.payload, flight.startedAt, flight.outcome!.result, flight.outcome!.at));
          // An event that failed holds back its own cursor and what comes after it; those sent already are recorded all the same.
          if (wait && (!stop || stop.at > index)) stop = { at: index, step: wait };
          if (!stop || stop.at > index) handled = index + 1;
        }
        await progress(handled);
      }
    }
  }

  /** What came of an attempt: a first one delivered is logged with its batch; anything else at once. */
  private async record(item: Item, payload: string, startedAt: number, result: AttemptResult, at: number): Promise<Step | undefined> {
    const { store } = this.deps;
    const { event, logged } = item;
    if (!logged && delivered(result)) {
      if (this.unlogged.length === 0) this.unloggedSince = at;
      this.unlogged.push({ eventId: event.id, eventType: event.type, createdAt: startedAt, lastAttemptAt: at, responseStatus: result.responseStatus });
      return undefined;
    }
    // Logged now, after the events delivered before it, so the log keeps their order.
    await this.flush();
    const d = logged ?? (await store.openDelivery({ webhookId: this.webhook.id, eventId: event.id, eventType: event.type, payload, createdAt: startedAt, nextAttemptAt: startedAt }));
    const next = afterAttempt(d, result, at, this.deps.schedule);
    await store.recordAttempt(d.id, {
      ...next,
      lastAttemptAt: at,
      responseStatus: 'responseStatus' in result ? result.responseStatus : null,
      error: 'error' in result ? result.error : null,
    });
    return next.status === 'pending' ? { kind: 'wait', until: next.nextAttemptAt } : undefined;
  }

  /** Logs the events delivered since the last write and moves the cursors, in one transaction. */
  private async flush(): Promise<void> {
    if (this.unlogged.length === 0 && Object.keys(this.cursors).length === 0) return;
    const [unlogged, cursors] = [this.unlogged, this.cursors];
    this.unlogged = [];
    this.cursors = {};
    try {
      await this.deps.store.recordDelivered(this.webhook.id, unlogged, cursors);
      for (const [source, id] of Object.entries(cursors) as Array<[OutboxSource, number]>) this.durable[source] = Math.max(this.durable[source], id);
    } catch (err) {
      // Not recorded: read again from the cursors as written, and send again (at least once).
      this.pos = { ...this.durable };
      throw err;
    }
  }

  /** One POST, signed now; any answer or failure is a result, never a throw. */
  private attempt(body: string): Promise<AttemptResult> {
    return this.deps.http.post({
      url: this.webhook.url,
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'live-seat-server-webhooks/1',
        'seat-signature': signatureHeader(this.webhook.secret, body, this.deps.now()),
      },
      stop: this.abort.signal,
      timeoutMs: this.deps.options.timeoutMs,
    });
  }
}
