// What the soak's clients saw, and what it did: the record the checker holds against the database.

/** How a client's connection ended, as the client saw it. */
export type ConnEnd =
  /** The workload closed it (a tab closed). */
  | { at: number; kind: 'client' }
  /** The link broke: a node died, a transport error, a ping timeout. */
  | { at: number; kind: 'transport'; detail: string }
  /** The server disconnected it; after a grant this needs a `session:ended` first. */
  | { at: number; kind: 'server' }
  /** `session:ended` with its reason. */
  | { at: number; kind: 'ended'; reason: string }
  /** `seat:denied` with its reason. */
  | { at: number; kind: 'denied'; reason: string }
  /** The handshake failed (`connect_error`), with its reason code. */
  | { at: number; kind: 'refused'; reason: string }
  /** The client's network went silent, on purpose (a fault): from now on it is deaf and mute. */
  | { at: number; kind: 'silent' }
  /** An HTTP lease the client stopped renewing: it let go at its `renewBy` (`at`). */
  | { at: number; kind: 'lapsed' };

export interface Claims {
  sid?: string;
  sub?: string;
  dev?: string;
  ins?: string;
  name?: string;
  weight?: number;
  /** The claimant's group (reservations and group limits). */
  grp?: string;
}

/** One socket of one tab, from its connect to its end. A tab that reconnects has several. */
export interface Conn {
  /** Global number, in the order conns were opened. */
  n: number;
  tab: number;
  licenseId: string;
  /** The seat key's value as the soak computes it (claims joined), for traces. */
  key: string;
  claims: Claims;
  node: string;
  openedAt: number;
  /** The server's socket id (socket.io's client and server ids agree). */
  socketId?: string;
  grant?: { at: number; sessionId: string; resumed: boolean };
  end?: ConnEnd;
  /** The socket asked to wait (`auth.queue`) and was told `seat:queued` (first time). */
  queuedAt?: number;
  /** An HTTP lease instead of a socket: its id (the row is `lease:<id>`) and latest deadline. */
  lease?: { leaseId: string; renewBy: number };
  /** When the client sent `session:activity` (the newest few). */
  activity?: number[];
}

export interface LogEntry {
  /** The operation's index (faults and reconnects carry the index current when they happened). */
  op: number;
  at: number;
  kind: string;
  detail: string;
  licenseId?: string;
  sessionId?: string;
  tab?: number;
  /** The seat key (license/k) the entry is about, so a trace follows every tab of it. */
  key?: string;
}

/** The soak's log: operations, faults and notable client events, for traces. */
export class OpLog {
  readonly entries: LogEntry[] = [];
  op = 0;
  add(e: Omit<LogEntry, 'op' | 'at'>): void {
    this.entries.push({ op: this.op, at: Date.now(), ...e });
    // Bounded: the last 200,000 entries are plenty for a trace.
    if (this.entries.length > 250_000) this.entries.splice(0, 50_000);
  }
}

/**
 * When the whole service was down (the database unreachable, or no node alive): deadlines that
 * fall inside such a gap are due from its end. Open gaps by name, close them when back.
 */
export class Gaps {
  private readonly open = new Map<string, number>();
  private readonly closed: Array<{ from: number; to: number }> = [];
  begin(name: string): void {
    if (!this.open.has(name)) this.open.set(name, Date.now());
  }
  end(name: string): void {
    const from = this.open.get(name);
    if (from === undefined) return;
    this.open.delete(name);
    this.closed.push({ from, to: Date.now() });
  }
  /** Whether a gap was open, or `ms` from its start or end, at `t`. */
  near(t: number, ms: number): boolean {
    for (const from of this.open.values()) if (t >= from - ms) return true;
    return this.closed.some((g) => t >= g.from - ms && t <= g.to + ms);
  }
  /** The earliest moment at or after `t` from which the service has been up without a break. */
  clearFrom(t: number): number {
    if (this.open.size > 0) return Infinity;
    let from = t;
    for (const g of this.closed) if (g.to >= from) from = Math.max(from, g.to);
    return from;
  }
  get total(): number {
    return this.closed.length;
  }
}
