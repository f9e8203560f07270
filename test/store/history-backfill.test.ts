// Migration 2026-11-26T13 (seat counts) on a database that already has licenses: each gets one
// seat count, its seats as they are, from its creation, so its history has a limit line at once.
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import { afterAll, expect, it } from 'vitest';
import { migrations } from '../../migrations';
import { describeWith, type Postgres, postgresMissing, startPostgres, testPool } from '../support/services';

const BEFORE = '2026-11-26T12-00-00_policies';
const MINE = '2026-11-26T13-00-00_seat-counts';

async function backfill(db: Kysely<any>) {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  expect((await migrator.migrateTo(BEFORE)).error).toBeUndefined();
  await db.insertInto('tenants').values({ id: 't', name: 'T', admin_token_hash: 'h', created_at: 1 }).execute();
  for (const [id, seats, createdAt] of [['a', 5, 1000], ['b', 0, 2000]] as const) {
    await db
      .insertInto('licenses')
      .values({ id, tenant_id: 't', name: id, seats, seat_key: '["session"]', idle_timeout_sec: 60, status: 'active', denied_message: 'm', secret: 's', created_at: createdAt, updated_at: 9000 })
      .execute();
  }
  expect((await migrator.migrateTo(MINE)).error).toBeUndefined();
  const rows = await db.selectFrom('seat_counts').select(['license_id', 'at', 'seats']).orderBy('license_id').execute();
  expect(rows.map((r) => ({ license_id: r.license_id, at: Number(r.at), seats: Number(r.seats) }))).toEqual([
    { license_id: 'a', at: 1000, seats: 5 },
    { license_id: 'b', at: 2000, seats: 0 },
  ]);
  // And it goes down cleanly.
  expect((await migrator.migrateTo(BEFORE)).error).toBeUndefined();
}

describeWith([])('seat counts migration: sqlite', () => {
  it('gives every existing license its seats from its creation', async () => {
    const db = new Kysely<any>({ dialect: new SqliteDialect({ database: new BetterSqlite3(':memory:') }) });
    try {
      await backfill(db);
    } finally {
      await db.destroy();
    }
  });
});

describeWith([postgresMissing()])('seat counts migration: postgres', { timeout: 60_000 }, () => {
  let cluster: Postgres | undefined;
  afterAll(async () => cluster?.destroy());
  it('gives every existing license its seats from its creation', async () => {
    cluster = await startPostgres();
    const db = new Kysely<any>({ dialect: new PostgresDialect({ pool: testPool(await cluster.createDatabase('backfill')) }) });
    try {
      await backfill(db);
    } finally {
      await db.destroy();
    }
  });
});
