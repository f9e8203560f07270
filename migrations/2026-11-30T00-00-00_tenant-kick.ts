// PostgreSQL: a tenant admin's kick in one round trip, as the operator's is.
//
// A tenant admin may end only the sessions of its own tenant's licenses. Its kick read the
// session's license first (one round trip), then ended the session through `seat_end` (a second).
// `seat_end_of_tenant` locks the session's license, answers `{ "kind": "other_tenant" }`, changing
// nothing, when the license is not the tenant's, and otherwise ends the session as `seat_end` does
// (the same transaction: the lock taken here is the one `seat_end` asks for again). The check is
// under the license's lock, so a license moved to another tenant meanwhile is seen as moved.
//
// `seat_end` stays as it is: the operator's kick, the app's end, and nodes of the version before
// during a rolling upgrade call it.
import { type Kysely, sql } from 'kysely';

function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter.constructor.name === 'PostgresAdapter';
}

const END_OF_TENANT = `
CREATE OR REPLACE FUNCTION seat_end_of_tenant(p_session_id text, p_reason text, p_now bigint, p_cooldown_until bigint, p_tenant_id text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  owner text;
BEGIN
  SELECT l.tenant_id INTO owner FROM sessions s JOIN licenses l ON l.id = s.license_id WHERE s.id = p_session_id FOR UPDATE OF l;
  IF NOT FOUND THEN RETURN NULL; END IF;
  IF owner IS DISTINCT FROM p_tenant_id THEN RETURN '{"kind":"other_tenant"}'::jsonb; END IF;
  RETURN seat_end(p_session_id, p_reason, p_now, p_cooldown_until);
END
$$`;

export async function up(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql.raw(END_OF_TENANT).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql.raw('DROP FUNCTION IF EXISTS seat_end_of_tenant(text, text, bigint, bigint, text)').execute(db);
}
