// The checker's invariants of the policies (docs/contract.md: "The queue", "Overage,
// reservations and group limits", "Inactivity release", "HTTP leases"), on one snapshot of the
// tables or on one release. Like the rest of the checker, it knows the tables and the contract,
// not the server's code: nothing here imports server/ or shared/.
import type { Conn, Gaps } from './record';
import type { LicenseRow, Snapshot } from './truth';

export interface PolicyContext {
  violate(v: { check: string; message: string; licenseId?: string; sessionId?: string; tab?: number; releasedAt?: number }, once: string): void;
  /** How long since `t` the service has been up without a break. */
  overdue(t: number, now: number): number;
  gaps: Gaps;
  sweepMs: number;
  activityFlushMs: number;
  nodeTimeoutMs: number;
}

/** `floor(seats × overage)`, with a hair of tolerance (3 × 1.1 is 3.3000000000000003). */
export const capacityOf = (l: LicenseRow) => Math.floor(l.seats * l.overage + 1e-9);

/**
 * Group limits and reservations (those without a window: the soak's are always on, and its
 * seats and limits never change, so what a group held before a change never needs excusing):
 * a group never holds more than its limit, and the seats reserved for a group and not used by it
 * stay free, so the total held plus every reservation's unused part fits in the capacity.
 */
export function checkGroups(ctx: PolicyContext, snap: Snapshot): void {
  for (const l of snap.licenses) {
    if (!l.groupLimits.length && !l.reservations.length) continue;
    const byGroup = new Map<string, number>();
    let total = 0;
    for (const s of snap.sessions) {
      if (s.licenseId !== l.id) continue;
      total += s.weight;
      if (s.group !== null) byGroup.set(s.group, (byGroup.get(s.group) ?? 0) + s.weight);
    }
    for (const g of l.groupLimits) {
      const held = byGroup.get(g.group) ?? 0;
      if (held > g.max) {
        ctx.violate({ check: 'group-limit-exceeded', licenseId: l.id, message: `group "${g.group}" holds ${held} seats of license ${l.id}, its limit is ${g.max}` }, `grp:${l.id}:${g.group}:${held}`);
      }
    }
    const reserved = new Map<string, number>();
    for (const r of l.reservations) if (!r.window) reserved.set(r.group, (reserved.get(r.group) ?? 0) + r.seats);
    let unused = 0;
    for (const [g, seats] of reserved) unused += Math.max(0, seats - (byGroup.get(g) ?? 0));
    if (unused > 0 && total + unused > capacityOf(l)) {
      const what = [...reserved].map(([g, seats]) => `"${g}" holds ${byGroup.get(g) ?? 0} of its ${seats} reserved`).join(', ');
      ctx.violate(
        { check: 'reservation-eaten', licenseId: l.id, message: `license ${l.id} holds ${total} of ${capacityOf(l)} seats while ${what}: others took ${total + unused - capacityOf(l)} reserved seat(s)` },
        `res:${l.id}:${total}:${unused}`,
      );
    }
  }
}

/**
 * The queue: a queued socket holds no connection row (its entry and a row for the same socket in
 * one snapshot), and a license with free seats does not leave a connected client waiting (the
 * transaction that frees a seat serves the queue; each node's backstop every 5 s catches what a
 * crash lost). `waitingSince` remembers since when each entry waited with a seat free.
 */
export function checkQueue(ctx: PolicyContext, snap: Snapshot, bySocket: Map<string, Conn>, waitingSince: Map<string, number>): void {
  const rows = new Set(snap.connections.map((c) => c.socketId));
  const licenses = new Map(snap.licenses.map((l) => [l.id, l]));
  const held = new Map<string, number>();
  for (const s of snap.sessions) held.set(s.licenseId, (held.get(s.licenseId) ?? 0) + s.weight);
  const seen = new Set<string>();
  for (const q of snap.queue) {
    if (rows.has(q.socketId)) {
      ctx.violate({ check: 'queued-holds-row', licenseId: q.licenseId, message: `socket ${q.socketId} is in the queue of ${q.licenseId} and holds a connection row at once` }, `qrow:${q.socketId}`);
    }
    const l = licenses.get(q.licenseId);
    const conn = bySocket.get(q.socketId);
    // Only an entry whose client is connected and waits; a left entry keeps a place, not a claim.
    if (!l || l.status !== 'active' || q.leftAt !== null || !conn || conn.end || conn.grant || conn.queuedAt === undefined) continue;
    const weight = conn.claims.weight ?? 1;
    if (capacityOf(l) - (held.get(l.id) ?? 0) < weight) continue;
    seen.add(q.socketId);
    const since = waitingSince.get(q.socketId) ?? snap.at;
    waitingSince.set(q.socketId, since);
    const late = ctx.overdue(since, snap.at);
    const allowance = 5000 + ctx.nodeTimeoutMs + 2000;
    if (late > allowance) {
      ctx.violate(
        {
          check: 'queue-not-served',
          licenseId: l.id,
          tab: conn.tab,
          message: `tab ${conn.tab} (socket ${q.socketId}) waits in the queue of ${l.id} while ${capacityOf(l) - (held.get(l.id) ?? 0)} seat(s) are free, for ${late} ms (allowed ${allowance})`,
        },
        `qwait:${q.socketId}`,
      );
    }
  }
  for (const id of waitingSince.keys()) if (!seen.has(id)) waitingSince.delete(id);
}

/**
 * Inactivity, late: an active session of a license with an inactivity timeout is released by
 * `lastActivityAt + timeout`, plus one activity flush (the release waits it), a sweep, and the
 * slack a loaded node needs (as for idle deadlines: the node timeout plus a second). The slack
 * also covers the release waiting for every live node's heartbeat to say its activity is on
 * record past the deadline: a heartbeat, or, for a node that died, until it is taken for dead.
 * No seat goes unwarned (docs/contract.md): one whose warning went out only at or past that time
 * is due the warning's length after it went out, and one not warned yet the warning's length
 * after the deadline at the earliest.
 */
export function checkInactiveOverdue(ctx: PolicyContext, snap: Snapshot): void {
  const licenses = new Map(snap.licenses.map((l) => [l.id, l]));
  const allowance = ctx.activityFlushMs + ctx.sweepMs + ctx.nodeTimeoutMs + 1000;
  for (const s of snap.sessions) {
    const license = licenses.get(s.licenseId);
    const timeout = license?.inactivityTimeoutSec;
    if (s.state !== 'active' || !license || timeout === null || timeout === undefined) continue;
    const deadline = (s.lastActivityAt ?? s.startedAt) + timeout * 1000;
    const warningMs = license.inactivityWarningSec * 1000;
    const due = warningMs === 0 ? deadline : s.warnedAt === null ? deadline + warningMs : s.warnedAt >= deadline ? s.warnedAt + warningMs : deadline;
    const late = ctx.overdue(due, snap.at);
    if (late > allowance) {
      ctx.violate(
        { check: 'inactive-overdue', licenseId: s.licenseId, sessionId: s.id, message: `session ${s.id} had no activity for ${timeout} s, and was still held ${late} ms past its release (allowed ${allowance})` },
        `inact:${s.id}:${due}`,
      );
    }
  }
}

/**
 * Inactivity, early: a session released `inactive` had no activity within its timeout. What the
 * server certainly heard: a connect (no later than the socket's open), and each `session:activity`
 * the client sent (the server counts one a second per socket, so a sent one means one counted
 * within the second before). Activity sent to a node that died before writing it, or while the
 * database was away, may be lost, and is not counted.
 */
export function checkInactiveRelease(ctx: PolicyContext, r: { licenseId: string; sessionId: string; at: number }, conns: Conn[], timeoutMs: number): void {
  const lossMs = ctx.activityFlushMs + 1000;
  let last = -Infinity;
  let by: Conn | undefined;
  for (const c of conns) {
    if (c.grant!.at > r.at + 1000) continue;
    if (c.openedAt > last && c.openedAt <= r.at) [last, by] = [c.openedAt, c];
    for (const t of c.activity ?? []) {
      if (t > r.at) continue;
      const died = c.end?.kind === 'transport' && c.end.at - t < lossMs;
      if (died || ctx.gaps.near(t, lossMs)) continue;
      if (t - 1000 > last) [last, by] = [t - 1000, c];
    }
  }
  // A quarter second for the clocks of two processes on one machine.
  const early = last + timeoutMs - 250 - r.at;
  if (by && early > 0) {
    ctx.violate(
      {
        check: 'inactive-early',
        licenseId: r.licenseId,
        sessionId: r.sessionId,
        tab: by.tab,
        releasedAt: r.at,
        message: `session ${r.sessionId} was released "inactive" ${early + 250} ms before its ${timeoutMs} ms without activity had passed (tab ${by.tab} was active at ${new Date(last).toISOString()})`,
      },
      `inearly:${r.sessionId}`,
    );
  }
}
