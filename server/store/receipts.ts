// Offline grace (docs/contract.md "Offline grace and signed receipts"): a live session's hold is
// moved on before each fresh receipt is signed, so no receipt outlives the hold on record. The
// idle deadline that honours the hold is in queries.ts (`idleSessions`).
import { sql } from 'kysely';
import { SessionState } from '../../shared';
import type { ReceiptHold } from '../seats/seat-store';
import type { StoreContext } from './store-dialect';

export class ReceiptHolds {
  constructor(private readonly s: StoreContext) {}

  /**
   * One conditional update: while the session is active (a connection holds it) and its license
   * has offline grace, its `receipt_until` moves to `now + offlineGraceSec` when that is later.
   * The grace is the license's as it is now, read in the same statement. Undefined when the
   * session is gone (ended, released) or idle, or the license's grace is off: no receipt then.
   */
  async extendReceipt(sessionId: string, now: number): Promise<ReceiptHold | undefined> {
    // Casts: on PostgreSQL a bare parameter beside an integer column would be typed int4.
    const grace = sql<number>`(select l.offline_grace_sec from licenses l where l.id = sessions.license_id)`;
    const until = sql<number>`cast(${now} as bigint) + cast(${grace} as bigint) * 1000`;
    const row = await this.s.db
      .updateTable('sessions')
      .set({ receipt_until: sql<number>`case when receipt_until is null or receipt_until < ${until} then ${until} else receipt_until end` })
      .where('id', '=', sessionId)
      .where('state', '=', SessionState.Active)
      .where(grace, '>', 0)
      .returning(['id', 'license_id', 'session_ref', 'user_id', 'device_id', 'instance_id', 'receipt_until', grace.as('grace')])
      .executeTakeFirst();
    if (!row || row.receipt_until === null) return undefined;
    return {
      sessionId: row.id,
      licenseId: row.license_id,
      sessionRef: row.session_ref,
      userId: row.user_id,
      deviceId: row.device_id,
      instanceId: row.instance_id,
      receiptUntil: Number(row.receipt_until),
      offlineGraceSec: Number(row.grace),
    };
  }
}
