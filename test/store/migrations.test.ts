// Migrations are imported through migrations/index.ts (so that the bundled server carries them):
// a migration file missing from that list would silently never run.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrations } from '../../migrations';
import type { SeatStore } from '../../server/seats/seat-store';
import { PostgresSeatStore } from '../../server/store/postgres-store';
import { SqliteSeatStore } from '../../server/store/sqlite-store';
import { tempDir } from '../support/harness';
import { describeWith, type Postgres, postgresMissing, startPostgres } from '../support/services';
import { claimant, newLicense } from './store-dialects';

it('migrations/index.ts lists every migration file under its file name, and nothing else', () => {
  const dir = path.resolve(import.meta.dirname, '../../migrations');
  const files = readdirSync(dir)
    .filter((f) => /\.(ts|js)$/.test(f) && f !== 'index.ts' && !f.endsWith('.d.ts'))
    .map((f) => f.replace(/\.(ts|js)$/, ''))
    .sort();
  expect(Object.keys(migrations).sort()).toEqual(files);
  for (const name of files) expect(typeof migrations[name]!.up, name).toBe('function');
});

/**
 * A node of the version before, started during a rolling upgrade (or a rollback) on a database a
 * newer node migrated: it runs on it, with every migration of its own run; Kysely alone refuses
 * any database with a migration it was not given ("corrupted migrations").
 */
function rollingUpgrade(name: string, open: () => Promise<{ store: SeatStore; sql: (text: string) => Promise<unknown> }>) {
  it(`${name}: a database migrated by a newer version is run on as it is; one that lacks this version's migrations is refused`, async () => {
    const first = await open();
    expect(await first.store.migrate()).toEqual({ newer: [] });
    await first.sql(`insert into kysely_migration (name, timestamp) values ('2099-01-01T00-00-00_a-newer-one', '2099-01-01T00:00:00.000Z')`);
    await first.store.close();

    const older = await open();
    expect(await older.store.migrate()).toEqual({ newer: ['2099-01-01T00-00-00_a-newer-one'] });
    // It works on it.
    const license = await newLicense(older.store, { seats: 1 });
    expect((await older.store.admit({ licenseId: license.id, socketId: 's1', nodeId: 'n', now: Date.now(), claimant: claimant('k') })).kind).toBe('granted');
    // A migration of this version not run (a database of a branch that went another way): refused, naming it.
    const last = Object.keys(migrations).sort().at(-1)!;
    await older.sql(`delete from kysely_migration where name = '${last}'`);
    await expect(older.store.migrate()).rejects.toMatchObject({ cause: { message: expect.stringContaining(`lacks this version's ${last}`) } });
    await older.store.close();
  });
}

let file: string | undefined;
rollingUpgrade('sqlite', async () => {
  // One file for the test's stores (tempDir is removed when the test ends).
  file ??= path.join(tempDir(), 'seats.db');
  const store = SqliteSeatStore.open(file);
  return {
    store,
    sql: async (text) => {
      const db = new Database(file!);
      try {
        db.exec(text);
      } finally {
        db.close();
      }
    },
  };
});

describeWith([postgresMissing()])('postgres', () => {
  let cluster: Postgres;
  let url: string;
  beforeAll(async () => {
    cluster = await startPostgres();
    url = await cluster.createDatabase('rolling');
  }, 60_000);
  afterAll(() => cluster?.destroy());
  rollingUpgrade('postgres', async () => ({
    store: PostgresSeatStore.open(url, 2),
    sql: async (text) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(text);
      } finally {
        await client.end();
      }
    },
  }));
});
