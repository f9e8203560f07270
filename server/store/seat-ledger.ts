// The seat ledger: sessions and their connection rows. Admission, a socket leaving, a session
// ending and idle seats expiring are each one transaction under the license's lock.
import type { Selectable } from 'kysely';
import { DenyReason, type EndReason, EndReason as End, LicenseStatus, SeatEventType, SessionState } from '../../shared';
import { type AdmissionDecision, decideAdmission, isPastDeadline } from '../seats/decisions/admission';
import { seatKeyValue } from '../seats/decisions/seat-key';
import { needsGroups } from '../seats/decisions/seat-pool';
import { enqueue } from './queue';
import { type AdmitOutcome, type AdmitRequest, claimantIds, type Denial, type DetachOutcome, type EndedSession, type Session } from '../seats/types';
import { DetachBatch } from './detach-batch';
import { OTHER_TENANT } from '../seats/seat-store';
import { FULL } from './one-trip-seats';
import { toLicense, toSession } from './rows';
import { activationOf, heldByGroup, insertConnection, insertDenial, insertEvent, loadSession, releaseSession, releaseSessions, sessionsOf, startSession } from './seat-moves';
import type { SessionsTable } from './schema';
import type { StoreContext } from './store-dialect';

export class SeatLedger {
  private readonly detaches: DetachBatch;

  constructor(private readonly s: StoreContext) {
    this.detaches = new DetachBatch(s);
  }

  /** Resume the live session of the seat key, else grant if it fits, else record the denial. */
  async admit(req: AdmitRequest): Promise<AdmitOutcome> {
    const { licenseId, claimant, now } = req;
    const { q, dialect } = this.s;
    // One round trip where the claim is decided on what this node knows of the license (PostgreSQL).
    const quick = await dialect.oneTrip?.admit(req);
    if (quick !== undefined && quick !== FULL) return quick;
    return dialect.transaction(async (trx): Promise<AdmitOutcome> => {
      const row = await dialect.lockLicense(trx, licenseId);
      if (!row) return { kind: 'license_not_found' };
      let license = toLicense(row);
      // The seat key in force is the locked row's, whatever the token was checked against.
      const key = seatKeyValue(license.seatKey, claimant);
      if ('missing' in key) return { kind: 'missing_claim', license, missing: key.missing, claim: key.claim };
      const seatKey = { licenseId, seatKeyValue: key.value };

      const facts = (rows: Selectable<SessionsTable>[]) =>
        rows.map((r) => ({
          row: r,
          id: r.id,
          weight: Number(r.weight),
          state: r.state as SessionState,
          expiresAt: r.expires_at === null ? null : Number(r.expires_at),
          group: r.grp,
        }));
      const own = facts((await q.seatKeySessions(trx, seatKey)).rows)[0];
      const [cooldown] = (await q.cooldownUntil(trx, { ...seatKey, now })).rows;
      // Activations: read only where the license limits them (else every device is let through
      // and recorded by the one upsert below).
      const activation = await activationOf(q, trx, license, claimant);
      if (activation.kind === 'missing_claim') return { kind: 'missing_claim', license, missing: 'device', claim: 'dev', activations: true };
      type Facts = ReturnType<typeof facts>[number];
      let decision: AdmissionDecision<Facts>;
      if (activation.kind === 'deny' && license.status !== LicenseStatus.Suspended) {
        decision = { kind: 'deny', reason: activation.reason, release: [] };
      } else {
        // What each group holds: read only when the license reserves seats or limits groups.
        const held = needsGroups(license) ? await heldByGroup(q, trx, licenseId) : undefined;
        const decide = (stale: Facts[]) =>
          decideAdmission({ license, claimant, own, stale, cooldownUntil: cooldown ? Number(cooldown.until) : null, heldByGroup: held, now });
        // Other seats past their deadline that no timer released yet matter only to a claimant
        // they would let in, or whose own seat is past its deadline (admission.ts): read them
        // then. Read for every admission, a license's pile of them (a burst falling due, a dead
        // node's seats before a sweep) cost each admission a read of all of them.
        decision = decide([]);
        if (decision.kind === 'deny' || (own && isPastDeadline(own, now))) decision = decide(facts((await q.dueSessions(trx, { ...seatKey, now })).rows));
      }
      const expired: EndedSession[] = [];
      let freed = 0;
      const before = license.seatsInUse;
      for (const { row: stale } of decision.release) {
        // Idle: no connection rows.
        const session = toSession(stale, []);
        const seatsInUse = await releaseSession(q, trx, session, End.IdleTimeout, now);
        if (seatsInUse === undefined) continue;
        freed += session.weight;
        license = { ...license, seatsInUse };
        expired.push({ license, session, reason: End.IdleTimeout, seatsInUse });
      }
      // The license's queue took seats these releases freed (queue.ts): decide again on what is left.
      if (decision.kind === 'grant' && license.seatsInUse !== before - freed) {
        decision = decideAdmission({
          license,
          claimant,
          own: undefined,
          stale: [],
          cooldownUntil: null,
          heldByGroup: needsGroups(license) ? await heldByGroup(q, trx, licenseId) : undefined,
          now,
        });
      }
      // Granted or resumed: the device is activated (first grant) or seen again, in this transaction.
      if (decision.kind !== 'deny' && activation.kind !== 'none' && claimant.deviceId !== null) {
        await q.touchActivation(trx, { licenseId, deviceId: claimant.deviceId, now });
      }

      // No seat fits, and the claimant asked to wait on a license with a queue: it waits, holding nothing.
      if (decision.kind === 'deny' && req.queue && license.queue && (decision.reason === DenyReason.NoFreeSeats || decision.reason === DenyReason.GroupLimit)) {
        const place = await enqueue(q, trx, license, req, key.value);
        return { kind: 'queued', license, seatsInUse: license.seatsInUse, expired, ...place };
      }
      if (decision.kind === 'deny') {
        const denial: Denial = {
          licenseId,
          at: now,
          reason: decision.reason,
          ...claimantIds(claimant),
        };
        await insertDenial(q, trx, denial, claimant.weight, license.seatsInUse);
        // In a kick's cool-down: when the seat key may come back.
        const retryAfterSec = decision.reason === DenyReason.Kicked && cooldown ? Math.max(1, Math.ceil((Number(cooldown.until) - now) / 1000)) : undefined;
        return { kind: 'denied', license, denial, seatsInUse: license.seatsInUse, expired, ...(retryAfterSec ? { retryAfterSec } : {}) };
      }

      // With offline grace, the grant's receipt is on record before anyone sees it.
      const receiptUntil = license.offlineGraceSec > 0 ? now + license.offlineGraceSec * 1000 : null;
      if (decision.kind === 'resume') {
        const existing = decision.session.row;
        const [resumed] = (await q.resumeSession(trx, { id: existing.id, now, receiptUntil })).rows;
        await insertConnection(q, trx, req, existing.id);
        await insertEvent(q, trx, {
          license_id: licenseId,
          session_id: existing.id,
          type: SeatEventType.Resumed,
          reason: null,
          weight: existing.weight,
          seats_in_use: license.seatsInUse,
          at: now,
        });
        // The row as just updated, with every connection of the session now (this one included).
        const { rows: conns } = await q.appsOfSession(trx, { sessionId: existing.id });
        const session = toSession(
          { ...existing, state: SessionState.Active, idle_since: null, expires_at: null, last_activity_at: resumed?.last_activity_at ?? now, warned_at: null, receipt_until: resumed?.receipt_until ?? null },
          conns,
        );
        const warningCleared = existing.warned_at !== null;
        return { kind: 'granted', resumed: true, license, session, seatsInUse: license.seatsInUse, expired, warningCleared, overage: false };
      }

      const { session, seatsInUse } = await startSession(q, trx, license, req, key.value);
      return { kind: 'granted', resumed: false, license: { ...license, seatsInUse }, session, seatsInUse, expired, overage: decision.overage };
    });
  }

  /**
   * Removes a socket's connection row; the session goes idle when it was the last one. Sockets
   * leaving together share a transaction: on PostgreSQL those of one license (`licenseId`, the
   * license the socket was admitted to; without it the socket goes alone), else all of them.
   */
  async detach(socketId: string, now: number, licenseId?: string): Promise<DetachOutcome | undefined> {
    const { oneTrip } = this.s.dialect;
    return oneTrip ? oneTrip.detach(socketId, now, licenseId) : this.detaches.detach(socketId, now);
  }

  /**
   * Ends a live session now. A kick puts the seat key in cool-down until `cooldownUntil`; with
   * `tenantId`, only a session of that tenant's licenses (checked under the license's lock).
   */
  async endSession(sessionId: string, reason: EndReason, now: number, cooldownUntil?: number, tenantId?: string): Promise<EndedSession | undefined | typeof OTHER_TENANT> {
    const { db, q, dialect } = this.s;
    const quick = await dialect.oneTrip?.end(sessionId, reason, now, cooldownUntil, tenantId);
    if (quick !== FULL && dialect.oneTrip) return quick;
    const [found] = (await q.licenseOfSession(db, { id: sessionId })).rows;
    if (!found) return undefined;
    // Someone is waiting to see it end (an admin's kick, the app's end) and its seat may be taken
    // at once: ahead of what waits, and no commit waits for more to share it (commit-pace.ts).
    return dialect.transaction(
      async (trx) => {
        const row = await dialect.lockLicense(trx, found.license_id);
        const session = await loadSession(q, trx, sessionId);
        if (!row || !session) return undefined;
        if (tenantId !== undefined && row.tenant_id !== tenantId) return OTHER_TENANT;
        const seatsInUse = await releaseSession(q, trx, session, reason, now);
        if (seatsInUse === undefined) return undefined;
        const license = { ...toLicense(row), seatsInUse };
        if (cooldownUntil !== undefined && cooldownUntil > now) {
          await trx
            .insertInto('kick_cooldowns')
            .values({ license_id: license.id, seat_key_value: session.seatKeyValue, until: cooldownUntil })
            .onConflict((oc) => oc.columns(['license_id', 'seat_key_value']).doUpdateSet({ until: cooldownUntil }))
            .execute();
        }
        return { license, session, reason, seatsInUse };
      },
      { first: true },
    );
  }

  /** Releases every idle session of the license past its deadline, in one transaction (exactly once each). */
  async expireLicense(licenseId: string, now: number): Promise<EndedSession[]> {
    const { q, dialect } = this.s;
    const quick = await dialect.oneTrip?.expire(licenseId, now, End.IdleTimeout);
    if (quick !== undefined && quick !== FULL) return quick;
    // Due now: ahead of what waits (a mass disconnect's detaches), so seats go free on time.
    return dialect.transaction(
      async (trx) => {
        const row = await dialect.lockLicense(trx, licenseId);
        if (!row) return [];
        // Idle: no connection rows. Set-based, so thousands falling due together go in one pass.
        const { rows } = await q.expiredOfLicense(trx, { licenseId, now });
        return releaseSessions(q, trx, toLicense(row), rows.map((r) => toSession(r, [])), End.IdleTimeout, now);
      },
      { first: true },
    );
  }

  /** Idle sessions whose deadline is at or before `before`. */
  async listExpiring(before: number): Promise<Array<{ id: string; licenseId: string; expiresAt: number }>> {
    const rows = await this.s.db
      .selectFrom('sessions')
      .select(['id', 'license_id', 'expires_at'])
      .where('state', '=', SessionState.Idle)
      .where('expires_at', '<=', before)
      .orderBy('expires_at')
      .execute();
    return rows.map((r) => ({ id: r.id, licenseId: r.license_id, expiresAt: Number(r.expires_at) }));
  }

  getSession(id: string): Promise<Session | undefined> {
    return loadSession(this.s.q, this.s.db, id);
  }

  /**
   * Which of these sessions no longer exist, with the reason each was released for: `ended` when
   * that is no longer on record (the release aged out of the seat history).
   */
  async endedAmong(sessionIds: string[]): Promise<Array<{ sessionId: string; reason: EndReason }>> {
    const { db } = this.s;
    if (sessionIds.length === 0) return [];
    const live = await db.selectFrom('sessions').select('id').where('id', 'in', sessionIds).execute();
    const liveIds = new Set(live.map((r) => r.id));
    const gone = sessionIds.filter((id) => !liveIds.has(id));
    if (gone.length === 0) return [];
    const released = await db
      .selectFrom('seat_events')
      .select(['session_id', 'reason'])
      .where('session_id', 'in', gone)
      .where('type', '=', SeatEventType.Released)
      .execute();
    const reasons = new Map(released.map((r) => [r.session_id, r.reason as EndReason]));
    // Not known any more: say so, rather than guess (a guessed `kicked` would blame an admin).
    return gone.map((sessionId) => ({ sessionId, reason: reasons.get(sessionId) ?? End.Ended }));
  }

  /** The license's live sessions, oldest first. */
  listSessions(licenseId: string): Promise<Session[]> {
    return sessionsOf(this.s.db, [licenseId], 'oldest-first');
  }

  /** The live sessions of many licenses, in the order of `licenseIds`, each license's oldest first. */
  listSessionsOf(licenseIds: readonly string[]): Promise<Session[]> {
    return sessionsOf(this.s.db, licenseIds, 'oldest-first');
  }
}
