// Two partial indexes for a long queue. A joiner's place is counted among the license's waiting
// entries, and a rejoin looks for the place its seat key left behind: through `queue_entries_license`
// alone, both read every entry of the license from the table (about 0.6 ms of a join with 2,000
// waiting, on SQLite). `queue_entries_waiting` holds only the waiting entries, in order, so the
// count is a scan of the index alone; `queue_entries_left` holds only the places kept for a reconnect, by seat key. Their queries
// name `left_at is null` / `left_at is not null`, which SQLite and PostgreSQL both match to them.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index queue_entries_waiting on queue_entries (license_id, id, left_at) where left_at is null`.execute(db);
  await sql`create index queue_entries_left on queue_entries (license_id, seat_key_value) where left_at is not null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('queue_entries_left').execute();
  await db.schema.dropIndex('queue_entries_waiting').execute();
}
