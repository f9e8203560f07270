// Seat requests (docs/contract.md, "Seat requests"): a denied user asks for a seat with its own
// token; admins see the requests, holders hear the demand. `requester` is the claimant's user id,
// else its session, device or instance id: what the per-user limit counts by.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('seat_requests')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('license_id', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('requester', 'text', (c) => c.notNull())
    .addColumn('session_ref', 'text')
    .addColumn('user_id', 'text')
    .addColumn('device_id', 'text')
    .addColumn('name', 'text')
    .addColumn('message', 'text')
    .execute();
  await db.schema.createIndex('seat_requests_license_at').on('seat_requests').columns(['license_id', 'at']).execute();
  await db.schema.createIndex('seat_requests_requester').on('seat_requests').columns(['license_id', 'requester', 'at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('seat_requests').execute();
}
