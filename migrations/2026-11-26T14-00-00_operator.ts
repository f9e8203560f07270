// What an operator needs (issue 13 section 6): a license's secret can be rotated with a grace
// period, so portals that still sign with the old one keep working until it ends:
// `licenses.previous_secret` (null: none) and `previous_secret_until` (epoch ms; the old secret
// verifies tokens until then). Tenants' admin tokens rotate in place (`admin_token_hash`).
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('licenses').addColumn('previous_secret', 'text').execute();
  await db.schema.alterTable('licenses').addColumn('previous_secret_until', 'bigint').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const c of ['previous_secret_until', 'previous_secret']) await db.schema.alterTable('licenses').dropColumn(c).execute();
}
