// The writes and reads inside a transaction that the ledger, license changes and node liveness
// share: release a session, idle the sessions a connection left, count seats, log seat events.
// Each runs under the license's lock, taken by its caller.
import { randomFillSync } from 'node:crypto';
import type { Insertable } from 'kysely';
import { v7 } from 'uuid';
import { type EndReason, SeatEventType, SessionState } from '../../shared';
import { type ActivationDecision, decideActivation } from '../seats/decisions/activation';
import { type AdmitRequest, type Claimant, claimantIds, type Denial, type DetachOutcome, type EndedSession, type License, type Session } from '../seats/types';
import { type HotQueries, idleSessions } from './queries';
import { serveQueue } from './queue';
import { type ConnectionFacts, toSession } from './rows';
import type { SeatEventsTable } from './schema';
import type { Db } from './store-dialect';

/** Lists of ids go to `in (…)` at most this many at a time (SQLite caps a statement's parameters). */
const CHUNK = 500;

export function chunked<T>(list: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/**
 * The one writer of the license row's seat counter, on every session insert and delete (under
 * the license's lock). Returns the count it leaves: nothing reads it again after.
 */
export async function addSeats(q: HotQueries, trx: Db, licenseId: string, delta: number): Promise<number> {
  const [row] = (await q.addSeats(trx, { licenseId, delta })).rows;
  if (!row) throw new Error(`no license ${licenseId} to count seats on`);
  return Number(row.seats_in_use);
}

export async function insertEvent(q: HotQueries, trx: Db, event: Insertable<SeatEventsTable>): Promise<void> {
  await q.insertEvent(trx, event);
}

export async function insertConnection(q: HotQueries, trx: Db, req: AdmitRequest, sessionId: string): Promise<void> {
  await q.insertConnection(trx, {
    socket_id: req.socketId,
    session_id: sessionId,
    license_id: req.licenseId,
    node_id: req.nodeId,
    app: req.claimant.app,
    connected_at: req.now,
    renew_by: req.renewBy ?? null,
  });
}

/** Seats held per group (`grp`) of the license's live sessions, idle ones included. */
export async function heldByGroup(q: HotQueries, trx: Db, licenseId: string): Promise<Map<string, number>> {
  const { rows } = await q.heldByGroup(trx, { licenseId });
  return new Map(rows.map((r) => [r.grp!, Number(r.held)]));
}

/**
 * The claimant's activation decision (activation.ts), under the license's lock: the license's
 * activated devices are read only where it limits them (else every device is let through, and
 * recorded on its grant). An admission and a queued claimant's turn both decide by it.
 */
export async function activationOf(q: HotQueries, trx: Db, license: License, claimant: Claimant): Promise<ActivationDecision> {
  if (license.maxActivations === null || claimant.deviceId === null) return decideActivation({ license, claimant, activated: false, activatedCount: 0 });
  const [counts] = (await q.activationsOf(trx, { licenseId: license.id, deviceId: claimant.deviceId })).rows;
  return decideActivation({ license, claimant, activated: Number(counts?.mine ?? 0) === 1, activatedCount: Number(counts?.n ?? 0) });
}

/** The denial and its seat event; `weight` is what the claimant asked for. */
export async function insertDenial(q: HotQueries, trx: Db, denial: Denial, weight: number, seatsInUse: number): Promise<void> {
  await trx
    .insertInto('denials')
    .values({
      license_id: denial.licenseId,
      at: denial.at,
      reason: denial.reason,
      session_ref: denial.sessionRef,
      user_id: denial.userId,
      device_id: denial.deviceId,
      instance_id: denial.instanceId,
    })
    .execute();
  await insertEvent(q, trx, {
    license_id: denial.licenseId,
    session_id: null,
    type: SeatEventType.Denied,
    reason: denial.reason,
    weight,
    seats_in_use: seatsInUse,
    at: denial.at,
  });
}

/**
 * Deletes the session and its connections and gives back its seats; returns the seats the
 * license holds after it, or undefined when the session was already gone.
 */
export async function releaseSession(q: HotQueries, trx: Db, session: Session, reason: EndReason, now: number): Promise<number | undefined> {
  await q.deleteSessionSockets(trx, { sessionId: session.id });
  const gone = await q.deleteSession(trx, { id: session.id });
  if (Number(gone.numAffectedRows ?? 0) === 0) return undefined;
  const seatsInUse = await addSeats(q, trx, session.licenseId, -session.weight);
  await insertEvent(q, trx, {
    license_id: session.licenseId,
    session_id: session.id,
    type: SeatEventType.Released,
    reason,
    weight: session.weight,
    seats_in_use: seatsInUse,
    at: now,
  });
  // The freed seat goes to the license's queue before anyone else can take it (queue.ts).
  const served = await serveQueue(q, trx, session.licenseId, now);
  return served.length > 0 ? served[served.length - 1]!.seatsInUse : seatsInUse;
}

/** Random bytes for session ids, drawn from the CSPRNG 4 KiB (256 ids) at a time. */
const entropy = { pool: new Uint8Array(4096), at: 4096 };
/** The last id's millisecond and counter: ids made in the same millisecond count up from a random start. */
const last = { msecs: -Infinity, seq: 0 };

/**
 * A UUIDv7, in the order they are made (RFC 9562's counter within a millisecond, as `v7()` keeps
 * it). `v7()` alone asks the CSPRNG for 16 bytes on every call, which a ramp's profile put at about
 * a third of starting a session's CPU; node:crypto's `randomUUID` pools its bytes the same way.
 */
export function timeOrderedId(): string {
  if (entropy.at === entropy.pool.length) {
    randomFillSync(entropy.pool);
    entropy.at = 0;
  }
  const random = entropy.pool.subarray(entropy.at, (entropy.at += 16));
  const now = Date.now();
  if (now > last.msecs) {
    last.msecs = now;
    last.seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
  } else {
    last.seq = (last.seq + 1) | 0;
    // The counter ran over: borrow the next millisecond, as `v7()` does.
    if (last.seq === 0) last.msecs += 1;
  }
  return v7({ random, msecs: last.msecs, seq: last.seq });
}

/**
 * The session a grant starts for the claimant's seat key: active, its first connection a socket
 * (or a lease when `req.renewBy` is set), with offline grace's receipt expiry when the license has it.
 * Its id is a UUIDv7: ids in the order sessions start, so each new one lands on the last page of
 * every index keyed by it (the sessions' ids, the connections' session ids) instead of a random
 * page. With SQLite that is a third fewer bytes written per grant (README, Performance).
 */
export function newSession(license: License, req: AdmitRequest, seatKeyValue: string, id: string = timeOrderedId()): Session {
  const { claimant, now } = req;
  const lease = req.renewBy !== undefined;
  return {
    id,
    licenseId: license.id,
    seatKeyValue,
    ...claimantIds(claimant),
    group: claimant.group ?? null,
    app: claimant.app,
    name: claimant.name,
    weight: claimant.weight,
    state: SessionState.Active,
    startedAt: now,
    idleSince: null,
    expiresAt: null,
    sockets: lease ? 0 : 1,
    leases: lease ? 1 : 0,
    lastActivityAt: now,
    warnedAt: null,
    receiptUntil: license.offlineGraceSec > 0 ? now + license.offlineGraceSec * 1000 : null,
    apps: claimant.app ? [claimant.app] : [],
  };
}

/**
 * A new session for the claimant's seat key with its first connection, its seats counted and its
 * `granted` event, under the license's lock: an admission's grant, or the queue's.
 */
export async function startSession(q: HotQueries, trx: Db, license: License, req: AdmitRequest, seatKeyValue: string): Promise<{ session: Session; seatsInUse: number }> {
  const { claimant, now } = req;
  const session = newSession(license, req, seatKeyValue);
  await q.insertSession(trx, {
    id: session.id,
    license_id: license.id,
    seat_key_value: seatKeyValue,
    session_ref: session.sessionRef,
    user_id: session.userId,
    device_id: session.deviceId,
    instance_id: session.instanceId,
    app: session.app,
    name: session.name,
    weight: session.weight,
    state: session.state,
    started_at: now,
    idle_since: null,
    expires_at: null,
    last_activity_at: now,
    warned_at: null,
    receipt_until: session.receiptUntil,
    grp: session.group,
  });
  const seatsInUse = await addSeats(q, trx, license.id, claimant.weight);
  await insertConnection(q, trx, req, session.id);
  await insertEvent(q, trx, { license_id: license.id, session_id: session.id, type: SeatEventType.Granted, reason: null, weight: claimant.weight, seats_in_use: seatsInUse, at: now });
  return { session, seatsInUse };
}

/**
 * Releases many sessions of one license at once (idle seats falling due together): set-based, a
 * few statements per 500 sessions instead of several per session, then the queue is served once.
 * Each ending carries the seats the license held after it, in the order of `sessions`.
 */
export async function releaseSessions(q: HotQueries, trx: Db, license: License, sessions: readonly Session[], reason: EndReason, now: number): Promise<EndedSession[]> {
  const ended: EndedSession[] = [];
  for (const chunk of chunked(sessions)) {
    const ids = chunk.map((s) => s.id);
    await trx.deleteFrom('connections').where('session_id', 'in', ids).execute();
    const gone = new Set((await trx.deleteFrom('sessions').where('id', 'in', ids).returning('id').execute()).map((r) => r.id));
    const released = chunk.filter((s) => gone.has(s.id));
    if (released.length === 0) continue;
    const total = released.reduce((n, s) => n + s.weight, 0);
    let held = (await addSeats(q, trx, license.id, -total)) + total;
    const events: Array<Insertable<SeatEventsTable>> = [];
    for (const session of released) {
      held -= session.weight;
      events.push({ license_id: license.id, session_id: session.id, type: SeatEventType.Released, reason, weight: session.weight, seats_in_use: held, at: now });
      ended.push({ license: { ...license, seatsInUse: held }, session, reason, seatsInUse: held });
    }
    await trx.insertInto('seat_events').values(events).execute();
  }
  // The freed seats go to the license's queue before anyone else can take them (queue.ts).
  if (ended.length > 0) await serveQueue(q, trx, license.id, now);
  return ended;
}

/** Up to this many sessions idle one by one when statements cost no round trip (`oneByOne`). */
const FEW = 16;

/**
 * Sessions among `sessionIds` left with no connection go idle, with a durable deadline. With
 * `oneByOne` (SQLite), a few go through the prepared one-session statements, each: a mass close's
 * detaches share a transaction but seldom a millisecond, and building the set-based statements
 * for every such group cost more than running them (a script closing 10,000 sockets five a turn:
 * 165–203 µs of CPU per detach that way, 99–117 µs this way).
 */
export async function idleOrphans(q: HotQueries, trx: Db, license: License, sessionIds: string[], now: number, oneByOne = false): Promise<DetachOutcome[]> {
  const outcomes: DetachOutcome[] = [];
  const expiresAt = now + license.idleTimeoutSec * 1000;
  // Going idle changes no seat count.
  const { seatsInUse } = license;
  const event = (r: { id: string; weight: number }) => ({
    license_id: license.id,
    session_id: r.id,
    type: SeatEventType.Idle,
    reason: null,
    weight: r.weight,
    seats_in_use: seatsInUse,
    at: now,
  });
  if (sessionIds.length === 1 || (oneByOne && sessionIds.length <= FEW)) {
    for (const id of sessionIds) {
      const [row] = (await q.idleSession(trx, { id, now, expiresAt })).rows;
      if (!row) continue;
      await insertEvent(q, trx, event(row));
      outcomes.push({ license, session: toSession(row, []), seatsInUse });
    }
    return outcomes;
  }
  // Set-based, in chunks: a restart or a dead node idles thousands of sessions at once.
  for (const chunk of chunked(sessionIds)) {
    const idled = await idleSessions(trx, chunk, now, expiresAt).execute();
    if (idled.length === 0) continue;
    await trx.insertInto('seat_events').values(idled.map(event)).execute();
    for (const row of idled) outcomes.push({ license, session: toSession(row, []), seatsInUse });
  }
  return outcomes;
}

export async function loadSession(q: HotQueries, db: Db, id: string): Promise<Session | undefined> {
  const [row] = (await q.sessionById(db, { id })).rows;
  if (!row) return undefined;
  const { rows: conns } = await q.appsOfSession(db, { sessionId: id });
  return toSession(row, conns);
}

/**
 * The live sessions of these licenses with their connections, in the order of `licenseIds`,
 * each license's sessions by start (then id), oldest or newest first. One query for the
 * sessions and one for their connections (per 500 licenses).
 */
export async function sessionsOf(db: Db, licenseIds: readonly string[], order: 'oldest-first' | 'newest-first'): Promise<Session[]> {
  const dir = order === 'oldest-first' ? 'asc' : 'desc';
  const byLicense = new Map<string, Session[]>(licenseIds.map((id) => [id, []]));
  for (const ids of chunked([...byLicense.keys()])) {
    const rows = await db
      .selectFrom('sessions')
      .selectAll()
      .where('license_id', 'in', ids)
      .orderBy('started_at', dir)
      .orderBy('id', dir)
      .execute();
    if (rows.length === 0) continue;
    const conns = await db
      .selectFrom('connections')
      .select(['session_id', 'app', 'renew_by'])
      .where('license_id', 'in', ids)
      .execute();
    const bySession = new Map<string, ConnectionFacts[]>();
    for (const c of conns) {
      const list = bySession.get(c.session_id) ?? [];
      list.push(c);
      bySession.set(c.session_id, list);
    }
    for (const r of rows) byLicense.get(r.license_id)!.push(toSession(r, bySession.get(r.id) ?? []));
  }
  return [...byLicense.values()].flat();
}
