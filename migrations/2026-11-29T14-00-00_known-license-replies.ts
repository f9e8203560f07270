// PostgreSQL: a socket leaving and an idle release pass answer with the license's count alone
// when the node already has its settings.
//
// `seat_detach` and `seat_expire` answer with the whole license row (`to_jsonb(lic)`, about
// 0.5 KiB) for the node to read the seats held from, though the node keeps each license's
// settings with their revision (`licenses.revision`, moved by a trigger on every change) and
// reads them again only when that moved. `seat_detach_known` and `seat_expire_known` take the
// license and revision the node has; where the row is still at that revision they answer
// `{ id, revision, seats_in_use, known: true }` instead, and the node takes the rest from what it
// sent the call with. A socket found on another license, or a revision that moved, is answered
// with the whole row as before.
//
// A one-off script (13:55 UTC on 2026-11-29, the 2-core Xeon; detaches one at a time through a
// bare client with named statements, the two answers in turn): 318–441 µs a call with the whole
// row, 306–413 with the count (5–10 %; the answer 703 → 363 bytes).
//
// The old functions stay, for nodes of the version before during a rolling upgrade. The new
// ones' texts are theirs with the answer changed (their migrations' texts are frozen; each change
// is checked to apply).
import { type Kysely, sql } from 'kysely';
import { DETACH } from './2026-11-26T20-00-00_one-trip-seats';
import { changed } from './2026-11-28T02-00-00_set-based-seat-moves';
import { EXPIRE } from './2026-11-28T10-00-00_expire-nothing-due';

function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter.constructor.name === 'PostgresAdapter';
}

/** The license in an answer: its count alone where the caller has it at this revision. */
const KNOWN_LICENSE = `CASE WHEN lic.id = p_license_id AND lic.revision = p_revision
      THEN jsonb_build_object('id', lic.id, 'revision', lic.revision, 'seats_in_use', lic.seats_in_use, 'known', true)
      ELSE to_jsonb(lic) END`;

const DETACH_KNOWN = [
  ['FUNCTION seat_detach(p_socket_id text, p_now bigint)', 'FUNCTION seat_detach_known(p_socket_id text, p_now bigint, p_license_id text, p_revision integer)'],
  // Its two answers that carry the license: the session idled, and the session's other tabs staying.
  ["RETURN jsonb_build_object('license', to_jsonb(lic), 'session', to_jsonb(s), 'conns', '[]'::jsonb);", `RETURN jsonb_build_object('license', ${KNOWN_LICENSE}, 'session', to_jsonb(s), 'conns', '[]'::jsonb);`],
  ["RETURN jsonb_build_object('license', to_jsonb(lic), 'session', to_jsonb(s), 'conns',", `RETURN jsonb_build_object('license', ${KNOWN_LICENSE}, 'session', to_jsonb(s), 'conns',`],
].reduce((text, [from, to]) => changed(text, from!, to!), DETACH);

const EXPIRE_KNOWN = [
  ['FUNCTION seat_expire(p_license_id text, p_now bigint, p_reason text)', 'FUNCTION seat_expire_known(p_license_id text, p_now bigint, p_reason text, p_revision integer)'],
  ["RETURN jsonb_build_object('kind', 'released', 'license', to_jsonb(lic), 'ended', ended);", `RETURN jsonb_build_object('kind', 'released', 'license', ${KNOWN_LICENSE}, 'ended', ended);`],
].reduce((text, [from, to]) => changed(text, from!, to!), EXPIRE);

export async function up(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql.raw(DETACH_KNOWN).execute(db);
  await sql.raw(EXPIRE_KNOWN).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql.raw('DROP FUNCTION IF EXISTS seat_detach_known(text, bigint, text, integer)').execute(db);
  await sql.raw('DROP FUNCTION IF EXISTS seat_expire_known(text, bigint, text, integer)').execute(db);
}
