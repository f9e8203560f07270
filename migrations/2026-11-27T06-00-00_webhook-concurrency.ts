// Webhooks: how many of a webhook's events may be in flight at once (`concurrency`, docs/contract.md
// "Webhooks"), events of different sessions only. 1, the default, is one at a time in the order
// they happened, as every webhook made before this column was delivered.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('webhooks').addColumn('concurrency', 'integer', (c) => c.notNull().defaultTo(1)).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('webhooks').dropColumn('concurrency').execute();
}
