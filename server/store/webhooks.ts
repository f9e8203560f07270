// Webhooks in the store (docs/contract.md "Webhooks"): the webhooks and their cursors, claims that
// let one node at a time deliver each, the outbox reads (seat history and license changes, both
// written in the transactions that made them) and the delivery log.
import type { ExpressionBuilder, Selectable } from 'kysely';
import type { DeliveryStatus, WebhookEventType } from '../seats/decisions/webhook-delivery';
import type { AuditOutboxRow, Delivery, OutboxFilter, OutboxSource, SeatOutboxRow, Webhook, WebhookStore } from '../seats/webhook-store';
import type { Database, WebhookDeliveriesTable, WebhooksTable } from './schema';
import type { StoreContext } from './store-dialect';

type SeatOutboxQuery = Database & { e: Database['seat_events']; l: Database['licenses']; d: Database['audit_log']; c: Database['seat_counts'] };

const TABLE: Record<OutboxSource, 'seat_events' | 'audit_log'> = { seat: 'seat_events', audit: 'audit_log' };
const CURSOR: Record<OutboxSource, 'seat_cursor' | 'audit_cursor'> = { seat: 'seat_cursor', audit: 'audit_cursor' };

function toWebhook(r: Selectable<WebhooksTable>): Webhook {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    licenseId: r.license_id,
    url: r.url,
    events: JSON.parse(r.events) as WebhookEventType[],
    secret: r.secret,
    createdAt: Number(r.created_at),
    seatCursor: Number(r.seat_cursor),
    auditCursor: Number(r.audit_cursor),
  };
}

function toDelivery(r: Selectable<WebhookDeliveriesTable>): Delivery {
  const n = (v: number | null) => (v === null ? null : Number(v));
  return {
    id: Number(r.id),
    webhookId: r.webhook_id,
    eventId: r.event_id,
    eventType: r.event_type,
    payload: r.payload,
    status: r.status as DeliveryStatus,
    attempts: Number(r.attempts),
    createdAt: Number(r.created_at),
    lastAttemptAt: n(r.last_attempt_at),
    nextAttemptAt: Number(r.next_attempt_at),
    responseStatus: n(r.response_status),
    error: r.error,
  };
}

export class Webhooks implements WebhookStore {
  constructor(private readonly s: StoreContext) {}

  async createWebhook(w: Omit<Webhook, 'seatCursor' | 'auditCursor'>): Promise<Webhook> {
    // From the newest rows on: a new webhook hears what happens after it, not the history.
    const max = await this.outboxMax();
    const row = { ...w, seatCursor: max.seat, auditCursor: max.audit };
    await this.s.db
      .insertInto('webhooks')
      .values({
        id: w.id,
        tenant_id: w.tenantId,
        license_id: w.licenseId,
        url: w.url,
        events: JSON.stringify(w.events),
        secret: w.secret,
        created_at: w.createdAt,
        seat_cursor: max.seat,
        audit_cursor: max.audit,
        claimed_by: null,
        claimed_until: null,
      })
      .execute();
    return row;
  }

  async getWebhook(id: string): Promise<Webhook | undefined> {
    const r = await this.s.db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toWebhook(r);
  }

  async listWebhooks(tenantId?: string): Promise<Webhook[]> {
    const rows = await this.s.db
      .selectFrom('webhooks')
      .selectAll()
      .$if(tenantId !== undefined, (q) => q.where('tenant_id', '=', tenantId!))
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toWebhook);
  }

  async deleteWebhook(id: string): Promise<boolean> {
    return this.s.dialect.transaction(async (trx) => {
      await trx.deleteFrom('webhook_deliveries').where('webhook_id', '=', id).execute();
      const r = await trx.deleteFrom('webhooks').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    });
  }

  async listDeliveries(webhookId: string, { beforeId, limit }: { beforeId?: number; limit: number }): Promise<Delivery[]> {
    const rows = await this.s.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('webhook_id', '=', webhookId)
      .$if(beforeId !== undefined, (q) => q.where('id', '<', beforeId!))
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toDelivery);
  }

  async claimWebhooks(nodeId: string, now: number, claimMs: number): Promise<Webhook[]> {
    // One conditional update: a row another node holds (claimed_until in the future) is not
    // matched. PostgreSQL re-checks the condition on a row another claim just changed, so two
    // nodes racing for a lapsed webhook leave it with one of them.
    await this.s.db
      .updateTable('webhooks')
      .set({ claimed_by: nodeId, claimed_until: now + claimMs })
      .where((eb) => eb.or([eb('claimed_by', '=', nodeId), eb('claimed_by', 'is', null), eb('claimed_until', '<', now)]))
      .execute();
    const rows = await this.s.db.selectFrom('webhooks').selectAll().where('claimed_by', '=', nodeId).orderBy('id').execute();
    return rows.map(toWebhook);
  }

  async anyUnclaimed(now: number): Promise<boolean> {
    const row = await this.s.db
      .selectFrom('webhooks')
      .select('id')
      .where((eb) => eb.or([eb('claimed_by', 'is', null), eb('claimed_until', '<', now)]))
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  async releaseClaims(nodeId: string): Promise<void> {
    await this.s.db.updateTable('webhooks').set({ claimed_by: null, claimed_until: null }).where('claimed_by', '=', nodeId).execute();
  }

  async outboxIds(source: OutboxSource, after: number, limit: number): Promise<Array<{ id: number; at: number }>> {
    const rows = await this.s.db.selectFrom(TABLE[source]).select(['id', 'at']).where('id', '>', after).orderBy('id').limit(limit).execute();
    return rows.map((r) => ({ id: Number(r.id), at: Number(r.at) }));
  }

  async outboxMax(): Promise<Record<OutboxSource, number>> {
    const { db } = this.s;
    const seat = await db.selectFrom('seat_events').select((eb) => eb.fn.max('id').as('m')).executeTakeFirst();
    const audit = await db.selectFrom('audit_log').select((eb) => eb.fn.max('id').as('m')).executeTakeFirst();
    return { seat: Number(seat?.m ?? 0), audit: Number(audit?.m ?? 0) };
  }

  async outboxMaxAtOrBefore(source: OutboxSource, at: number): Promise<number> {
    const row = await this.s.db.selectFrom(TABLE[source]).select((eb) => eb.fn.max('id').as('m')).where('at', '<=', at).executeTakeFirst();
    return Number(row?.m ?? 0);
  }

  async seatOutbox(filter: OutboxFilter, types: readonly string[], after: number, upTo: number, limit: number): Promise<SeatOutboxRow[]> {
    if (types.length === 0 || upTo <= after) return [];
    // A deleted license's history stays (its license_deleted endings are delivered too): its tenant
    // is then the one its `license.delete` audit entry names. That entry is written just after the
    // deletion commits, so a row may be read with no tenant yet (null): every webhook sees it, and
    // the worker waits for the tenant to be known.
    const tenantOf = (eb: ExpressionBuilder<SeatOutboxQuery, 'e' | 'l'>) =>
      eb.fn.coalesce(
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
    const rows = await this.s.db
      .selectFrom('seat_events as e')
      .leftJoin('licenses as l', 'l.id', 'e.license_id')
      .select((eb) => ['e.id', 'e.license_id', 'e.session_id', 'e.type', 'e.reason', 'e.weight', 'e.seats_in_use', 'e.at', tenantOf(eb).as('tenant_id'), seatsThen(eb).as('seats')])
      .where('e.id', '>', after)
      .where('e.id', '<=', upTo)
      .where('e.type', 'in', types)
      .$if(filter.tenantId !== null, (q) => q.where((eb) => eb.or([eb(tenantOf(eb), '=', filter.tenantId!), eb(tenantOf(eb), 'is', null)])))
      .$if(filter.licenseId !== null, (q) => q.where('e.license_id', '=', filter.licenseId!))
      .orderBy('e.id')
      .limit(limit)
      .execute();
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
      .$if(filter.tenantId !== null, (q) => q.where('tenant_id', '=', filter.tenantId!))
      .$if(filter.licenseId !== null, (q) => q.where('license_id', '=', filter.licenseId!))
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

  async openDelivery(d: Pick<Delivery, 'webhookId' | 'eventId' | 'eventType' | 'payload' | 'createdAt' | 'nextAttemptAt'>): Promise<Delivery> {
    const { db } = this.s;
    await db
      .insertInto('webhook_deliveries')
      .values({
        webhook_id: d.webhookId,
        event_id: d.eventId,
        event_type: d.eventType,
        payload: d.payload,
        status: 'pending',
        attempts: 0,
        created_at: d.createdAt,
        last_attempt_at: null,
        next_attempt_at: d.nextAttemptAt,
        response_status: null,
        error: null,
      })
      .onConflict((oc) => oc.columns(['webhook_id', 'event_id']).doNothing())
      .execute();
    const row = await db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', d.webhookId).where('event_id', '=', d.eventId).executeTakeFirstOrThrow();
    return toDelivery(row);
  }

  async recordAttempt(id: number, r: Pick<Delivery, 'status' | 'attempts' | 'lastAttemptAt' | 'nextAttemptAt' | 'responseStatus' | 'error'>): Promise<void> {
    await this.s.db
      .updateTable('webhook_deliveries')
      .set({
        status: r.status,
        attempts: r.attempts,
        last_attempt_at: r.lastAttemptAt,
        next_attempt_at: r.nextAttemptAt,
        response_status: r.responseStatus,
        error: r.error,
      })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .execute();
  }

  async resetCursor(webhookId: string, source: OutboxSource, id: number): Promise<void> {
    const col = CURSOR[source];
    await this.s.db.updateTable('webhooks').set({ [col]: id }).where('id', '=', webhookId).where(col, '>', id).execute();
  }

  async advanceCursor(webhookId: string, source: OutboxSource, id: number): Promise<void> {
    const col = CURSOR[source];
    await this.s.db.updateTable('webhooks').set({ [col]: id }).where('id', '=', webhookId).where(col, '<', id).execute();
  }

  async pruneDeliveries(before: number): Promise<number> {
    const { db } = this.s;
    const r = await db.deleteFrom('webhook_deliveries').where('created_at', '<', before).where('status', '!=', 'pending').executeTakeFirst();
    // A node that had not heard of a deletion yet may have logged one more attempt after it.
    const orphans = await db
      .deleteFrom('webhook_deliveries')
      .where((eb) => eb.not(eb.exists(eb.selectFrom('webhooks').select('webhooks.id').whereRef('webhooks.id', '=', 'webhook_deliveries.webhook_id'))))
      .executeTakeFirst();
    return Number(r.numDeletedRows) + Number(orphans.numDeletedRows);
  }
}
