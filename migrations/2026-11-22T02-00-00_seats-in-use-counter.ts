// Seats in use kept on the license row, changed in the same transaction as every session insert
// and delete (both already hold the license row's lock), so counting is one row read instead of a
// sum over the license's sessions.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('licenses')
    .addColumn('seats_in_use', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await sql`update licenses set seats_in_use = (select coalesce(sum(weight), 0) from sessions where sessions.license_id = licenses.id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('licenses').dropColumn('seats_in_use').execute();
}
