// PostgreSQL: seat moves of one license that a node has waiting together go in one call
// (server/store/one-trip-seats.ts gathers those that come while the license's call before is in
// flight): admissions, and sockets leaving. The license's lock is taken once and the transaction
// commits once for all of them, where each call took the lock, waited for the call before it to
// commit, and paid its own round trip and commit: with many claimants on one license, or many of
// its sockets closing at once, most of a move's time was that.
//
// Each move is decided as its function alone decides it (`seat_admit`, `seat_detach`, called for
// each, in order, in the same transaction), so a claim sees the seats the claims before it took.
// The reply is the function's for each, in the same order.
//
// SQLite gets nothing: it runs in the process, where its own queue shares a commit among the
// transactions of a turn (server/store/sqlite-store.ts).
import { type Kysely, sql } from 'kysely';

function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter.constructor.name === 'PostgresAdapter';
}

/** `p_claims`: one JSON array per claim, of `seat_admit`'s arguments in their order. */
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

/**
 * Sockets of `p_license_id` leaving, each at its own time. The license's lock is taken first; a
 * socket whose connection is on another license is answered `{"kind":"elsewhere"}`, changing
 * nothing, and the node detaches it alone: a call never waits for a second license's lock while
 * it holds one.
 */
const DETACH_MANY = `
CREATE OR REPLACE FUNCTION seat_detach_many(p_license_id text, p_socket_ids text[], p_nows bigint[]) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  replies jsonb[] := '{}';
BEGIN
  PERFORM 1 FROM licenses WHERE id = p_license_id FOR UPDATE;
  FOR i IN 1 .. coalesce(array_length(p_socket_ids, 1), 0) LOOP
    IF EXISTS (SELECT 1 FROM connections WHERE socket_id = p_socket_ids[i] AND license_id <> p_license_id) THEN
      replies := replies || '{"kind":"elsewhere"}'::jsonb;
    ELSE
      replies := replies || coalesce(seat_detach(p_socket_ids[i], p_nows[i]), 'null'::jsonb);
    END IF;
  END LOOP;
  RETURN to_jsonb(replies);
END
$$`;

export async function up(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  for (const fn of [ADMIT_MANY, DETACH_MANY]) await sql.raw(fn).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  for (const fn of ['seat_admit_many(jsonb)', 'seat_detach_many(text, text[], bigint[])']) await sql.raw(`DROP FUNCTION IF EXISTS ${fn}`).execute(db);
}
