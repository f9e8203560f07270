// The seat count in force over time (docs/contract.md, history `seats`): one row per change of a
// license's `seats`, written in the transaction that made it (creation, PATCH), so each history
// bucket knows the seats it had, and raising the seats today leaves past full days full. Existing
// licenses get one row, their current seats from their creation: the best that is known of them.
import type { Kysely } from 'kysely';

// SQLite's INTEGER PRIMARY KEY is the auto-incrementing rowid; PostgreSQL needs bigserial.
function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter.constructor.name === 'PostgresAdapter';
}

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('seat_counts')
    .addColumn('id', isPostgres(db) ? 'bigserial' : 'integer', (c) => c.primaryKey())
    .addColumn('license_id', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('seats', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('seat_counts_license_at').on('seat_counts').columns(['license_id', 'at']).execute();
  await db
    .insertInto('seat_counts')
    .columns(['license_id', 'at', 'seats'])
    .expression(db.selectFrom('licenses').select(['id', 'created_at', 'seats']))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('seat_counts').execute();
}
