// Webhooks: how many events one request may carry (`batchSize`, docs/contract.md "Webhooks"). 1, the
// default, is one event per POST, its JSON the body, as every webhook made before this column was
// delivered; above 1 the body is a JSON array of up to that many events.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('webhooks').addColumn('batch_size', 'integer', (c) => c.notNull().defaultTo(1)).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('webhooks').dropColumn('batch_size').execute();
}
