// Signed webhooks (docs/contract.md "Webhooks"). The outbox is the seat history itself
// (`seat_events`, written in the transaction of every grant, resume, idle, release and denial) and
// the audit log's `license.update` rows: a webhook keeps a durable cursor into each, so nothing is
// copied on the hot path. `claimed_by`/`claimed_until` let exactly one node deliver a webhook at a
// time; `webhook_deliveries` is the delivery log, one row per event and webhook, kept across
// restarts so a retry schedule survives `kill -9`.
import type { Kysely } from 'kysely';

// SQLite's INTEGER PRIMARY KEY is the auto-incrementing rowid; PostgreSQL needs bigserial.
function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter.constructor.name === 'PostgresAdapter';
}

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('webhooks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // Null: the operator's, which gets every tenant's events.
    .addColumn('tenant_id', 'text')
    .addColumn('license_id', 'text')
    .addColumn('url', 'text', (c) => c.notNull())
    // A JSON array of event types.
    .addColumn('events', 'text', (c) => c.notNull())
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    // The last seat_events id and audit_log id handled (delivered or given up on).
    .addColumn('seat_cursor', 'bigint', (c) => c.notNull())
    .addColumn('audit_cursor', 'bigint', (c) => c.notNull())
    .addColumn('claimed_by', 'text')
    .addColumn('claimed_until', 'bigint')
    .execute();
  await db.schema.createIndex('webhooks_tenant').on('webhooks').column('tenant_id').execute();
  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', isPostgres(db) ? 'bigserial' : 'integer', (c) => c.primaryKey())
    .addColumn('webhook_id', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    // The body as first sent: every retry sends the same bytes (only the signature's time moves).
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_attempt_at', 'bigint')
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('response_status', 'integer')
    .addColumn('error', 'text')
    .execute();
  // One row per event and webhook: a retry after a restart finds the row the first attempt wrote.
  await db.schema.createIndex('webhook_deliveries_event').on('webhook_deliveries').columns(['webhook_id', 'event_id']).unique().execute();
  await db.schema.createIndex('webhook_deliveries_webhook').on('webhook_deliveries').columns(['webhook_id', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('webhook_deliveries').execute();
  await db.schema.dropTable('webhooks').execute();
}
