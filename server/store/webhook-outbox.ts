// The webhooks' outbox reads (docs/contract.md "Webhooks"): the seat history and the audit log's
// license changes, both written in (or just after) the transactions that made them, read by id
// past a webhook's cursor and up to the node's high-water mark.
import { type ExpressionBuilder, sql } from 'kysely';
import type { AuditOutboxRow, OutboxFilter, OutboxSource, SeatOutboxRow, WebhookStore } from '../seats/webhook-store';
import { prepareEach } from './prepared';
import type { Database } from './schema';
import type { StoreContext } from './store-dialect';

type SeatOutboxQuery = Database & { e: Database['seat_events']; l: Database['licenses']; d: Database['audit_log']; c: Database['seat_counts']; m: Database['license_moves'] };

type SeatOutboxArgs = { tenantId: string; licenseId: string; after: number; upTo: number; limit: number };

export const OUTBOX_TABLE: Record<OutboxSource, 'seat_events' | 'audit_log'> = { seat: 'seat_events', audit: 'audit_log' };

type OutboxReads = Pick<WebhookStore, 'outboxIds' | 'outboxMax' | 'outboxMaxAtOrBefore' | 'seatOutbox' | 'auditOutbox'>;

export class WebhookOutbox implements OutboxReads {
  constructor(private readonly s: StoreContext) {}

  async outboxIds(source: OutboxSource, after: number, limit: number): Promise<Array<{ id: number; at: number }>> {
    const rows = await this.s.db.selectFrom(OUTBOX_TABLE[source]).select(['id', 'at']).where('id', '>', after).orderBy('id').limit(limit).execute();
    return rows.map((r) => ({ id: Number(r.id), at: Number(r.at) }));
  }

  async outboxMax(): Promise<Record<OutboxSource, number>> {
    const { db } = this.s;
    const seat = await db.selectFrom('seat_events').select((eb) => eb.fn.max('id').as('m')).executeTakeFirst();
    const audit = await db.selectFrom('audit_log').select((eb) => eb.fn.max('id').as('m')).executeTakeFirst();
    return { seat: Number(seat?.m ?? 0), audit: Number(audit?.m ?? 0) };
  }

  async outboxMaxAtOrBefore(source: OutboxSource, at: number): Promise<number> {
    const row = await this.s.db.selectFrom(OUTBOX_TABLE[source]).select((eb) => eb.fn.max('id').as('m')).where('at', '<=', at).executeTakeFirst();
    return Number(row?.m ?? 0);
  }

  /**
   * The seat outbox read, compiled once for each shape (whether it names a tenant, a license, and
   * the types it reads): building and compiling it cost about as much as SQLite reading a batch.
   */
  private readonly seatRead = prepareEach((shape: string) => {
    const [filters, types] = shape.split(':') as [string, string];
    return (p: SeatOutboxArgs) =>
      seatOutboxQuery(this.s.db, { tenantId: filters.includes('t') ? p.tenantId : null, licenseId: filters.includes('l') ? p.licenseId : null }, types.split(','), p.after, p.upTo, p.limit);
  });

  async seatOutbox(filter: OutboxFilter, types: readonly string[], after: number, upTo: number, limit: number): Promise<SeatOutboxRow[]> {
    if (types.length === 0 || upTo <= after) return [];
    const read = this.seatRead(`${filter.tenantId === null ? '' : 't'}${filter.licenseId === null ? '' : 'l'}:${types.join(',')}`);
    // Unused placeholders are left out of the compiled query; given values are only read where it has them.
    const { rows } = await read(this.s.db, { tenantId: filter.tenantId ?? '', licenseId: filter.licenseId ?? '', after, upTo, limit });
    return rows.map((r) => ({
      id: Number(r.id),
      licenseId: r.license_id,
      tenantId: r.tenant_id ?? null,
      sessionId: r.session_id,
      type: r.type,
      reason: r.reason,
      weight: Number(r.weight),
      seatsInUse: Number(r.seats_in_use),
      seats: r.seats === null ? null : Number(r.seats),
      at: Number(r.at),
    }));
  }

  async auditOutbox(filter: OutboxFilter, after: number, upTo: number, limit: number): Promise<AuditOutboxRow[]> {
    if (upTo <= after) return [];
    const rows = await this.s.db
      .selectFrom('audit_log')
      .selectAll()
      .where('id', '>', after)
      .where('id', '<=', upTo)
      .where('action', '=', 'license.update')
      .where('license_id', 'is not', null)
      .where('tenant_id', 'is not', null)
      // Along the ids from the cursor, as the seat history's read (not every entry of the tenant or
      // license, sorted).
      .$if(filter.tenantId !== null, (q) => q.where(sql<string>`tenant_id || ''`, '=', filter.tenantId!))
      .$if(filter.licenseId !== null, (q) => q.where(sql<string>`license_id || ''`, '=', filter.licenseId!))
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      id: Number(r.id),
      licenseId: r.license_id!,
      tenantId: r.tenant_id!,
      actor: r.actor,
      detail: JSON.parse(r.detail) as Record<string, unknown>,
      at: Number(r.at),
    }));
  }
}

/**
 * The read of a webhook's seat history batch: rows past the cursor (`after`) up to the mark
 * (`upTo`), of the types it needs, of its tenant or license, in id order. Exported for the test of
 * its query plan (test/store/webhook-outbox-plan.test.ts).
 */
export function seatOutboxQuery(db: StoreContext['db'], filter: OutboxFilter, types: readonly string[], after: number, upTo: number, limit: number) {
  // The tenant that held the license when the event happened: the one the first move after it
  // took the license from (written in the move's transaction, with the license's last event id
  // then), else the license's tenant now. A deleted license's history stays (its license_deleted
  // endings are delivered too): its tenant is then the one its `license.delete` audit entry
  // names. That entry is written just after the deletion commits, so a row may be read with no
  // tenant yet (null): every webhook sees it, and the worker waits for the tenant to be known.
  const tenantOf = (eb: ExpressionBuilder<SeatOutboxQuery, 'e' | 'l'>) =>
    eb.fn.coalesce(
      eb
        .selectFrom('license_moves as m')
        .select('m.from_tenant')
        .whereRef('m.license_id', '=', 'e.license_id')
        .whereRef('m.seat_event_id', '>=', 'e.id')
        .orderBy('m.seat_event_id')
        .limit(1),
      'l.tenant_id',
      eb.selectFrom('audit_log as d').select('d.tenant_id').whereRef('d.license_id', '=', 'e.license_id').where('d.action', '=', 'license.delete').limit(1),
    );
  // The seats in force when it happened: the newest seat count change at or before it (written
  // in the transaction of each change), else the license's seats now.
  const seatsThen = (eb: ExpressionBuilder<SeatOutboxQuery, 'e' | 'l'>) =>
    eb.fn.coalesce(
      eb.selectFrom('seat_counts as c').select('c.seats').whereRef('c.license_id', '=', 'e.license_id').whereRef('c.at', '<=', 'e.at').orderBy('c.at', 'desc').orderBy('c.id', 'desc').limit(1),
      'l.seats',
    );
  return db
    .selectFrom('seat_events as e')
    .leftJoin('licenses as l', 'l.id', 'e.license_id')
    .select((eb) => ['e.id', 'e.license_id', 'e.session_id', 'e.type', 'e.reason', 'e.weight', 'e.seats_in_use', 'e.at', tenantOf(eb).as('tenant_id'), seatsThen(eb).as('seats')])
    .where('e.id', '>', after)
    .where('e.id', '<=', upTo)
    .where('e.type', 'in', types)
    .$if(filter.tenantId !== null, (q) => q.where((eb) => eb.or([eb(tenantOf(eb), '=', filter.tenantId!), eb(tenantOf(eb), 'is', null)])))
    // Not through the (license_id, at) index: that read every row of the license's history, then
    // sorted them, for each batch. Along the ids from the cursor, a batch reads what it returns
    // (and the other licenses' rows in between, once).
    .$if(filter.licenseId !== null, (q) => q.where(sql<string>`e.license_id || ''`, '=', filter.licenseId!))
    .orderBy('e.id')
    .limit(limit);
}
