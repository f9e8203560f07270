// Webhooks: a deleted license's seat history names its tenant through the deletion's audit entry
// (server/store/webhook-outbox.ts), looked up by license for each row read. Without an index that
// lookup read the whole audit log, once per row and per batch. Audit entries are written by
// admins' actions, rarely: the index costs the hot path nothing.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('audit_log_license').on('audit_log').column('license_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('audit_log_license').execute();
}
