// Webhooks in the store (docs/contract.md "Webhooks"): the webhooks and their cursors, claims that
// let one node at a time deliver each, and the delivery log; the outbox reads are in
// webhook-outbox.ts.
import type { Selectable } from 'kysely';
import type { DeliveryStatus, WebhookEventType } from '../seats/decisions/webhook-delivery';
import type { DeliveredEvent, Delivery, DeliverySettings, OutboxFilter, OutboxSource, Webhook, WebhookStore } from '../seats/webhook-store';
import type { WebhookDeliveriesTable, WebhooksTable } from './schema';
import type { StoreContext } from './store-dialect';
import { prepareEach } from './prepared';
import { WebhookOutbox } from './webhook-outbox';

/** The most delivered events written by one statement (PostgreSQL takes up to 65,535 parameters, SQLite 32,766). */
const DELIVERED_PER_INSERT = 200;

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
    concurrency: Number(r.concurrency),
    batchSize: Number(r.batch_size),
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
  constructor(private readonly s: StoreContext) {
    this.outbox = new WebhookOutbox(s);
  }

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
        concurrency: w.concurrency,
        batch_size: w.batchSize,
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

  async setDelivery(id: string, settings: DeliverySettings): Promise<boolean> {
    const r = await this.s.db
      .updateTable('webhooks')
      .set({ concurrency: settings.concurrency, batch_size: settings.batchSize })
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
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

  async claimWebhooks(nodeId: string, now: number, claimMs: number, alone = false): Promise<Webhook[]> {
    // One conditional update: a row another node holds (claimed_until in the future) is not
    // matched. PostgreSQL re-checks the condition on a row another claim just changed, so two
    // nodes racing for a lapsed webhook leave it with one of them. A node alone takes every row.
    await this.s.db
      .updateTable('webhooks')
      .set({ claimed_by: nodeId, claimed_until: now + claimMs })
      .$if(!alone, (q) => q.where((eb) => eb.or([eb('claimed_by', '=', nodeId), eb('claimed_by', 'is', null), eb('claimed_until', '<', now)])))
      .execute();
    const rows = await this.s.db.selectFrom('webhooks').selectAll().where('claimed_by', '=', nodeId).orderBy('id').execute();
    return rows.map(toWebhook);
  }

  async anyUnclaimed(now: number, aloneAs?: string): Promise<boolean> {
    const row = await this.s.db
      .selectFrom('webhooks')
      .select('id')
      .where((eb) => eb.or([eb('claimed_by', 'is', null), eb('claimed_until', '<', now), ...(aloneAs === undefined ? [] : [eb('claimed_by', '!=', aloneAs)])]))
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  async releaseClaims(nodeId: string): Promise<void> {
    await this.s.db.updateTable('webhooks').set({ claimed_by: null, claimed_until: null }).where('claimed_by', '=', nodeId).execute();
  }

  private readonly outbox: WebhookOutbox;

  outboxIds(source: OutboxSource, after: number, limit: number) { return this.outbox.outboxIds(source, after, limit); }
  outboxMax() { return this.outbox.outboxMax(); }
  outboxMaxAtOrBefore(source: OutboxSource, at: number) { return this.outbox.outboxMaxAtOrBefore(source, at); }
  async openTransactions() { return this.s.dialect.openTransactions?.(this.s.db); }
  seatOutbox(filter: OutboxFilter, types: readonly string[], after: number, upTo: number, limit: number) { return this.outbox.seatOutbox(filter, types, after, upTo, limit); }
  auditOutbox(filter: OutboxFilter, after: number, upTo: number, limit: number) { return this.outbox.auditOutbox(filter, after, upTo, limit); }

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

  async deliveriesOf(webhookId: string, eventIds: readonly string[]): Promise<Delivery[]> {
    if (eventIds.length === 0) return [];
    const rows = await this.s.db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', webhookId).where('event_id', 'in', eventIds).execute();
    return rows.map(toDelivery);
  }

  /**
   * The insert of `n` delivered events, compiled once for each count (a batch's rows come in a
   * few counts, at most DELIVERED_PER_INSERT): building and compiling a multi-row insert through
   * Kysely cost more than SQLite writing its rows. Each event's values are `<column letter><index>`.
   */
  private readonly deliveredInsert = prepareEach((n: number) => (p: Record<string, unknown>) =>
    this.s.db
      .insertInto('webhook_deliveries')
      .values(
        Array.from({ length: n }, (_, i) => ({
          webhook_id: p.webhookId as string,
          event_id: p[`e${i}`] as string,
          event_type: p[`t${i}`] as string,
          payload: '',
          status: 'delivered',
          attempts: 1,
          created_at: p[`c${i}`] as number,
          last_attempt_at: p[`l${i}`] as number,
          next_attempt_at: p[`l${i}`] as number,
          response_status: p[`r${i}`] as number,
          error: null,
        })),
      )
      .onConflict((oc) => oc.columns(['webhook_id', 'event_id']).doNothing()),
  );

  async recordDelivered(webhookId: string, delivered: readonly DeliveredEvent[], cursors: Partial<Record<OutboxSource, number>>): Promise<void> {
    await this.s.dialect.transaction(async (trx) => {
      // In event order, so the log's ids (its newest-first order) follow the events'.
      for (let i = 0; i < delivered.length; i += DELIVERED_PER_INSERT) {
        const rows = delivered.slice(i, i + DELIVERED_PER_INSERT);
        const args: Record<string, unknown> = { webhookId };
        rows.forEach((d, j) => {
          args[`e${j}`] = d.eventId;
          args[`t${j}`] = d.eventType;
          args[`c${j}`] = d.createdAt;
          args[`l${j}`] = d.lastAttemptAt;
          args[`r${j}`] = d.responseStatus;
        });
        await this.deliveredInsert(rows.length)(trx, args);
      }
      for (const [source, id] of Object.entries(cursors) as Array<[OutboxSource, number]>) {
        const col = CURSOR[source];
        await trx.updateTable('webhooks').set({ [col]: id }).where('id', '=', webhookId).where(col, '<', id).execute();
      }
    });
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
