// PostgreSQL: the hot seat moves (an admission, a socket leaving, idle seats falling due, a
// session ended) as functions, each one round trip, so the license row's lock is
// held for the function's statements (microseconds), not for nine round trips of a transaction
// run from Node (server/store/one-trip-seats.ts calls them; the decision stays in TypeScript).
//
// `licenses.revision` counts changes of a license's settings: a trigger moves it on every update
// that leaves the seat counter alone (an admin's change, a secret's rotation). The node keeps the
// settings it last read with their revision and decides a claim on them; the function checks the
// revision under the lock, and where it moved (or the claim needs more than a count to decide),
// it changes nothing and the node takes the full transaction (server/store/seat-ledger.ts).
//
// Every function takes the license's lock first; in a PL/pgSQL function each statement reads a
// snapshot of its own, so what it reads after the lock is what the lock protects (one statement
// with CTEs would read from before it waited for the lock).
//
// SQLite gets the column only: it runs in the process, where a round trip costs nothing.
import { type Kysely, sql } from 'kysely';
import { SeatEventType as Ev, SessionState as St } from '../shared';

function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter.constructor.name === 'PostgresAdapter';
}

/** A session's connections, as the node builds the session from them (rows.ts `toSession`). */
const CONNS = (sessionId: string) =>
  `(SELECT coalesce(jsonb_agg(jsonb_build_object('app', app, 'renew_by', renew_by)), '[]'::jsonb) FROM connections WHERE session_id = ${sessionId})`;

/**
 * An admission the node decided on the settings of `p_revision`: resume the seat key's live
 * session; else grant while at most `p_bound` seats are held; else record the denial `p_deny`
 * (null: the node decides that itself). Returns `{ kind: 'stale' }`, changing nothing, where the
 * full transaction must decide: the revision moved, the own session is past its deadline, the
 * seat key is in its kick cool-down, or a refusal would have to release seats past their deadline first.
 */
export const ADMIT = `
CREATE OR REPLACE FUNCTION seat_admit(
  p_license_id text, p_revision integer, p_seat_key_value text, p_bound integer, p_weight integer,
  p_now bigint, p_receipt_until bigint, p_session_id text, p_session_ref text, p_user_id text,
  p_device_id text, p_instance_id text, p_app text, p_name text, p_grp text, p_socket_id text,
  p_node_id text, p_renew_by bigint, p_touch_device text, p_deny text
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  lic record;
  own sessions%ROWTYPE;
  held integer;
BEGIN
  SELECT seats_in_use, revision INTO lic FROM licenses WHERE id = p_license_id FOR UPDATE;
  IF NOT FOUND OR lic.revision <> p_revision THEN RETURN '{"kind":"stale"}'::jsonb; END IF;

  SELECT * INTO own FROM sessions WHERE license_id = p_license_id AND seat_key_value = p_seat_key_value;
  IF FOUND THEN
    IF own.state = '${St.Idle}' AND own.expires_at <= p_now THEN RETURN '{"kind":"stale"}'::jsonb; END IF;
    UPDATE sessions SET state = '${St.Active}', idle_since = NULL, expires_at = NULL, last_activity_at = p_now, warned_at = NULL,
      receipt_until = CASE WHEN receipt_until IS NULL OR receipt_until < p_receipt_until THEN p_receipt_until ELSE receipt_until END
      WHERE id = own.id;
    INSERT INTO connections (socket_id, session_id, license_id, node_id, app, connected_at, renew_by)
      VALUES (p_socket_id, own.id, p_license_id, p_node_id, p_app, p_now, p_renew_by);
    INSERT INTO seat_events (license_id, session_id, type, reason, weight, seats_in_use, at)
      VALUES (p_license_id, own.id, '${Ev.Resumed}', NULL, own.weight, lic.seats_in_use, p_now);
    IF p_touch_device IS NOT NULL THEN
      INSERT INTO activations (license_id, device_id, activated_at, last_seen_at) VALUES (p_license_id, p_touch_device, p_now, p_now)
        ON CONFLICT (license_id, device_id) DO UPDATE SET last_seen_at = p_now;
    END IF;
    RETURN jsonb_build_object('kind', 'resumed', 'seats', lic.seats_in_use,
      'session', (SELECT to_jsonb(s) FROM sessions s WHERE id = own.id), 'warned', own.warned_at IS NOT NULL,
      'conns', ${CONNS('own.id')});
  END IF;

  IF EXISTS (SELECT 1 FROM kick_cooldowns WHERE license_id = p_license_id AND seat_key_value = p_seat_key_value AND until > p_now) THEN
    RETURN '{"kind":"stale"}'::jsonb;
  END IF;

  IF lic.seats_in_use > p_bound THEN
    IF p_deny IS NULL OR EXISTS (
      SELECT 1 FROM sessions WHERE license_id = p_license_id AND state = '${St.Idle}' AND expires_at <= p_now
    ) THEN
      RETURN '{"kind":"stale"}'::jsonb;
    END IF;
    INSERT INTO denials (license_id, at, reason, session_ref, user_id, device_id, instance_id)
      VALUES (p_license_id, p_now, p_deny, p_session_ref, p_user_id, p_device_id, p_instance_id);
    INSERT INTO seat_events (license_id, session_id, type, reason, weight, seats_in_use, at)
      VALUES (p_license_id, NULL, '${Ev.Denied}', p_deny, p_weight, lic.seats_in_use, p_now);
    RETURN jsonb_build_object('kind', 'denied', 'seats', lic.seats_in_use);
  END IF;

  INSERT INTO sessions (id, license_id, seat_key_value, session_ref, user_id, device_id, instance_id, app, name, weight, state,
      started_at, idle_since, expires_at, last_activity_at, warned_at, receipt_until, grp)
    VALUES (p_session_id, p_license_id, p_seat_key_value, p_session_ref, p_user_id, p_device_id, p_instance_id, p_app, p_name, p_weight,
      '${St.Active}', p_now, NULL, NULL, p_now, NULL, p_receipt_until, p_grp);
  UPDATE licenses SET seats_in_use = seats_in_use + p_weight WHERE id = p_license_id RETURNING seats_in_use INTO held;
  INSERT INTO connections (socket_id, session_id, license_id, node_id, app, connected_at, renew_by)
    VALUES (p_socket_id, p_session_id, p_license_id, p_node_id, p_app, p_now, p_renew_by);
  INSERT INTO seat_events (license_id, session_id, type, reason, weight, seats_in_use, at)
    VALUES (p_license_id, p_session_id, '${Ev.Granted}', NULL, p_weight, held, p_now);
  IF p_touch_device IS NOT NULL THEN
    INSERT INTO activations (license_id, device_id, activated_at, last_seen_at) VALUES (p_license_id, p_touch_device, p_now, p_now)
      ON CONFLICT (license_id, device_id) DO UPDATE SET last_seen_at = p_now;
  END IF;
  RETURN jsonb_build_object('kind', 'granted', 'before', lic.seats_in_use, 'seats', held);
END
$$`;

/**
 * A socket leaves: its connection row goes, and its session goes idle (with its deadline, the
 * later of the idle timeout and its newest receipt) when that was its last connection. Returns
 * null when the socket held nothing, else the license row, the session and its connections left.
 */
export const DETACH = `
CREATE OR REPLACE FUNCTION seat_detach(p_socket_id text, p_now bigint) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  lid text;
  sid text;
  lic licenses%ROWTYPE;
  s sessions%ROWTYPE;
  deadline bigint;
BEGIN
  SELECT license_id INTO lid FROM connections WHERE socket_id = p_socket_id;
  IF NOT FOUND THEN RETURN NULL; END IF;
  SELECT * INTO lic FROM licenses WHERE id = lid FOR UPDATE;
  DELETE FROM connections WHERE socket_id = p_socket_id RETURNING session_id INTO sid;
  IF lic.id IS NULL OR sid IS NULL THEN RETURN NULL; END IF;
  deadline := p_now + lic.idle_timeout_sec::bigint * 1000;
  UPDATE sessions SET state = '${St.Idle}', idle_since = p_now,
      expires_at = CASE WHEN receipt_until > deadline THEN receipt_until ELSE deadline END
    WHERE id = sid AND state = '${St.Active}' AND NOT EXISTS (SELECT 1 FROM connections WHERE session_id = sid)
    RETURNING * INTO s;
  IF FOUND THEN
    INSERT INTO seat_events (license_id, session_id, type, reason, weight, seats_in_use, at)
      VALUES (lid, sid, '${Ev.Idle}', NULL, s.weight, lic.seats_in_use, p_now);
    RETURN jsonb_build_object('license', to_jsonb(lic), 'session', to_jsonb(s), 'conns', '[]'::jsonb);
  END IF;
  SELECT * INTO s FROM sessions WHERE id = sid;
  IF NOT FOUND THEN RETURN NULL; END IF;
  RETURN jsonb_build_object('license', to_jsonb(lic), 'session', to_jsonb(s), 'conns', ${CONNS('sid')});
END
$$`;

/**
 * Releases the license's idle sessions past their deadline (`reason` in their seat events), each
 * event with the seats held after it. Returns `{ kind: 'stale' }`, changing nothing, when someone
 * is queued for the license: the full transaction serves the queue with what it frees.
 */
const EXPIRE = `
CREATE OR REPLACE FUNCTION seat_expire(p_license_id text, p_now bigint, p_reason text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  lic licenses%ROWTYPE;
  s sessions%ROWTYPE;
  held integer;
  ended jsonb := '[]'::jsonb;
BEGIN
  SELECT * INTO lic FROM licenses WHERE id = p_license_id FOR UPDATE;
  IF NOT FOUND THEN RETURN jsonb_build_object('kind', 'released', 'license', NULL, 'ended', ended); END IF;
  IF EXISTS (SELECT 1 FROM queue_entries WHERE license_id = p_license_id AND left_at IS NULL) THEN
    RETURN '{"kind":"stale"}'::jsonb;
  END IF;
  DELETE FROM connections WHERE session_id IN (
    SELECT id FROM sessions WHERE license_id = p_license_id AND state = '${St.Idle}' AND expires_at <= p_now);
  held := lic.seats_in_use;
  FOR s IN DELETE FROM sessions WHERE license_id = p_license_id AND state = '${St.Idle}' AND expires_at <= p_now RETURNING * LOOP
    held := held - s.weight;
    INSERT INTO seat_events (license_id, session_id, type, reason, weight, seats_in_use, at)
      VALUES (p_license_id, s.id, '${Ev.Released}', p_reason, s.weight, held, p_now);
    ended := ended || jsonb_build_array(jsonb_build_object('session', to_jsonb(s), 'seats', held));
  END LOOP;
  IF held <> lic.seats_in_use THEN
    UPDATE licenses SET seats_in_use = seats_in_use - (lic.seats_in_use - held) WHERE id = p_license_id;
  END IF;
  RETURN jsonb_build_object('kind', 'released', 'license', to_jsonb(lic), 'ended', ended);
END
$$`;

/**
 * Ends a live session now (a kick, the app's end, an admin's): its connections and row go, its
 * seats come back, `reason` goes in its seat event; a kick's cool-down is set until
 * `p_cooldown_until` (null: none). Returns null when the session is gone already, else the license
 * row, the session and its connections as they were, and the seats held after; `{ kind: 'stale' }`,
 * changing nothing, when someone is queued for the license (the full transaction serves the queue).
 */
const END = `
CREATE OR REPLACE FUNCTION seat_end(p_session_id text, p_reason text, p_now bigint, p_cooldown_until bigint) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  lid text;
  lic licenses%ROWTYPE;
  s sessions%ROWTYPE;
  conns jsonb;
  held integer;
BEGIN
  SELECT license_id INTO lid FROM sessions WHERE id = p_session_id;
  IF NOT FOUND THEN RETURN NULL; END IF;
  SELECT * INTO lic FROM licenses WHERE id = lid FOR UPDATE;
  IF NOT FOUND THEN RETURN NULL; END IF;
  IF EXISTS (SELECT 1 FROM queue_entries WHERE license_id = lid AND left_at IS NULL) THEN
    RETURN '{"kind":"stale"}'::jsonb;
  END IF;
  conns := ${CONNS('p_session_id')};
  DELETE FROM connections WHERE session_id = p_session_id;
  DELETE FROM sessions WHERE id = p_session_id RETURNING * INTO s;
  IF NOT FOUND THEN RETURN NULL; END IF;
  UPDATE licenses SET seats_in_use = seats_in_use - s.weight WHERE id = lid RETURNING seats_in_use INTO held;
  INSERT INTO seat_events (license_id, session_id, type, reason, weight, seats_in_use, at)
    VALUES (lid, s.id, '${Ev.Released}', p_reason, s.weight, held, p_now);
  IF p_cooldown_until IS NOT NULL AND p_cooldown_until > p_now THEN
    INSERT INTO kick_cooldowns (license_id, seat_key_value, until) VALUES (lid, s.seat_key_value, p_cooldown_until)
      ON CONFLICT (license_id, seat_key_value) DO UPDATE SET until = p_cooldown_until;
  END IF;
  RETURN jsonb_build_object('kind', 'ended', 'license', to_jsonb(lic), 'session', to_jsonb(s), 'conns', conns, 'seats', held);
END
$$`;

const BUMP = `
CREATE OR REPLACE FUNCTION licenses_bump_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.revision := OLD.revision + 1;
  RETURN NEW;
END
$$`;

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('licenses').addColumn('revision', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  if (!isPostgres(db)) return;
  await sql.raw(BUMP).execute(db);
  // Every update that leaves the seat counter alone changes settings (or may): the revision moves.
  await sql
    .raw(
      `CREATE TRIGGER licenses_revision BEFORE UPDATE ON licenses FOR EACH ROW
       WHEN (NEW.seats_in_use IS NOT DISTINCT FROM OLD.seats_in_use) EXECUTE FUNCTION licenses_bump_revision()`,
    )
    .execute(db);
  for (const fn of [ADMIT, DETACH, EXPIRE, END]) await sql.raw(fn).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) {
    for (const fn of ['seat_admit(text, integer, text, integer, integer, bigint, bigint, text, text, text, text, text, text, text, text, text, text, bigint, text, text)', 'seat_detach(text, bigint)', 'seat_expire(text, bigint, text)', 'seat_end(text, text, bigint, bigint)']) {
      await sql.raw(`DROP FUNCTION IF EXISTS ${fn}`).execute(db);
    }
    await sql.raw('DROP TRIGGER IF EXISTS licenses_revision ON licenses').execute(db);
    await sql.raw('DROP FUNCTION IF EXISTS licenses_bump_revision()').execute(db);
  }
  await db.schema.alterTable('licenses').dropColumn('revision').execute();
}
