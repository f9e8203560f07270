// The soak's independent checker: holds what the clients saw (soak/record.ts) against what the
// database says (soak/truth.ts), continuously, and reports every broken invariant of DESIGN.md.
// It imports nothing from server/ or shared/: it knows the tables and the contract, not the code.
import { capacityOf, checkGroups, checkInactiveOverdue, checkInactiveRelease, checkQueue, type PolicyContext } from './policy-checks';
import type { Conn, Gaps, OpLog } from './record';
import { denialKey, type Snapshot, type Truth } from './truth';

/** End reasons a client must be told of; idle_timeout is the only release that needs no client. */
const TOLD = new Set(['kicked', 'ended_by_app', 'license_suspended', 'seats_reduced', 'deactivated', 'inactive', 'license_deleted']);

/** A lease learns that its seat is gone at its next renewal: this much later than a socket would. */
export const LEASE_TOLD_MS = 4000;

export interface Violation {
  check: string;
  message: string;
  op: number;
  at: number;
  licenseId?: string;
  sessionId?: string;
  tab?: number;
  /** When the release the violation is about was recorded. */
  releasedAt?: number;
}

export interface CheckerOptions {
  truth: Truth;
  log: OpLog;
  gaps: Gaps;
  /** Every conn the clients opened, in order. */
  conns: () => readonly Conn[];
  /** Denials the clients saw (`seat:denied`). */
  denialsSeen: () => ReadonlyArray<{ at: number; licenseId: string; reason: string; claims: Conn['claims'] }>;
  /** The license's idle hold, ms. */
  idleMs: (licenseId: string) => number;
  nodeTimeoutMs: number;
  /** socket.io ping interval + timeout: how long a node takes to notice a client gone silent. */
  pingMs: number;
  /** SWEEP_INTERVAL_MS and ACTIVITY_FLUSH_MS of the nodes. */
  sweepMs: number;
  activityFlushMs: number;
  /** The license's inactivity timeout, ms (undefined or null: none). */
  inactivityMs: (licenseId: string) => number | null | undefined;
  /** The nodes up now, each with its process (`life`): none is to be taken for dead. */
  liveNodes?: () => ReadonlyArray<{ id: string; life: number }>;
}

export class Checker {
  readonly violations: Violation[] = [];
  samples = 0;
  releasesChecked = 0;
  private readonly o: CheckerOptions;
  /** Once per subject and check, so one fault does not print a thousand lines. */
  private readonly reported = new Set<string>();
  /** Conns that believe they hold a seat the database does not show for them: since when. */
  private readonly missingSince = new Map<number, number>();
  /** Connection rows of sockets the clients do not know (yet): since when. */
  private readonly unknownRows = new Map<string, number>();
  private readonly releasedDone = new Set<number>();
  private readonly denialsReported = new Map<string, number>();
  private serverCutsChecked = 0;
  /** Queued clients waiting while a seat is free: since when. */
  private readonly waitingSince = new Map<string, number>();
  /** Connection rows of sockets whose client was not told `seat:granted` (yet): since when. */
  private readonly untold = new Map<number, number>();
  private readonly policy: PolicyContext;

  constructor(o: CheckerOptions) {
    this.o = o;
    this.policy = {
      violate: (v, once) => this.violate(v, once),
      overdue: (t, now) => this.overdue(t, now),
      gaps: o.gaps,
      sweepMs: o.sweepMs,
      activityFlushMs: o.activityFlushMs,
      nodeTimeoutMs: o.nodeTimeoutMs,
    };
  }

  private bySocket(): Map<string, Conn> {
    const m = new Map<string, Conn>();
    for (const c of this.o.conns()) if (c.socketId) m.set(c.socketId, c);
    return m;
  }

  private violate(v: Omit<Violation, 'op' | 'at'>, once: string): void {
    if (this.reported.has(once)) return;
    this.reported.add(once);
    this.violations.push({ ...v, op: this.o.log.op, at: Date.now() });
  }

  /** Overdue from `t`: how long since `t` the service has been up without a break. */
  private overdue(t: number, now: number): number {
    return now - this.o.gaps.clearFrom(t);
  }

  /** One sample of the seat tables: seats, counters, rows that belong together, deadlines. */
  async sample(): Promise<void> {
    const upBefore = this.o.liveNodes?.() ?? [];
    const snap = await this.o.truth.snapshot();
    this.samples++;
    const bySocket = this.bySocket();
    this.checkNodes(snap, upBefore);
    this.checkSeats(snap);
    this.checkRows(snap, bySocket);
    this.checkHolders(snap);
    checkGroups(this.policy, snap);
    checkQueue(this.policy, snap, bySocket, this.waitingSince);
    checkInactiveOverdue(this.policy, snap);
  }

  /**
   * No node that runs is taken for dead: its heartbeat row is there for as long as it is up (the
   * node writes it before it listens, and a `kill -9` marks it down first). A live node taken for
   * dead has its sockets' rows let go under them (their sessions go idle, expire on a short hold),
   * then, when it finds out, closes their links for them to resume: no fault explains that, and a
   * database outage is no excuse (the nodes come back from one together).
   */
  private checkNodes(snap: Snapshot, upBefore: ReadonlyArray<{ id: string; life: number }>): void {
    const upAfter = new Set((this.o.liveNodes?.() ?? []).map((n) => `${n.id}@${n.life}`));
    const rows = new Set(snap.nodes);
    for (const n of upBefore) {
      if (rows.has(n.id) || !upAfter.has(`${n.id}@${n.life}`)) continue;
      this.violate({ check: 'live-node-reaped', message: `node ${n.id} (pid ${n.life}) is running, but its heartbeat row is gone: another node took it for dead and let go of its sockets' rows` }, `reaped:${n.id}:${n.life}`);
    }
  }

  private checkSeats(snap: Snapshot): void {
    const held = new Map<string, number>();
    for (const s of snap.sessions) held.set(s.licenseId, (held.get(s.licenseId) ?? 0) + s.weight);
    for (const l of snap.licenses) {
      const sum = held.get(l.id) ?? 0;
      const capacity = capacityOf(l);
      if (sum > capacity) {
        const of = l.overage === 1 ? `${l.seats}` : `floor(${l.seats} seats × overage ${l.overage}) = ${capacity}`;
        this.violate({ check: 'seats-exceeded', licenseId: l.id, message: `license ${l.id} holds ${sum} seats of ${of}` }, `seats:${l.id}:${sum}:${capacity}`);
      }
      if (sum !== l.seatsInUse) {
        this.violate(
          { check: 'seats-in-use', licenseId: l.id, message: `license ${l.id}: seats_in_use is ${l.seatsInUse}, its sessions weigh ${sum}` },
          `inuse:${l.id}:${l.seatsInUse}:${sum}`,
        );
      }
      if (l.status === 'suspended' && sum > 0) {
        this.violate({ check: 'suspended-holds', licenseId: l.id, message: `suspended license ${l.id} still holds ${sum} seats` }, `susp:${l.id}:${sum}`);
      }
    }
    const idleAllowance = this.o.nodeTimeoutMs + 1000;
    for (const s of snap.sessions) {
      if (s.state !== 'idle' || s.expiresAt === null) continue;
      const late = this.overdue(s.expiresAt, snap.at);
      if (late > idleAllowance) {
        this.violate(
          { check: 'idle-overdue', licenseId: s.licenseId, sessionId: s.id, message: `idle session ${s.id} outlived its deadline by ${late} ms (allowed ${idleAllowance})` },
          `overdue:${s.id}`,
        );
      }
    }
  }

  /**
   * Connection rows and sessions agree; no socket's row outlives its socket, nor a lease's row its
   * deadline (`renew_by`, by more than a sweep and the slack of idle deadlines); a socket whose row
   * the store wrote is told `seat:granted`.
   */
  private checkRows(snap: Snapshot, bySocket: Map<string, Conn>): void {
    const sessions = new Map(snap.sessions.map((s) => [s.id, s]));
    const rowsOf = new Map<string, number>();
    for (const c of snap.connections) rowsOf.set(c.sessionId, (rowsOf.get(c.sessionId) ?? 0) + 1);
    for (const s of snap.sessions) {
      const rows = rowsOf.get(s.id) ?? 0;
      if (s.state === 'active' && rows === 0) {
        this.violate({ check: 'active-without-socket', licenseId: s.licenseId, sessionId: s.id, message: `session ${s.id} is active with no connection row: it would hold its seat for ever` }, `nosock:${s.id}`);
      }
      if (s.state === 'idle' && rows > 0) {
        this.violate({ check: 'idle-with-socket', licenseId: s.licenseId, sessionId: s.id, message: `session ${s.id} is idle with ${rows} connection rows` }, `idlesock:${s.id}`);
      }
    }
    // A closed socket's row must go: at once on a close, after the node timeout for a dead node,
    // after the ping timeout for a client gone silent.
    const allowance = this.o.nodeTimeoutMs + this.o.pingMs + 1500;
    const leaseAllowance = this.o.sweepMs + this.o.nodeTimeoutMs + 1000;
    const grantGrace = this.o.nodeTimeoutMs + 2000;
    const seen = new Set<string>();
    const untold = new Set<number>();
    for (const row of snap.connections) {
      seen.add(row.socketId);
      const session = sessions.get(row.sessionId);
      if (!session) {
        this.violate({ check: 'row-without-session', sessionId: row.sessionId, message: `connection row ${row.socketId} points to no session (${row.sessionId})` }, `orphan:${row.socketId}`);
      }
      const conn = bySocket.get(row.socketId);
      if (row.renewBy !== null) {
        // A lease: its row goes by its deadline, whoever knows of it (a POST retried after a lost
        // answer leaves a lease no client knows, which lapses like any other).
        const late = this.overdue(row.renewBy, snap.at);
        if (late > leaseAllowance) {
          this.violate(
            { check: 'lease-overdue', licenseId: conn?.licenseId, sessionId: row.sessionId, tab: conn?.tab, message: `lease row ${row.socketId} outlived its renewBy by ${late} ms (allowed ${leaseAllowance}): it holds the seat` },
            `leaselive:${row.socketId}`,
          );
        }
        if (!conn || conn.end?.kind !== 'client' || conn.end.at >= snap.at) continue;
        // Deleted (204): the row goes with the answer.
      } else if (conn && !conn.grant && !conn.end) {
        // Queued or admitted: the client hears seat:granted soon after the row is written.
        untold.add(conn.n);
        const since = this.untold.get(conn.n) ?? snap.at;
        this.untold.set(conn.n, since);
        const late = this.overdue(since, snap.at);
        if (late > grantGrace) {
          this.violate(
            {
              check: 'granted-not-told',
              licenseId: conn.licenseId,
              sessionId: row.sessionId,
              tab: conn.tab,
              message: `socket ${row.socketId} (tab ${conn.tab}${conn.queuedAt ? ', queued' : ''}) holds a connection row of session ${row.sessionId} for ${late} ms, but was not told seat:granted`,
            },
            `untold:${conn.n}`,
          );
        }
      }
      if (!conn) {
        const since = this.unknownRows.get(row.socketId) ?? snap.at;
        this.unknownRows.set(row.socketId, since);
        if (snap.at - since > 5000) {
          this.violate({ check: 'unknown-socket', sessionId: row.sessionId, message: `connection row ${row.socketId} (node ${row.nodeId}) belongs to no client socket` }, `unknown:${row.socketId}`);
        }
        continue;
      }
      if (conn.end && conn.end.at < snap.at) {
        const late = this.overdue(conn.end.at, snap.at);
        if (late > allowance) {
          this.violate(
            {
              check: 'row-outlives-socket',
              licenseId: conn.licenseId,
              sessionId: row.sessionId,
              tab: conn.tab,
              message: `the connection row of socket ${row.socketId} (node ${row.nodeId}) outlived its socket's end (${conn.end.kind}) by ${late} ms (allowed ${allowance}): it holds the seat`,
            },
            `rowlive:${row.socketId}`,
          );
        }
      }
    }
    for (const id of this.unknownRows.keys()) if (!seen.has(id)) this.unknownRows.delete(id);
    for (const n of this.untold.keys()) if (!untold.has(n)) this.untold.delete(n);
  }

  /** Every client that believes it holds a seat does, or is told it lost it within a grace. */
  private checkHolders(snap: Snapshot): void {
    const live = new Set(snap.sessions.map((s) => s.id));
    const sockets = new Set(snap.connections.map((c) => c.socketId));
    const grace = this.o.nodeTimeoutMs + 2000;
    for (const c of this.o.conns()) {
      // A lease claims its seat up to its deadline only (a renewal on the way may move it).
      if (!c.grant || c.end || c.grant.at >= snap.at || (c.lease && snap.at > c.lease.renewBy - 500)) {
        this.missingSince.delete(c.n);
        continue;
      }
      const holds = live.has(c.grant.sessionId) && c.socketId !== undefined && sockets.has(c.socketId);
      if (holds) {
        this.missingSince.delete(c.n);
        continue;
      }
      const since = this.missingSince.get(c.n) ?? snap.at;
      this.missingSince.set(c.n, since);
      const late = this.overdue(since, snap.at);
      if (late > grace + (c.lease ? LEASE_TOLD_MS : 0)) {
        const what = live.has(c.grant.sessionId) ? 'its socket has no connection row' : 'the session is gone';
        this.violate(
          {
            check: 'holder-not-told',
            licenseId: c.licenseId,
            sessionId: c.grant.sessionId,
            tab: c.tab,
            message: `tab ${c.tab} (socket ${c.socketId}) believes it holds session ${c.grant.sessionId}, but ${what} for ${late} ms and it was not told`,
          },
          `holder:${c.n}`,
        );
      }
    }
  }

  /**
   * Released seats against what their clients saw: an idle release never while a client is
   * connected nor before the idle hold has run; every other release told to every socket, with
   * its reason. Also: no granted socket cut off without a reason, and every denial a client saw is
   * in the denial log. `all` checks releases up to now (the final pass); otherwise releases older
   * than a grace, so their clients have had time to hear.
   */
  async history(all = false): Promise<void> {
    const now = Date.now();
    const grace = this.o.nodeTimeoutMs + 2000;
    const released = await this.o.truth.releasedSince(now - 120_000);
    const byRelease = new Map<string, Conn[]>();
    for (const c of this.o.conns()) {
      if (!c.grant) continue;
      const list = byRelease.get(c.grant.sessionId) ?? [];
      list.push(c);
      byRelease.set(c.grant.sessionId, list);
    }
    for (const r of released) {
      if (this.releasedDone.has(r.id)) continue;
      if (!all && this.overdue(r.at, now) < grace) continue;
      this.releasedDone.add(r.id);
      this.releasesChecked++;
      const conns = byRelease.get(r.sessionId) ?? [];
      const inactivityMs = this.o.inactivityMs(r.licenseId);
      if (r.reason === 'idle_timeout') this.checkIdleRelease(r, conns);
      else if (TOLD.has(r.reason)) this.checkToldRelease(r, conns);
      if (r.reason === 'inactive' && inactivityMs) checkInactiveRelease(this.policy, r, conns, inactivityMs);
      if (r.reason !== 'idle_timeout' && !TOLD.has(r.reason)) this.violate({ check: 'unknown-reason', licenseId: r.licenseId, sessionId: r.sessionId, message: `session ${r.sessionId} released with reason "${r.reason}"` }, `reason:${r.id}`);
    }

    const conns = this.o.conns();
    for (; this.serverCutsChecked < conns.length; this.serverCutsChecked++) {
      const c = conns[this.serverCutsChecked]!;
      if (!c.end) break;
      if (c.grant && c.end.kind === 'server') {
        this.violate(
          { check: 'cut-without-reason', licenseId: c.licenseId, sessionId: c.grant.sessionId, tab: c.tab, message: `the server disconnected granted socket ${c.socketId} (tab ${c.tab}) without session:ended` },
          `cut:${c.n}`,
        );
      }
    }
    await this.checkDenials(now - 1000);
  }

  private checkIdleRelease(r: { licenseId: string; sessionId: string; at: number }, conns: Conn[]): void {
    const idle = this.o.idleMs(r.licenseId);
    let lastGone = -Infinity;
    for (const c of conns) {
      if (c.grant!.at > r.at) continue;
      // A lease is gone at its deadline (or when deleted); it hears of the release only later.
      const endAt = c.lease ? Math.min(c.end?.at ?? Infinity, c.lease.renewBy) : c.end?.at;
      const end = endAt !== undefined && endAt <= r.at ? { at: endAt } : undefined;
      if (!end) {
        this.violate(
          {
            check: 'released-while-connected',
            licenseId: r.licenseId,
            sessionId: r.sessionId,
            tab: c.tab,
            releasedAt: r.at,
            message: `session ${r.sessionId} was released for idle_timeout while tab ${c.tab} (socket ${c.socketId}) was connected`,
          },
          `relconn:${r.sessionId}`,
        );
        return;
      }
      lastGone = Math.max(lastGone, end.at);
    }
    // The hold runs from the moment the last socket went; a second covers the server noticing first.
    const early = lastGone + idle - 1000 - r.at;
    if (early > 0) {
      this.violate(
        {
          check: 'released-early',
          licenseId: r.licenseId,
          sessionId: r.sessionId,
          releasedAt: r.at,
          message: `session ${r.sessionId} was released ${Math.round(lastGone + idle - r.at)} ms before its ${idle} ms idle hold ran out after its last socket went`,
        },
        `early:${r.sessionId}`,
      );
    }
  }

  private checkToldRelease(r: { licenseId: string; sessionId: string; reason: string; at: number }, conns: Conn[]): void {
    for (const c of conns) {
      if (c.grant!.at > r.at || (c.end && c.end.at < r.at && c.end.kind !== 'ended')) continue;
      if (c.end?.kind === 'ended' && c.end.reason !== r.reason) {
        this.violate(
          { check: 'told-wrong-reason', licenseId: r.licenseId, sessionId: r.sessionId, tab: c.tab, message: `tab ${c.tab} was told "${c.end.reason}" but session ${r.sessionId} was released for "${r.reason}"` },
          `wrong:${c.n}`,
        );
      }
    }
  }

  /** Every denial a client saw has its row in the denial log (rows up to `until` are all committed). */
  private async checkDenials(until: number): Promise<void> {
    const seen = new Map<string, number>();
    for (const d of this.o.denialsSeen()) {
      if (d.at > until) continue;
      const key = denialKey({ licenseId: d.licenseId, reason: d.reason, sessionRef: d.claims.sid, userId: d.claims.sub, deviceId: d.claims.dev, instanceId: d.claims.ins });
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    const logged = await this.o.truth.denialCounts(until);
    for (const [key, n] of seen) {
      const m = logged.get(key) ?? 0;
      if (n > m && (this.denialsReported.get(key) ?? 0) < n) {
        this.denialsReported.set(key, n);
        const [licenseId, reason] = key.split('|');
        this.violations.push({ check: 'denial-not-logged', licenseId, op: this.o.log.op, at: Date.now(), message: `clients saw ${n} "${reason}" denials for ${key}, the denial log has ${m}` });
      }
    }
  }

  /** At the end, with every client gone and every hold run out: no seat is left held. */
  async leftovers(): Promise<void> {
    const snap = await this.o.truth.snapshot();
    for (const l of snap.licenses) {
      if (l.seatsInUse !== 0) this.violate({ check: 'seat-leaked', licenseId: l.id, message: `license ${l.id} still counts ${l.seatsInUse} seats in use after every client left` }, `leak:${l.id}`);
    }
    for (const s of snap.sessions) {
      this.violate({ check: 'session-leaked', licenseId: s.licenseId, sessionId: s.id, message: `session ${s.id} (${s.state}, expires ${s.expiresAt}) is still live after every client left` }, `leaks:${s.id}`);
    }
  }
}
