// PostgreSQL: an idle release reads the license's idle sessions past their deadline
// (`seat_expire`, migration 2026-11-26T20). Through `sessions_expiry (state, expires_at)` that
// read scans the idle sessions of every license; through the seat-key index, every session of the
// license. This index holds only idle sessions (a grant writes nothing into it), by license and
// deadline. SQLite, in the process, releases at 20,000 a second without it: it gets none.
import { type Kysely, sql } from 'kysely';
import { SessionState } from '../shared';

function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter.constructor.name === 'PostgresAdapter';
}

export async function up(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql.raw(`create index sessions_license_idle on sessions (license_id, expires_at) where state = '${SessionState.Idle}'`).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) await sql`drop index if exists sessions_license_idle`.execute(db);
}
