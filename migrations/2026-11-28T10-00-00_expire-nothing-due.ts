// PostgreSQL: an idle release pass that finds nothing due answers without taking the license's
// lock.
//
// `seat_expire` (migration 2026-11-28T02) locked the license row first, whatever it then found.
// The lock makes the call a writing transaction (a transaction id, the lock's WAL record, a
// commit) and makes it wait behind every move of the license in flight. Passes that find nothing
// are common: on PostgreSQL a pass releases every seat of the license that is due, whichever node
// idled it, so the other nodes' timers for those seats find them gone; and a pass asked for while
// one runs, or a sweep, may come after the seats went. Such a pass now reads whether anything is
// due, and answers `released` with nothing ended and no license (the node learns nothing from it)
// without the lock. Whatever falls due after that read is the next pass's, as it would be for a
// pass that came a moment earlier; the node that idled a seat has committed its deadline before
// its own timer asks. Someone queued changes nothing here: the full transaction the node ran for
// them (`stale`) serves the queue only with seats it released. With something due, the call runs
// as before. A one-off script (3,000 calls with nothing due, three rounds, the two versions in
// turn): 229–331 µs a call through the store against 135–145 (a bare `select $1` read 90–136 in
// the same rounds), and 72–145 µs of the node's CPU a call against 64–71.
//
// The function's text is that of migration 2026-11-28T02 with the check put first: that text is
// frozen, and the change is checked to apply. `down` puts that version back.
import { type Kysely, sql } from 'kysely';
import { SessionState as St } from '../shared';
import { changed, EXPIRE as LOCKING_EXPIRE } from './2026-11-28T02-00-00_set-based-seat-moves';

function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter.constructor.name === 'PostgresAdapter';
}

export const EXPIRE = changed(
  LOCKING_EXPIRE,
  'BEGIN\n  SELECT * INTO lic FROM licenses WHERE id = p_license_id FOR UPDATE;',
  `BEGIN
  IF NOT EXISTS (SELECT 1 FROM sessions WHERE license_id = p_license_id AND state = '${St.Idle}' AND expires_at <= p_now) THEN
    RETURN '{"kind":"released","license":null,"ended":[]}'::jsonb;
  END IF;
  SELECT * INTO lic FROM licenses WHERE id = p_license_id FOR UPDATE;`,
);

export async function up(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql.raw(EXPIRE).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql.raw(LOCKING_EXPIRE).execute(db);
}
