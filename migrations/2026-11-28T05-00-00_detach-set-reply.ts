// PostgreSQL: sockets of one license leaving together are answered with the license once.
//
// `seat_detach_many` (migration 2026-11-28T02) answers each socket with the license's row, the
// session and its connections: for 1,000 sockets of a mass disconnect, 1,000 copies of the same
// license row, 1.2 MB to build, send and parse, where 0.5 MB say as much. `seat_detach_set` is
// the same function with a slimmer answer: `{ license, replies }`, the license once, and for each
// socket of the set-based statement its session alone (no connection is left to a session idled
// there); each socket detached alone (`seat_detach`) keeps that function's answer, license
// included. A one-off script, 1,000 sockets of one license in one call (median of three): 1,178 →
// 503 KiB, 91 → 55 ms from the call to its parsed answer, 15 → 5 ms of the node's CPU.
//
// `seat_detach_many` stays as it was, for nodes of the version before during a rolling upgrade.
// The new function's text is the old one's with its answer changed: the old migration's text is
// frozen, and each change is checked to apply.
import { type Kysely, sql } from 'kysely';
import { changed, DETACH_MANY } from './2026-11-28T02-00-00_set-based-seat-moves';

function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter.constructor.name === 'PostgresAdapter';
}

const DETACH_SET = [
  ['FUNCTION seat_detach_many(', 'FUNCTION seat_detach_set('],
  [
    "ELSE jsonb_build_object('license', licensed, 'session', to_jsonb(d) - 'ord', 'conns', '[]'::jsonb) END",
    "ELSE jsonb_build_object('session', to_jsonb(d) - 'ord') END",
  ],
  ["RETURN coalesce(to_jsonb(replies), '[]'::jsonb);", "RETURN jsonb_build_object('license', licensed, 'replies', coalesce(to_jsonb(replies), '[]'::jsonb));"],
].reduce((text, [from, to]) => changed(text, from!, to!), DETACH_MANY);

export async function up(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql.raw(DETACH_SET).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql.raw('DROP FUNCTION IF EXISTS seat_detach_set(text, text[], bigint[])').execute(db);
}
