// The seeds' remaining policies (docs/contract.md, "Inactivity", "HTTP leases", "Offline grace"):
// - licenses: `inactivity_timeout_sec` (null: off), `inactivity_warning_sec`, `lease_interval_sec`,
//   `offline_grace_sec` (0: off);
// - sessions: `last_activity_at` (the newest activity any node flushed), `warned_at` (when the
//   inactivity warning went out; null: none pending), `receipt_until` (the newest signed receipt's
//   expiry: the seat is held at least until then);
// - connections: `renew_by` (an HTTP lease's deadline; null for sockets, which node liveness
//   watches instead);
// - leases: every lease handed out, so a renewal can tell "unknown" (404) from "ended" (410).
// Times are epoch milliseconds (bigint).
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('licenses').addColumn('inactivity_timeout_sec', 'integer').execute();
  await db.schema.alterTable('licenses').addColumn('inactivity_warning_sec', 'integer', (c) => c.notNull().defaultTo(60)).execute();
  await db.schema.alterTable('licenses').addColumn('lease_interval_sec', 'integer', (c) => c.notNull().defaultTo(3600)).execute();
  await db.schema.alterTable('licenses').addColumn('offline_grace_sec', 'integer', (c) => c.notNull().defaultTo(0)).execute();

  await db.schema.alterTable('sessions').addColumn('last_activity_at', 'bigint').execute();
  await db.schema.alterTable('sessions').addColumn('warned_at', 'bigint').execute();
  await db.schema.alterTable('sessions').addColumn('receipt_until', 'bigint').execute();

  await db.schema.alterTable('connections').addColumn('renew_by', 'bigint').execute();
  await db.schema.createIndex('connections_renew_by').on('connections').column('renew_by').execute();

  await db.schema
    .createTable('leases')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('license_id', 'text', (c) => c.notNull())
    .addColumn('session_id', 'text', (c) => c.notNull())
    .addColumn('seat_key_value', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('renew_by', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('leases_renew_by').on('leases').column('renew_by').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('leases').execute();
  await db.schema.dropIndex('connections_renew_by').execute();
  await db.schema.alterTable('connections').dropColumn('renew_by').execute();
  for (const c of ['receipt_until', 'warned_at', 'last_activity_at']) await db.schema.alterTable('sessions').dropColumn(c).execute();
  for (const c of ['offline_grace_sec', 'lease_interval_sec', 'inactivity_warning_sec', 'inactivity_timeout_sec']) {
    await db.schema.alterTable('licenses').dropColumn(c).execute();
  }
}
