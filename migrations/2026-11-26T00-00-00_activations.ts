// Maximum activations per license (docs/contract.md section 8): the license's `max_activations`
// (null: unlimited) and the devices activated on it, one row per (license, device) from the
// device's first grant until an admin deactivates it. Times are epoch milliseconds (bigint).
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('licenses').addColumn('max_activations', 'integer').execute();
  await db.schema
    .createTable('activations')
    .addColumn('license_id', 'text', (c) => c.notNull().references('licenses.id'))
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('activated_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('activations_pk', ['license_id', 'device_id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('activations').execute();
  await db.schema.alterTable('licenses').dropColumn('max_activations').execute();
}
