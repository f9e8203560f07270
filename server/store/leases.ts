// HTTP leases in the store (docs/contract.md 8.4): a lease is a connection row `lease:<id>` with a
// deadline (`renew_by`), and a `leases` row that outlives it, so a renewal can tell an unknown
// lease (404) from one whose seat ended (410, with the reason from the seat history). Renewal,
// release and lapse are each one transaction under the license's lock.
import type { Transaction } from 'kysely';
import { EndReason, SeatEventType } from '../../shared';
import type { LeaseClaim, LeaseRecord, LeaseReleaseOutcome, LeaseRenewOutcome } from '../seats/leases';
import { seatKeyValue } from '../seats/decisions/seat-key';
import type { DetachOutcome, License } from '../seats/types';
import { toLicense } from './rows';
import { idleOrphans, insertEvent, loadSession, releaseSession } from './seat-moves';
import type { Database } from './schema';
import type { Db, StoreContext } from './store-dialect';

/** The connection row of a lease: one more connection of its session, as a socket's is. */
export const leaseConnectionId = (leaseId: string) => `lease:${leaseId}`;

type Checked = { kind: 'not_found' } | { kind: 'forbidden'; why: string } | { kind: 'ok'; lease: { session_id: string }; license: License };

export class Leases {
  constructor(private readonly s: StoreContext) {}

  /** Records a lease the admission granted (its connection row is in already). */
  async recordLease(lease: LeaseRecord): Promise<void> {
    await this.s.db
      .insertInto('leases')
      .values({
        id: lease.id,
        license_id: lease.licenseId,
        session_id: lease.sessionId,
        seat_key_value: lease.seatKeyValue,
        created_at: lease.createdAt,
        renew_by: lease.renewBy,
      })
      .execute();
  }

  /**
   * Renews a lease: its deadline moves and the renewal counts as the session's activity (a
   * pending inactivity warning is cleared). A lease that lapsed while its session is still held
   * (idle, or kept by other connections) joins it again, as an admission's resume would.
   */
  async renewLease(leaseId: string, claim: LeaseClaim, now: number): Promise<LeaseRenewOutcome> {
    const { q } = this.s;
    return this.underLock(leaseId, claim, async (trx, checked) => {
      const { license } = checked;
      const sessionId = checked.lease.session_id;
      const [row] = (await q.sessionById(trx, { id: sessionId })).rows;
      if (!row) return { kind: 'ended', reason: await releaseReason(trx, license.id, sessionId) };
      const renewBy = now + license.leaseIntervalSec * 1000;
      const socketId = leaseConnectionId(leaseId);
      const moved = await trx.updateTable('connections').set({ renew_by: renewBy }).where('socket_id', '=', socketId).executeTakeFirst();
      const resumed = Number(moved.numUpdatedRows) === 0;
      if (resumed) {
        // Lapsed: the session is still held, so the lease joins it again under the same id.
        await q.insertConnection(trx, {
          socket_id: socketId,
          session_id: sessionId,
          license_id: license.id,
          node_id: claim.nodeId,
          app: claim.claimant.app,
          connected_at: now,
          renew_by: renewBy,
        });
        await insertEvent(q, trx, {
          license_id: license.id,
          session_id: sessionId,
          type: SeatEventType.Resumed,
          reason: null,
          weight: Number(row.weight),
          seats_in_use: license.seatsInUse,
          at: now,
        });
      }
      await trx.updateTable('leases').set({ renew_by: renewBy }).where('id', '=', leaseId).execute();
      // Active, activity now, warning over, and the newest receipt's expiry moved (as a resume).
      const receiptUntil = license.offlineGraceSec > 0 ? now + license.offlineGraceSec * 1000 : null;
      await q.resumeSession(trx, { id: sessionId, now, receiptUntil });
      if (row.device_id !== null) await q.touchActivation(trx, { licenseId: license.id, deviceId: row.device_id, now });
      const session = (await loadSession(q, trx, sessionId))!;
      return { kind: 'renewed', resumed, license, session, seatsInUse: license.seatsInUse, renewBy, warningCleared: row.warned_at !== null };
    });
  }

  /**
   * Lets go of a lease: its row and its connection go; when no other connection of the session
   * remains, the session ends at once (`ended_by_app`), in the same transaction, so no connect of
   * the same seat key can slip in between and be ended with it.
   */
  async releaseLease(leaseId: string, claim: LeaseClaim, now: number): Promise<LeaseReleaseOutcome> {
    const { q } = this.s;
    return this.underLock(leaseId, claim, async (trx, checked) => {
      const { license } = checked;
      const sessionId = checked.lease.session_id;
      await trx.deleteFrom('leases').where('id', '=', leaseId).execute();
      await trx.deleteFrom('connections').where('socket_id', '=', leaseConnectionId(leaseId)).execute();
      const session = await loadSession(q, trx, sessionId);
      if (!session) return { kind: 'released' };
      if (session.sockets + session.leases > 0) return { kind: 'released', detached: { license, session, seatsInUse: license.seatsInUse } };
      const seatsInUse = await releaseSession(q, trx, session, EndReason.EndedByApp, now);
      if (seatsInUse === undefined) return { kind: 'released' };
      return { kind: 'released', ended: { license: { ...license, seatsInUse }, session, reason: EndReason.EndedByApp, seatsInUse } };
    });
  }

  /**
   * Lets go of the connection rows of leases not renewed by `now`; sessions left with none go idle
   * for the license's idle timeout, as after a closed tab. One transaction per license, each
   * deleting only rows still due, so of two nodes sweeping at once one lapses each lease.
   * Returns the sessions idled, and those that keep other connections (detached).
   */
  async lapseLeases(now: number): Promise<DetachOutcome[]> {
    const { db, q, dialect } = this.s;
    // Through connections_renew_by: sockets (renew_by null) are not in the range.
    const due = await db.selectFrom('connections').select('license_id').distinct().where('renew_by', '<=', now).execute();
    const outcomes: DetachOutcome[] = [];
    for (const { license_id } of due) {
      const lapsed = await dialect.transaction(async (trx) => {
        const row = await dialect.lockLicense(trx, license_id);
        const gone = await trx
          .deleteFrom('connections')
          .where('license_id', '=', license_id)
          .where('renew_by', '<=', now)
          .returning('session_id')
          .execute();
        if (!row || gone.length === 0) return [];
        const license = toLicense(row);
        const ids = [...new Set(gone.map((g) => g.session_id))];
        const idled = await idleOrphans(q, trx, license, ids, now);
        const out: DetachOutcome[] = [...idled];
        for (const id of ids) {
          if (idled.some((o) => o.session.id === id)) continue;
          const session = await loadSession(q, trx, id);
          if (session) out.push({ license, session, seatsInUse: license.seatsInUse });
        }
        return out;
      });
      outcomes.push(...lapsed);
    }
    return outcomes;
  }

  /** Forgets leases whose deadline passed before `before` (their seats' history is gone by then too). */
  async pruneLeases(before: number): Promise<number> {
    const gone = await this.s.db.deleteFrom('leases').where('renew_by', '<', before).executeTakeFirst();
    return Number(gone.numDeletedRows);
  }

  /**
   * Runs `fn` under the lock of the lease's license once the lease is found (404) and is the
   * claimant's: the token's license and its seat key value under the license's seat key now (403).
   */
  private async underLock<T>(
    leaseId: string,
    claim: LeaseClaim,
    fn: (trx: Transaction<Database>, checked: Extract<Checked, { kind: 'ok' }>) => Promise<T>,
  ): Promise<T | Exclude<Checked, { kind: 'ok' }>> {
    const { db, dialect } = this.s;
    const found = await db.selectFrom('leases').select('license_id').where('id', '=', leaseId).executeTakeFirst();
    if (!found) return { kind: 'not_found' };
    if (found.license_id !== claim.licenseId) return { kind: 'forbidden', why: 'the lease belongs to another license' };
    return dialect.transaction(async (trx) => {
      const row = await dialect.lockLicense(trx, found.license_id);
      // Read again under the lock: a concurrent release may have taken it.
      const lease = await trx.selectFrom('leases').select(['session_id', 'seat_key_value']).where('id', '=', leaseId).executeTakeFirst();
      if (!row || !lease) return { kind: 'not_found' } as const;
      const license = toLicense(row);
      const key = seatKeyValue(license.seatKey, claim.claimant);
      if (!('value' in key) || key.value !== lease.seat_key_value) return { kind: 'forbidden', why: "the lease belongs to another seat key than the token's" } as const;
      return fn(trx, { kind: 'ok', lease, license });
    });
  }
}

/** Why a session that is gone was released, from the seat history (`ended` once it aged out). */
async function releaseReason(db: Db, licenseId: string, sessionId: string): Promise<EndReason> {
  const released = await db
    .selectFrom('seat_events')
    .select('reason')
    // The license narrows the search to its own history (seat_events_license_at).
    .where('license_id', '=', licenseId)
    .where('session_id', '=', sessionId)
    .where('type', '=', SeatEventType.Released)
    .executeTakeFirst();
  return (released?.reason as EndReason | null | undefined) ?? EndReason.Ended;
}
