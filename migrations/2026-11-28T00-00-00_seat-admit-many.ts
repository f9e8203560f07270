// PostgreSQL: the admissions of one license that a node has waiting together go in one call
// (server/store/one-trip-seats.ts gathers those that come while the license's call before is in
// flight). The license's lock is taken once and the transaction commits once for all of them,
// where each call took the lock, waited for the call before it to commit, and paid its own round
// trip and commit: with many claimants on one license, most of an admission's time was that.
//
// Each claim is decided as `seat_admit` decides it (the function is called for each, in order, in
// the same transaction), so a claim sees the seats the claims before it took. Its arguments are
// `seat_admit`'s, in their order, one JSON array per claim; the reply is `seat_admit`'s for each,
// in the same order.
//
// SQLite gets nothing: it runs in the process, where its own queue shares a commit among the
// transactions of a turn (server/store/sqlite-store.ts).
import { type Kysely, sql } from 'kysely';

function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter.constructor.name === 'PostgresAdapter';
}

const ADMIT_MANY = `
CREATE OR REPLACE FUNCTION seat_admit_many(p_claims jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  c jsonb;
  replies jsonb[] := '{}';
BEGIN
  FOR c IN SELECT value FROM jsonb_array_elements(p_claims) LOOP
    replies := replies || seat_admit(
      c->>0, (c->>1)::integer, c->>2, (c->>3)::integer, (c->>4)::integer, (c->>5)::bigint, (c->>6)::bigint,
      c->>7, c->>8, c->>9, c->>10, c->>11, c->>12, c->>13, c->>14, c->>15, c->>16, (c->>17)::bigint, c->>18, c->>19);
  END LOOP;
  RETURN to_jsonb(replies);
END
$$`;

export async function up(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) await sql.raw(ADMIT_MANY).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) await sql.raw('DROP FUNCTION IF EXISTS seat_admit_many(jsonb)').execute(db);
}
