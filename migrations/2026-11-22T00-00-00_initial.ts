// The initial schema. Frozen once landed: change the schema with a new, later-dated migration.
// Times are integer milliseconds since the epoch (bigint) so SQLite and PostgreSQL agree.
import type { Kysely } from 'kysely';

// SQLite's INTEGER PRIMARY KEY is the auto-incrementing rowid; PostgreSQL needs bigserial.
function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter.constructor.name === 'PostgresAdapter';
}

export async function up(db: Kysely<any>): Promise<void> {
  const serial = isPostgres(db) ? 'bigserial' : 'integer';

  await db.schema
    .createTable('tenants')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('admin_token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('licenses')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('seats', 'integer', (c) => c.notNull())
    .addColumn('seat_cap', 'integer')
    .addColumn('seat_key', 'text', (c) => c.notNull())
    .addColumn('idle_timeout_sec', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('denied_message', 'text', (c) => c.notNull())
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('licenses_tenant').on('licenses').column('tenant_id').execute();

  // Live seats only: a released session's row is deleted and its story kept in seat_events.
  await db.schema
    .createTable('sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('license_id', 'text', (c) => c.notNull().references('licenses.id'))
    .addColumn('seat_key_value', 'text', (c) => c.notNull())
    .addColumn('session_ref', 'text')
    .addColumn('user_id', 'text')
    .addColumn('device_id', 'text')
    .addColumn('instance_id', 'text')
    .addColumn('app', 'text')
    .addColumn('name', 'text')
    .addColumn('weight', 'integer', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('idle_since', 'bigint')
    .addColumn('expires_at', 'bigint')
    .addUniqueConstraint('sessions_seat_key', ['license_id', 'seat_key_value'])
    .execute();
  await db.schema.createIndex('sessions_expiry').on('sessions').columns(['state', 'expires_at']).execute();

  await db.schema
    .createTable('connections')
    .addColumn('socket_id', 'text', (c) => c.primaryKey())
    .addColumn('session_id', 'text', (c) => c.notNull())
    .addColumn('license_id', 'text', (c) => c.notNull())
    .addColumn('node_id', 'text', (c) => c.notNull())
    .addColumn('app', 'text')
    .addColumn('connected_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('connections_session').on('connections').column('session_id').execute();
  await db.schema.createIndex('connections_node').on('connections').column('node_id').execute();

  await db.schema
    .createTable('kick_cooldowns')
    .addColumn('license_id', 'text', (c) => c.notNull())
    .addColumn('seat_key_value', 'text', (c) => c.notNull())
    .addColumn('until', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('kick_cooldowns_pk', ['license_id', 'seat_key_value'])
    .execute();

  await db.schema
    .createTable('denials')
    .addColumn('id', serial, (c) => c.primaryKey())
    .addColumn('license_id', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('session_ref', 'text')
    .addColumn('user_id', 'text')
    .addColumn('device_id', 'text')
    .addColumn('instance_id', 'text')
    .execute();
  await db.schema.createIndex('denials_license_at').on('denials').columns(['license_id', 'at']).execute();
  await db.schema.createIndex('denials_at').on('denials').column('at').execute();

  await db.schema
    .createTable('seat_events')
    .addColumn('id', serial, (c) => c.primaryKey())
    .addColumn('license_id', 'text', (c) => c.notNull())
    .addColumn('session_id', 'text')
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('weight', 'integer', (c) => c.notNull())
    .addColumn('seats_in_use', 'integer', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('seat_events_license_at').on('seat_events').columns(['license_id', 'at']).execute();
  await db.schema.createIndex('seat_events_at').on('seat_events').column('at').execute();

  await db.schema
    .createTable('audit_log')
    .addColumn('id', serial, (c) => c.primaryKey())
    .addColumn('tenant_id', 'text')
    .addColumn('license_id', 'text')
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('detail', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_log_tenant_at').on('audit_log').columns(['tenant_id', 'at']).execute();

  await db.schema
    .createTable('nodes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('heartbeat_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();

}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['settings', 'nodes', 'audit_log', 'seat_events', 'denials', 'kick_cooldowns', 'connections', 'sessions', 'licenses', 'tenants']) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
