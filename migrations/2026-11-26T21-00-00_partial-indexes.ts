// Two indexes only a few rows need: a socket's connection has no lease deadline, and most
// sessions have no group. As full indexes, every connect wrote an entry of each for nothing (two
// of the fourteen B-tree inserts of a grant); as partial ones, only leases and grouped sessions
// are in them. Their queries name the column with a comparison (`renew_by <= now`,
// `grp is not null`), which SQLite and PostgreSQL both read as implying the index's condition.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('connections_renew_by').execute();
  await sql`create index connections_renew_by on connections (renew_by) where renew_by is not null`.execute(db);
  await db.schema.dropIndex('sessions_license_grp').execute();
  await sql`create index sessions_license_grp on sessions (license_id, grp) where grp is not null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('sessions_license_grp').execute();
  await db.schema.createIndex('sessions_license_grp').on('sessions').columns(['license_id', 'grp']).execute();
  await db.schema.dropIndex('connections_renew_by').execute();
  await db.schema.createIndex('connections_renew_by').on('connections').column('renew_by').execute();
}
