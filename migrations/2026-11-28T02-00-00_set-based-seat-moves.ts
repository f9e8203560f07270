// PostgreSQL: the seat moves of many sessions at once are set-based, as the full transaction's
// are (server/store/seat-moves.ts), where they went row by row.
//
// `seat_expire` (migration 2026-11-26T20) released idle seats falling due one by one and grew its
// reply by copying it once per session, so a call took time in the square of what fell due:
// 1,000 sessions 0.8 s, 4,000 sessions 11.7 s on the bench's machine, with the license's lock held
// throughout. Now one statement deletes the sessions, writes their seat events (each with the
// seats held after it, in deadline order) and builds the reply.
//
// `seat_detach_many` (migration 2026-11-28T00) ran `seat_detach` once per socket, five statements
// each. The sockets that are the last connection of a live session of the license (what a mass
// disconnect sends) now go in one statement that drops the connections, idles the sessions and
// writes their seat events; the others run as before, one by one.
//
// And `seat_admit` (migration 2026-11-26T20): a resume sets the session's last activity to the
// admission's time only where that is newer (the soak found an admission decided after a database
// restart moving a newer connect's activity back, and the inactivity release coming early).
//
// The answers are otherwise the same as before. `down` leaves the functions as they are: the
// migrations that made them drop them.
import { type Kysely, sql } from 'kysely';
import { SeatEventType as Ev, SessionState as St } from '../shared';
import { ADMIT as FIRST_ADMIT } from './2026-11-26T20-00-00_one-trip-seats';

function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter.constructor.name === 'PostgresAdapter';
}

/**
 * A function's text from an earlier migration (frozen) with `from` replaced once by `to`; throws
 * when `from` is not in it, so a text that moved fails the tests at once instead of migrating.
 */
export function changed(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`a migration's change does not apply: "${from.slice(0, 60)}" is not in the function's text`);
  return text.replace(from, to);
}

/**
 * Releases the license's idle sessions past their deadline (`reason` in their seat events), each
 * event with the seats held after it, in deadline order. Returns `{ kind: 'stale' }`, changing
 * nothing, when someone is queued for the license: the full transaction serves the queue with
 * what it frees.
 */
export const EXPIRE = `
CREATE OR REPLACE FUNCTION seat_expire(p_license_id text, p_now bigint, p_reason text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  lic licenses%ROWTYPE;
  ended jsonb;
  freed bigint;
BEGIN
  SELECT * INTO lic FROM licenses WHERE id = p_license_id FOR UPDATE;
  IF NOT FOUND THEN RETURN jsonb_build_object('kind', 'released', 'license', NULL, 'ended', '[]'::jsonb); END IF;
  IF EXISTS (SELECT 1 FROM queue_entries WHERE license_id = p_license_id AND left_at IS NULL) THEN
    RETURN '{"kind":"stale"}'::jsonb;
  END IF;
  DELETE FROM connections WHERE session_id IN (
    SELECT id FROM sessions WHERE license_id = p_license_id AND state = '${St.Idle}' AND expires_at <= p_now);
  WITH gone AS (
    DELETE FROM sessions WHERE license_id = p_license_id AND state = '${St.Idle}' AND expires_at <= p_now RETURNING *
  ), ordered AS (
    SELECT g.id, g.weight, to_jsonb(g) AS session_row,
      row_number() OVER w AS n,
      lic.seats_in_use - sum(g.weight) OVER w AS held
    FROM gone g
    WINDOW w AS (ORDER BY g.expires_at, g.id ROWS UNBOUNDED PRECEDING)
  ), logged AS (
    INSERT INTO seat_events (license_id, session_id, type, reason, weight, seats_in_use, at)
      SELECT p_license_id, o.id, '${Ev.Released}', p_reason, o.weight, o.held, p_now FROM ordered o ORDER BY o.n
  )
  SELECT coalesce(jsonb_agg(jsonb_build_object('session', o.session_row, 'seats', o.held) ORDER BY o.n), '[]'::jsonb), coalesce(sum(o.weight), 0)
    INTO ended, freed FROM ordered o;
  IF freed <> 0 THEN
    UPDATE licenses SET seats_in_use = seats_in_use - freed WHERE id = p_license_id;
  END IF;
  RETURN jsonb_build_object('kind', 'released', 'license', to_jsonb(lic), 'ended', ended);
END
$$`;

/**
 * Sockets of one license leaving (`seat_detach` for each, in order: the reply is its answer for
 * each). Those that are the only connection of a live session of the license go in one statement:
 * each session goes idle at its own socket's time, with its deadline (the later of the idle
 * timeout and its newest receipt) and its seat event. Each of the others (a session's other tabs
 * staying, a socket holding nothing) runs `seat_detach` alone after them, in order; their sessions
 * are not the first ones' (each of those had one connection). A socket on another license is
 * answered `{"kind":"elsewhere"}`, changing nothing, and the node detaches it alone.
 */
export const DETACH_MANY = `
CREATE OR REPLACE FUNCTION seat_detach_many(p_license_id text, p_socket_ids text[], p_nows bigint[]) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  lic licenses%ROWTYPE;
  replies jsonb[];
  rest bigint[];
  i bigint;
  licensed jsonb;
BEGIN
  SELECT * INTO lic FROM licenses WHERE id = p_license_id FOR UPDATE;
  licensed := to_jsonb(lic);
  WITH listed AS (
    SELECT u.socket_id, u.at, u.ord, count(*) OVER (PARTITION BY u.socket_id) AS times
      FROM unnest(p_socket_ids, p_nows) WITH ORDINALITY AS u(socket_id, at, ord)
  ), leaving AS (
    SELECT l.socket_id, l.at, l.ord FROM listed l
      JOIN connections c ON c.socket_id = l.socket_id
      JOIN sessions s ON s.id = c.session_id
      WHERE l.times = 1 AND lic.id IS NOT NULL AND c.license_id = p_license_id AND s.state = '${St.Active}'
        AND NOT EXISTS (SELECT 1 FROM connections o WHERE o.session_id = c.session_id AND o.socket_id <> c.socket_id)
  ), gone AS (
    DELETE FROM connections c USING leaving l WHERE c.socket_id = l.socket_id RETURNING c.session_id, l.at, l.ord
  ), idled AS (
    UPDATE sessions s SET state = '${St.Idle}', idle_since = g.at,
        expires_at = CASE WHEN s.receipt_until > g.at + lic.idle_timeout_sec::bigint * 1000 THEN s.receipt_until
          ELSE g.at + lic.idle_timeout_sec::bigint * 1000 END
      FROM gone g WHERE s.id = g.session_id
      RETURNING s.*, g.ord
  ), logged AS (
    INSERT INTO seat_events (license_id, session_id, type, reason, weight, seats_in_use, at)
      SELECT p_license_id, d.id, '${Ev.Idle}', NULL, d.weight, lic.seats_in_use, d.idle_since FROM idled d ORDER BY d.ord
  )
  SELECT array_agg(CASE WHEN d.id IS NULL THEN NULL
        ELSE jsonb_build_object('license', licensed, 'session', to_jsonb(d) - 'ord', 'conns', '[]'::jsonb) END ORDER BY l.ord),
      coalesce(array_agg(l.ord ORDER BY l.ord) FILTER (WHERE d.id IS NULL), '{}')
    INTO replies, rest
    FROM listed l LEFT JOIN idled d ON d.ord = l.ord;
  FOREACH i IN ARRAY rest LOOP
    IF EXISTS (SELECT 1 FROM connections WHERE socket_id = p_socket_ids[i] AND license_id <> p_license_id) THEN
      replies[i] := '{"kind":"elsewhere"}'::jsonb;
    ELSE
      replies[i] := coalesce(seat_detach(p_socket_ids[i], p_nows[i]), 'null'::jsonb);
    END IF;
  END LOOP;
  RETURN coalesce(to_jsonb(replies), '[]'::jsonb);
END
$$`;

/**
 * `seat_admit` of migration 2026-11-26T20, but a resume moves no newer activity back: an
 * admission decided late (its node's time, from before a database outage) left the session's
 * last activity older than a later connect's, and the inactivity release came early. That
 * migration's text is frozen; the one change is checked to apply.
 */
const ADMIT = changed(
  FIRST_ADMIT,
  "expires_at = NULL, last_activity_at = p_now, warned_at = NULL,",
  "expires_at = NULL, last_activity_at = GREATEST(last_activity_at, p_now), warned_at = NULL,",
);

export async function up(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  for (const fn of [EXPIRE, DETACH_MANY, ADMIT]) await sql.raw(fn).execute(db);
}

export async function down(): Promise<void> {}
