// PostgreSQL: an idle release pass that finds nothing due answers without taking the license's
// lock.
//
// `seat_expire` (migration 2026-11-28T02) locked the license row first, whatever it then found.
// The lock makes the call a writing transaction (a transaction id, the lock's WAL record, a
// commit) and makes it wait behind every move of the license in flight. Passes that find nothing
// happen: on PostgreSQL a pass releases every seat of the license that is due, whichever node
// idled it, so when several nodes' seats of one license fall due together (a mass disconnect
// across nodes) the later nodes' timers find them gone; and a pass asked for while one runs, or a
// sweep, may come after the seats went. The lock is now taken in the same statement as the check
// that some seat is due: with none, no row is locked and the call answers `released` with nothing
// ended and no license (the node learns nothing from it), as for a license that is gone. Whatever
// falls due after that read is the next pass's, as it would be for a pass that came a moment
// earlier; the node that idled a seat has committed its deadline before its own timer asks.
// Someone queued changes nothing here: the full transaction the node ran for them (`stale`)
// serves the queue only with seats it released. With something due, the call runs as before.
//
// A one-off script (11:01 UTC on 2026-11-28; six rounds, the two versions in turn, each on a
// fresh database): 3,000 passes with nothing due took 283–502 µs a call through the store before
// and 195–355 after (the node's CPU 103–182 and 83–158 µs); 2,000 passes that each found one
// seat, 521–719 µs before and 623–763 after (medians 665 and 685: within the noise, the check may
// cost such a pass a few per cent). A first version checked in a statement of its own before the
// lock, which cost such passes more (medians 640 and 683 over nine rounds); this one replaced it
// the same morning, before any release.
//
// The function's text is that of migration 2026-11-28T02 with the check added to its lock: that
// text is frozen, and the change is checked to apply. `down` puts that version back.
import { type Kysely, sql } from 'kysely';
import { SessionState as St } from '../shared';
import { changed, EXPIRE as LOCKING_EXPIRE } from './2026-11-28T02-00-00_set-based-seat-moves';

function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter.constructor.name === 'PostgresAdapter';
}

export const EXPIRE = changed(
  LOCKING_EXPIRE,
  'SELECT * INTO lic FROM licenses WHERE id = p_license_id FOR UPDATE;',
  `SELECT * INTO lic FROM licenses WHERE id = p_license_id
    AND EXISTS (SELECT 1 FROM sessions WHERE license_id = p_license_id AND state = '${St.Idle}' AND expires_at <= p_now)
    FOR UPDATE;`,
);

export async function up(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql.raw(EXPIRE).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql.raw(LOCKING_EXPIRE).execute(db);
}
