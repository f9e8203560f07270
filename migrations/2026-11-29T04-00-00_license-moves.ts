// A license moved to another tenant (the operator's `PATCH /licenses/:id { tenantId }`): one row
// per move, written in the move's transaction. The webhooks' outbox reads each seat event's tenant
// as the one that held the license when it happened (server/store/webhook-outbox.ts): the tenant a
// move took it from, for the events up to `seat_event_id` (the license's last one at the move),
// else the tenant it has now. So a move hands none of the old tenant's history, delivered or not,
// to the new tenant's webhooks, and none of the new tenant's events to the old one's.
import type { Kysely } from 'kysely';

function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter.constructor.name === 'PostgresAdapter';
}

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('license_moves')
    // SQLite's INTEGER PRIMARY KEY is the auto-incrementing rowid; PostgreSQL needs bigserial.
    .addColumn('id', isPostgres(db) ? 'bigserial' : 'integer', (c) => c.primaryKey())
    .addColumn('license_id', 'text', (c) => c.notNull())
    .addColumn('seat_event_id', 'bigint', (c) => c.notNull())
    .addColumn('from_tenant', 'text', (c) => c.notNull())
    .addColumn('to_tenant', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('license_moves_license').on('license_moves').columns(['license_id', 'seat_event_id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('license_moves').execute();
}
