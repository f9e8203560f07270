// How SQLite's transactions commit: under load they share commits (a commit's WAL writes cost
// more than an admission's statements), one at a time none waits; and inside a transaction the
// hot paths' compiled queries run at once on the connection it holds, not through Kysely's
// asynchronous executor.
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { type Kysely, sql } from 'kysely';
import { expect, it } from 'vitest';
import { prepare } from '../../server/store/prepared';
import { commitDelay, SqliteSeatStore, type SqliteStoreDialect } from '../../server/store/sqlite-store';
import type { Database } from '../../server/store/schema';
import { tempDir } from '../support/harness';
import { claimant, newLicense } from './store-dialects';

async function openStore(): Promise<SqliteSeatStore> {
  const store = SqliteSeatStore.open(path.join(tempDir('seats-commits-'), 'seats.db'));
  await store.migrate();
  return store;
}

it('a commit waits only while the one before it was shared, and never past 10 ms after it', () => {
  fc.assert(
    fc.property(fc.nat(100), fc.double({ min: 0, max: 1e6, noNaN: true }), (shared, since) => {
      const wait = commitDelay(shared, since);
      if (shared <= 1) return wait === 0;
      return wait >= 0 && wait <= 10 && (since >= 10 ? wait === 0 : since + wait === 10);
    }),
  );
});

it('transactions arriving a millisecond apart share commits once they come faster than commits', async () => {
  const store = await openStore();
  try {
    const license = await newLicense(store, { seats: 1000 });
    const admit = (i: number) => store.admit({ licenseId: license.id, socketId: `s${i}`, nodeId: 'n', claimant: claimant(`k${i}`), now: 1000 });
    // Two in one turn share the first commit; from then on the arrivals of each ~10 ms do.
    const admissions = [admit(0), admit(1)];
    for (let i = 2; i < 200; i++) {
      await sleep(1);
      admissions.push(admit(i));
    }
    const outcomes = await Promise.all(admissions);
    expect(outcomes.every((o) => o.kind === 'granted')).toBe(true);
    const { transactions, commits } = store.commitStats();
    expect(transactions).toBeGreaterThanOrEqual(200);
    // Each on a timer tick of its own would commit alone: 200 commits.
    expect(commits).toBeLessThan(100);
  } finally {
    await store.close();
  }
});

it('one transaction at a time commits alone, each', async () => {
  const store = await openStore();
  try {
    const license = await newLicense(store, { seats: 100 });
    const before = store.commitStats();
    for (let i = 0; i < 20; i++) {
      await store.admit({ licenseId: license.id, socketId: `s${i}`, nodeId: 'n', claimant: claimant(`k${i}`), now: 1000 });
    }
    const after = store.commitStats();
    expect(after.commits - before.commits).toBe(20);
    expect(after.transactions - before.transactions).toBe(20);
  } finally {
    await store.close();
  }
});

it('inside a transaction a compiled query answers at once, with what Kysely would have answered', async () => {
  const store = await openStore();
  try {
    const license = await newLicense(store, { seats: 3 });
    const { db, sqlite } = store as unknown as { db: Kysely<Database>; sqlite: SqliteStoreDialect };
    const read = prepare((p: { id: string }) => db.selectFrom('licenses').select(['id', 'seats']).where('id', '=', p.id));
    const bump = prepare((p: { id: string }) => db.updateTable('licenses').set({ seats: 4 }).where('id', '=', p.id));
    const outside = await read(db, { id: license.id });
    const inside = await sqlite.transaction(async (trx) => {
      const answer = read(trx, { id: license.id });
      const update = bump(trx, { id: license.id });
      expect(answer).not.toBeInstanceOf(Promise);
      expect(update).not.toBeInstanceOf(Promise);
      return { answer: await answer, update: await update, after: await sql<{ seats: number }>`select seats from licenses where id = ${license.id}`.execute(trx) };
    });
    expect(inside.answer).toEqual(outside);
    expect(inside.update.numAffectedRows).toBe(1n);
    expect(inside.after.rows[0]?.seats).toBe(4);
    // Outside a transaction it goes through Kysely, which waits for the connection.
    expect(read(db, { id: license.id })).toBeInstanceOf(Promise);
  } finally {
    await store.close();
  }
});
