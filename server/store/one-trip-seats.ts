// PostgreSQL's hot seat moves in one round trip each (the functions of migration 2026-11-26T20):
// an admission, a socket leaving, idle seats falling due, a session ended. The license row's lock
// is held for the function's statements only, so one license serves thousands of admissions a
// second across nodes.
//
// The decision stays here, a pure function of what was read: an admission is decided on the
// license's settings as this node last read them, and the function checks their revision under
// the lock. Where it moved, or the claim needs more than a seat count to decide (groups,
// activation limits, a kick's cool-down, a seat past its deadline, a claimant joining the queue),
// it changes nothing and the caller runs the full transaction (seat-ledger.ts), which reads
// everything under the lock and refreshes what this node knows of the license.
import type { Selectable } from 'kysely';
import type pgModule from 'pg';
import { type EndReason, LicenseStatus } from '../../shared';
import { decideActivation } from '../seats/decisions/activation';
import { decideAdmission } from '../seats/decisions/admission';
import { seatKeyValue } from '../seats/decisions/seat-key';
import { decideSeat, fitBound } from '../seats/decisions/seat-pool';
import { OTHER_TENANT } from '../seats/seat-store';
import { type AdmitOutcome, type AdmitRequest, claimantIds, type Denial, type DetachOutcome, type EndedSession, type License } from '../seats/types';
import type { PgThread } from './pg-thread';
import { type ConnectionFacts, toLicense, toSession } from './rows';
import { newSession } from './seat-moves';
import type { LicensesTable, SessionsTable } from './schema';

/** What the full transaction must do instead: nothing was changed. */
export const FULL = Symbol('full transaction');

/** At most this many licenses' settings are kept; past it the first kept is forgotten. */
const KEPT = 10_000;

/**
 * A function's call, run on the pool as a named prepared statement: each connection parses and
 * plans it once, then sends only its values. Through Kysely each call sent an unnamed statement,
 * parsed and planned every time: 6–12 % more per call, one at a time, on the 2-core Xeon (calls of
 * both ways alternating in one process; README, Performance). The name is the function's: one
 * statement per function and connection.
 */
interface OneTripCall {
  name: string;
  sql: string;
}

const call = (fn: string, args: string): OneTripCall => ({ name: fn, sql: `select ${fn}(${args}) as r` });

const ADMIT = call('seat_admit', Array.from({ length: 20 }, (_, i) => `$${i + 1}`).join(', '));
/** Several admissions of one license in one call (migration 2026-11-28T00): `seat_admit`'s arguments per claim. */
const ADMIT_MANY = call('seat_admit_many', '$1::jsonb');
/**
 * A socket leaving (`seat_detach_known`, migration 2026-11-29T14): the license in its answer is its
 * count alone where this node sent the license's revision it has and the row is still at it.
 */
const DETACH = call('seat_detach_known', '$1, $2, $3, $4');
/**
 * Several sockets of one license leaving, in one call (migration 2026-11-28T00), answered with the
 * license once (`seat_detach_set`, migration 2026-11-28T05).
 */
const DETACH_SET = call('seat_detach_set', '$1, $2::text[], $3::bigint[]');
/** At most this many admissions go in one call (each decided by its own `seat_admit`); the rest wait for the next. */
const MANY_MAX = 64;
/**
 * At most this many sockets leaving go in one call: the last sockets of live sessions go in one
 * statement (migration 2026-11-28T02), so a mass disconnect's go in a few calls.
 */
const DETACH_MANY_MAX = 1000;
/** Idle seats falling due (`seat_expire_known`, migration 2026-11-29T14: answered as a detach is). */
const EXPIRE = call('seat_expire_known', '$1, $2, $3, $4');
/**
 * How long after sockets last left through the thread the release passes go through it too: the
 * loop goes on closing their connections after the last detach (0.4–0.9 s for 10,000 here).
 */
const BUSY_MS = 2_000;
const END = call('seat_end', '$1, $2, $3, $4');
/** A tenant admin's kick: `seat_end` of a session of the tenant's licenses only (migration 2026-11-30T00). */
const END_OF_TENANT = call('seat_end_of_tenant', '$1, $2, $3, $4, $5');

type SessionRow = Selectable<SessionsTable>;
/** A license in a function's answer: its row, or its count alone where the caller had it at that revision. */
type LicenseReply = Selectable<LicensesTable> | { id: string; revision: number; seats_in_use: number; known: true };
/** The settings of a license this node has, with their revision. */
interface Known {
  revision: number;
  license: License;
}
type DetachReply = { license: LicenseReply; session: SessionRow; conns: ConnectionFacts[] } | { kind: 'elsewhere' } | null;
/** A socket of `seat_detach_set`'s set-based statement: its session went idle, no connection left. */
type SetReply = { session: SessionRow };
type AdmitReply =
  | { kind: 'stale' }
  | { kind: 'granted'; before: number; seats: number }
  | { kind: 'resumed'; seats: number; session: SessionRow; warned: boolean; conns: ConnectionFacts[] }
  | { kind: 'denied'; seats: number };

export class OneTripSeats {
  /** The settings this node last read of each license, with their revision. */
  private readonly known = new Map<string, Known>();
  private readonly admissions: Gathered<unknown[], AdmitReply>;
  /** A socket leaving, with the license it was admitted to as this node has it (if it does). */
  private readonly detaches: Gathered<[socketId: string, now: number, known?: Known], DetachReply>;

  /** A function's reply (its one column of its one row): on the loop's connections, else through the thread. */
  private readonly reply: <R>(query: OneTripCall, parameters: readonly unknown[], onThread?: boolean) => Promise<R>;

  /**
   * The moves a mass disconnect makes, sockets leaving and idle seats released, go through the
   * thread (pg-thread.ts) while it is under way, so that the leaving sockets' own callbacks take
   * their answers at once: the sockets of a license leaving faster than the loop's round trip, or
   * of many licenses at once (`Gathered`), and the release passes while such a call was sent in
   * the last `BUSY_MS`. The rest stays on the loop's connections: a call through the thread wakes
   * two sleeping threads, 0.1–0.2 ms of CPU on a node that is not busy, and nothing pumps in a
   * storm of connects. Should the thread fail, everything goes on the loop.
   */
  constructor(pool: pgModule.Pool, thread?: PgThread) {
    const onLoop = async <R>(query: OneTripCall, parameters: readonly unknown[]) =>
      (await pool.query<[R]>({ name: query.name, text: query.sql, values: parameters as unknown[], rowMode: 'array' })).rows[0]![0];
    const reply = (this.reply = async <R>(query: OneTripCall, parameters: readonly unknown[], onThread = false) => {
      if (!onThread || !thread?.usable) return onLoop<R>(query, parameters);
      const text = await thread.call(query.sql, parameters, query.name);
      return (typeof text === 'string' ? JSON.parse(text) : null) as R;
    });
    this.admissions = new Gathered(
      (params) => reply<AdmitReply>(ADMIT, params),
      (_licenseId, claims) => reply<AdmitReply[]>(ADMIT_MANY, [JSON.stringify(claims)]),
    );
    this.detaches = new Gathered(
      ([socketId, now, known], onThread) => reply<DetachReply>(DETACH, [socketId, now, known?.license.id ?? null, known?.revision ?? null], onThread),
      async (licenseId, moves, onThread) => {
        const set = await reply<{ license: Selectable<LicensesTable>; replies: Array<DetachReply | SetReply> }>(
          DETACH_SET,
          [licenseId, moves.map(([socketId]) => socketId), moves.map(([, now]) => now)],
          onThread,
        );
        // Each socket that ran `seat_detach` alone there was answered with the license's whole row.
        return set.replies.map((r) => (r && 'session' in r && !('license' in r) ? { license: set.license, session: r.session, conns: [] } : (r as DetachReply)));
      },
      { most: DETACH_MANY_MAX, thread: () => thread?.usable === true },
    );
  }

  /**
   * Keeps what a transaction read of a license (under its lock, or from a function's reply), and
   * returns it as a License. Settings of a revision already known are not parsed again.
   */
  remember(row: Selectable<LicensesTable>): License;
  /** `sent`: the license's settings this node sent the call with; a count alone is theirs (`LicenseReply`). */
  remember(row: LicenseReply, sent: Known | undefined): License;
  remember(row: LicenseReply, sent?: Known): License {
    const revision = Number(row.revision);
    if ('known' in row) {
      // The function answers so only for the license and revision it was sent.
      if (sent?.revision !== revision || sent.license.id !== row.id) throw new Error(`a count alone for license ${row.id} at revision ${revision}, which this call did not send`);
      return { ...sent.license, seatsInUse: Number(row.seats_in_use) };
    }
    const known = this.known.get(row.id);
    if (known?.revision === revision) return { ...known.license, seatsInUse: Number(row.seats_in_use) };
    if (!known && this.known.size >= KEPT) this.known.delete(this.known.keys().next().value!);
    const license = toLicense(row);
    this.known.set(row.id, { revision, license });
    return license;
  }

  async admit(req: AdmitRequest): Promise<AdmitOutcome | typeof FULL> {
    const known = this.known.get(req.licenseId);
    if (!known) return FULL;
    const { license, revision } = known;
    const { claimant, now } = req;
    // Counting activations needs their rows read; a suspended license's refusal is the full path's.
    if (license.status !== LicenseStatus.Active || license.maxActivations !== null) return FULL;
    const bound = fitBound(license, claimant.weight);
    const key = seatKeyValue(license.seatKey, claimant);
    if (bound === null || 'missing' in key) return FULL;
    const activation = decideActivation({ license, claimant, activated: false, activatedCount: 0 });
    // Past the bound nothing fits; the refusal is recorded here unless the claimant joins the queue.
    const over = decideSeat(license, { weight: claimant.weight, group: claimant.group ?? null }, { total: bound + 1, byGroup: new Map() }, now);
    const deny = (req.queue && license.queue) || over.kind !== 'deny' ? null : over.reason;
    const session = newSession(license, req, key.value);
    const ids = claimantIds(claimant);
    const reply = await this.admissions.call(license.id, [
      license.id, revision, key.value, bound, claimant.weight, now, session.receiptUntil, session.id,
      ids.sessionRef, ids.userId, ids.deviceId, ids.instanceId, claimant.app, claimant.name, session.group,
      req.socketId, req.nodeId, req.renewBy ?? null, activation.kind === 'none' ? null : claimant.deviceId, deny,
    ]);
    switch (reply.kind) {
      case 'stale':
        return FULL;
      case 'granted': {
        // The decision itself, on the count the function found: the bound only guarded it.
        const decided = decideAdmission({ license: { ...license, seatsInUse: reply.before }, claimant, own: undefined, stale: [], cooldownUntil: null, now });
        const at = { ...license, seatsInUse: reply.seats };
        return { kind: 'granted', resumed: false, license: at, session, seatsInUse: reply.seats, expired: [], overage: decided.kind === 'grant' && decided.overage };
      }
      case 'resumed': {
        const at = { ...license, seatsInUse: reply.seats };
        const resumed = toSession(reply.session, reply.conns);
        return { kind: 'granted', resumed: true, license: at, session: resumed, seatsInUse: reply.seats, expired: [], warningCleared: reply.warned, overage: false };
      }
      case 'denied': {
        const denial: Denial = { licenseId: license.id, at: now, reason: deny!, ...ids };
        return { kind: 'denied', license: { ...license, seatsInUse: reply.seats }, denial, seatsInUse: reply.seats, expired: [] };
      }
    }
  }

  /**
   * Undefined when the socket held nothing. `licenseId`, the license the socket was admitted to,
   * lets sockets of one license leaving together go in one call; without it the socket goes alone.
   */
  async detach(socketId: string, now: number, licenseId?: string): Promise<DetachOutcome | undefined> {
    const known = licenseId === undefined ? undefined : this.known.get(licenseId);
    let reply = await (licenseId === undefined ? this.detaches.alone([socketId, now], false) : this.detaches.call(licenseId, [socketId, now, known]));
    // The socket's connection is on another license than the one given: it goes alone.
    if (reply && 'kind' in reply) reply = await this.detaches.alone([socketId, now], false);
    if (!reply || 'kind' in reply) return undefined;
    const license = this.remember(reply.license, known);
    return { license, session: toSession(reply.session, reply.conns), seatsInUse: license.seatsInUse };
  }

  /**
   * Undefined when the session is gone already; FULL while someone is queued for its license;
   * OTHER_TENANT, with `tenantId`, when its license is not that tenant's.
   */
  async end(sessionId: string, reason: EndReason, now: number, cooldownUntil?: number, tenantId?: string): Promise<EndedSession | undefined | typeof FULL | typeof OTHER_TENANT> {
    type Reply =
      | { kind: 'stale' }
      | { kind: 'other_tenant' }
      | { kind: 'ended'; license: Selectable<LicensesTable>; session: SessionRow; conns: ConnectionFacts[]; seats: number };
    const reply =
      tenantId === undefined
        ? await this.reply<Reply | null>(END, [sessionId, reason, now, cooldownUntil ?? null])
        : await this.reply<Reply | null>(END_OF_TENANT, [sessionId, reason, now, cooldownUntil ?? null, tenantId]);
    if (!reply) return undefined;
    if (reply.kind === 'stale') return FULL;
    if (reply.kind === 'other_tenant') return OTHER_TENANT;
    const license = { ...this.remember(reply.license), seatsInUse: reply.seats };
    return { license, session: toSession(reply.session, reply.conns), reason, seatsInUse: reply.seats };
  }

  /** The license's idle sessions past their deadline, released; FULL when some are due while someone is queued for it. */
  async expire(licenseId: string, now: number, reason: EndReason): Promise<EndedSession[] | typeof FULL> {
    type Reply = { kind: 'stale' } | { kind: 'released'; license: LicenseReply | null; ended: Array<{ session: SessionRow; seats: number }> };
    const busy = performance.now() - this.detaches.threadAt < BUSY_MS;
    const known = this.known.get(licenseId);
    const reply = await this.reply<Reply>(EXPIRE, [licenseId, now, reason, known?.revision ?? null], busy);
    if (reply.kind === 'stale') return FULL;
    // No license: it is gone, or nothing was due (answered without its lock, migration 2026-11-28T10).
    if (!reply.license) return [];
    const license = this.remember(reply.license, known);
    return reply.ended.map(({ session, seats }) => ({ license: { ...license, seatsInUse: seats }, session: toSession(session, []), reason, seatsInUse: seats }));
  }
}

/** A seat move waiting for its license's call in flight to return, to go in the next call. */
interface Waiting<P, R> {
  params: P;
  resolve: (reply: R) => void;
  reject: (err: unknown) => void;
}

/** A license's call in flight, with the moves that came since. */
interface Flight<P, R> {
  waiting: Waiting<P, R>[];
  timer: ReturnType<typeof setTimeout>;
  /** Sent through the thread (pg-thread.ts), whose answers a busy loop still takes at once. */
  onThread: boolean;
  /** The moves behind it are about to go through the thread without waiting for it. */
  leaving?: boolean;
}

/**
 * How long the moves that come after a call wait for it. A call is answered in milliseconds or
 * fails; one that hangs (a connection lost without a word) must not hold back the license's
 * moves behind it: past this, they go on without it, as they did before there was gathering.
 */
export const STUCK_MS = 2_000;

/**
 * With a thread, a license's first move goes through it when this many other licenses' calls are
 * in flight: a mass disconnect of many licenses, where no license has a second move to show it.
 */
export const CROWD = 8;

/**
 * One kind of seat move, gathered per license: a move goes at once when none of its license is
 * in flight from this node, else in the next call, with every move that came meanwhile (at most
 * `most`). They would each have waited for the license's lock anyway; together they take it
 * once and commit once. `many` answers each move as `alone` would have, in order. Should a call of
 * several fail (one move's error fails them all, and its transaction is rolled back), each runs
 * again alone, to its own outcome.
 */
export class Gathered<P, R> {
  /** The licenses with a call in flight. */
  private readonly flights = new Map<string, Flight<P, R>>();
  /** When a call last went through the thread (`performance.now()`); -Infinity before any. */
  threadAt = -Infinity;

  private readonly most: number;
  private readonly stuckMs: number;
  private readonly thread: () => boolean;

  /**
   * `most`: moves in one call at most (MANY_MAX unless given); `stuckMs`: STUCK_MS unless given;
   * `thread`: whether calls may go through the thread now (never unless given). `onThread` tells
   * `alone` and `many` which way a call goes.
   */
  constructor(
    readonly alone: (params: P, onThread: boolean) => Promise<R>,
    private readonly many: (licenseId: string, params: P[], onThread: boolean) => Promise<R[]>,
    opts: { most?: number; stuckMs?: number; thread?: () => boolean } = {},
  ) {
    this.most = opts.most ?? MANY_MAX;
    this.stuckMs = opts.stuckMs ?? STUCK_MS;
    this.thread = opts.thread ?? (() => false);
  }

  call(licenseId: string, params: P): Promise<R> {
    const flight = this.flights.get(licenseId);
    if (flight) {
      const reply = new Promise<R>((resolve, reject) => flight.waiting.push({ params, resolve, reject }));
      // Moves coming faster than the loop's round trip, a mass disconnect: the loop may read that
      // call's answer late, behind the sockets closing, so those of this callback go through the
      // thread at once (together), and the moves after them wait for that call.
      if (!flight.onThread && !flight.leaving && this.thread()) {
        flight.leaving = true;
        queueMicrotask(() => this.land(licenseId, flight, true));
      }
      return reply;
    }
    // Many licenses' calls in flight at once: their sockets are leaving together too.
    const onThread = this.flights.size >= CROWD && this.thread();
    return this.fly(licenseId, [], onThread, () => this.alone(params, onThread));
  }

  /** Sends a call for the license; the moves that come meanwhile wait for it (after `carried`). */
  private fly<T>(licenseId: string, carried: Waiting<P, R>[], onThread: boolean, send: () => Promise<T>): Promise<T> {
    const flight: Flight<P, R> = { waiting: carried, timer: setTimeout(() => this.land(licenseId, flight), this.stuckMs), onThread };
    flight.timer.unref?.();
    this.flights.set(licenseId, flight);
    if (onThread) this.threadAt = performance.now();
    return send().finally(() => this.land(licenseId, flight));
  }

  /**
   * The call returned, hangs, or (`onThread`) is left to the loop: the moves that came meanwhile go
   * in the next call, the same way as it unless told, or none is in flight.
   */
  private land(licenseId: string, flight: Flight<P, R>, onThread = flight.onThread): void {
    clearTimeout(flight.timer);
    // Landed already (it hung, or the moves behind it went through the thread).
    if (this.flights.get(licenseId) !== flight) return;
    this.flights.delete(licenseId);
    if (flight.waiting.length === 0) return;
    const batch = flight.waiting.splice(0, this.most);
    void this.fly(licenseId, flight.waiting, onThread, () => this.send(licenseId, batch, onThread));
  }

  private async send(licenseId: string, batch: Waiting<P, R>[], onThread: boolean): Promise<void> {
    if (batch.length > 1) {
      try {
        const replies = await this.many(licenseId, batch.map((w) => w.params), onThread);
        batch.forEach((w, i) => w.resolve(replies[i]!));
        return;
      } catch {
        // Each alone, below (unless the connection was lost after the commit, as for a move alone).
      }
    }
    await Promise.all(batch.map((w) => this.alone(w.params, onThread).then(w.resolve, w.reject)));
  }
}
