// The queue (docs/contract.md, "The queue"): who waits for a seat of a license, first in first out
// (`queue_entries`, by id), and how long each waited and how it ended (`queue_waits`, for the
// reports' unmet demand). An entry whose socket went away keeps its place for the license's idle
// timeout (`left_at`), so a reconnect of the same seat key finds it again.
import type { Kysely } from 'kysely';

function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter.constructor.name === 'PostgresAdapter';
}

export async function up(db: Kysely<any>): Promise<void> {
  const serial = isPostgres(db) ? 'bigserial' : 'integer';
  await db.schema
    .createTable('queue_entries')
    .addColumn('id', serial, (c) => c.primaryKey())
    .addColumn('license_id', 'text', (c) => c.notNull())
    .addColumn('socket_id', 'text', (c) => c.notNull().unique())
    .addColumn('node_id', 'text', (c) => c.notNull())
    .addColumn('seat_key_value', 'text', (c) => c.notNull())
    .addColumn('claimant', 'text', (c) => c.notNull())
    .addColumn('enqueued_at', 'bigint', (c) => c.notNull())
    .addColumn('left_at', 'bigint')
    .execute();
  await db.schema.createIndex('queue_entries_license').on('queue_entries').columns(['license_id', 'id']).execute();
  await db.schema
    .createTable('queue_waits')
    .addColumn('id', serial, (c) => c.primaryKey())
    .addColumn('license_id', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('waited_ms', 'bigint', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('session_ref', 'text')
    .addColumn('user_id', 'text')
    .addColumn('device_id', 'text')
    .execute();
  await db.schema.createIndex('queue_waits_license_at').on('queue_waits').columns(['license_id', 'at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('queue_waits').execute();
  await db.schema.dropTable('queue_entries').execute();
}
