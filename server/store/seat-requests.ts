// Seat requests in the store (docs/contract.md, "Seat requests"): one row each, written with its
// seat history event (`requested`, the webhooks' `seat.requested`) in one transaction, and refused
// past the per-requester limit counted in the same transaction.
import { randomUUID } from 'node:crypto';
import { SeatEventType } from '../../shared';
import type { SeatRequest } from '../seats/types';
import { insertEvent } from './seat-moves';
import type { StoreContext } from './store-dialect';

const HOUR = 3_600_000;

export class SeatRequestStore {
  constructor(private readonly s: StoreContext) {}

  /**
   * Records the request unless its requester made `perHour` in the last hour; then says when the
   * oldest of those drops out of the hour.
   */
  async recordRequest(req: Omit<SeatRequest, 'id'> & { requester: string }, perHour: number): Promise<{ request: SeatRequest } | { retryAt: number }> {
    const { q, dialect } = this.s;
    return dialect.transaction(async (trx) => {
      const row = await dialect.lockLicense(trx, req.licenseId);
      const recent = await trx
        .selectFrom('seat_requests')
        .select('at')
        .where('license_id', '=', req.licenseId)
        .where('requester', '=', req.requester)
        .where('at', '>', req.at - HOUR)
        .orderBy('at')
        .execute();
      if (recent.length >= perHour) return { retryAt: Number(recent[0]!.at) + HOUR };
      const request: SeatRequest = { id: randomUUID(), licenseId: req.licenseId, at: req.at, sessionRef: req.sessionRef, userId: req.userId, deviceId: req.deviceId, name: req.name, message: req.message };
      await trx
        .insertInto('seat_requests')
        .values({
          id: request.id,
          license_id: request.licenseId,
          at: request.at,
          requester: req.requester,
          session_ref: request.sessionRef,
          user_id: request.userId,
          device_id: request.deviceId,
          name: request.name,
          message: request.message,
        })
        .execute();
      await insertEvent(q, trx, {
        license_id: request.licenseId,
        session_id: null,
        type: SeatEventType.Requested,
        reason: null,
        weight: 1,
        seats_in_use: Number(row?.seats_in_use ?? 0),
        at: request.at,
      });
      return { request };
    });
  }

  /** The license's requests, newest first. */
  async listRequests(licenseId: string, limit = 200): Promise<SeatRequest[]> {
    const rows = await this.s.db.selectFrom('seat_requests').selectAll().where('license_id', '=', licenseId).orderBy('at', 'desc').orderBy('id').limit(limit).execute();
    return rows.map((r) => ({
      id: r.id,
      licenseId: r.license_id,
      at: Number(r.at),
      sessionRef: r.session_ref,
      userId: r.user_id,
      deviceId: r.device_id,
      name: r.name,
      message: r.message,
    }));
  }

  /** How many requests the license had since `since`. */
  async countRequests(licenseId: string, since: number): Promise<number> {
    const row = await this.s.db
      .selectFrom('seat_requests')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('license_id', '=', licenseId)
      .where('at', '>=', since)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** Deletes requests older than `before` (with the history's retention). */
  async pruneRequests(before: number): Promise<number> {
    const r = await this.s.db.deleteFrom('seat_requests').where('at', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
