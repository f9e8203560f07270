// What each group holds is read in the admission of a license with reservations or group limits
// (server/store/seat-moves.ts `heldByGroup`): an index on (license, group) keeps that read to the
// grouped sessions instead of every session of the license.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('sessions_license_grp').on('sessions').columns(['license_id', 'grp']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('sessions_license_grp').execute();
}
