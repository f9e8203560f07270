// How SQLite's transactions commit: while they stream in they share commits (a commit's WAL
// writes cost more than an admission's statements), one at a time none waits, nor do callers that
// wait for their answers; and inside a transaction the hot paths' compiled queries run at once on
// the connection it holds, not through Kysely's asynchronous executor.
import { randomBytes, randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { type Kysely, sql } from 'kysely';
import { expect, it } from 'vitest';
import { prepare } from '../../server/store/prepared';
import { afterWait, BUSY, COMMIT_TARGET, FRUITLESS_WAITS, QUIET_MS, STREAM_GAP_MS, shouldWait } from '../../server/store/commit-pace';
import { SqliteSeatStore, type SqliteStoreDialect, WAL_START_OVER } from '../../server/store/sqlite-store';
import type { Database } from '../../server/store/schema';
import { tempDir } from '../support/harness';
import { claimant, newLicense } from './store-dialects';

async function openStore(): Promise<SqliteSeatStore> {
  const store = SqliteSeatStore.open(path.join(tempDir('seats-commits-'), 'seats.db'));
  await store.migrate();
  return store;
}

it('a commit waits only while the process is busy, in a stream or for several at once: never for a release due first, a full group or in a quiet spell', () => {
  const pace = fc.record({ streaming: fc.boolean(), lastDrain: fc.nat(10_000), quietUntil: fc.nat(10_000), fruitless: fc.nat(FRUITLESS_WAITS - 1) });
  fc.assert(
    fc.property(pace, fc.nat(100), fc.boolean(), fc.nat(10_000), fc.double({ min: 0, max: 1, noNaN: true }), (p, pending, first, now, busy) => {
      const stream = p.streaming && now - p.lastDrain < STREAM_GAP_MS;
      const expected = busy >= BUSY && !first && pending < COMMIT_TARGET && now >= p.quietUntil && (pending >= 2 || stream);
      return shouldWait(p, pending, first, now, busy) === expected;
    }),
  );
});

it('a wait that brought in anything new goes on with the stream; the third fruitless one in a row starts a quiet spell', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: COMMIT_TARGET }), fc.nat(100), fc.nat(FRUITLESS_WAITS - 1), fc.nat(10_000), (before, gained, fruitless, now) => {
      const pace = { streaming: true, lastDrain: now - 1, quietUntil: 0, fruitless };
      const after = afterWait(pace, before, before + gained, now);
      if (gained > 0) return after.streaming && after.quietUntil === now && after.fruitless === 0;
      const next = { ...after, lastDrain: now };
      if (fruitless + 1 < FRUITLESS_WAITS) {
        // Not quiet yet: several pending still wait.
        return !after.streaming && after.fruitless === fruitless + 1 && shouldWait(next, 2, false, now, 1);
      }
      return !after.streaming && after.fruitless === 0 && after.quietUntil === now + QUIET_MS && !shouldWait(next, 2, false, now + QUIET_MS - 1, 1);
    }),
  );
});

/**
 * 100 admissions arriving two at a time (as sockets read in one turn), `gapMs` apart, with
 * `busyMs` of other work between them.
 */
async function stream(store: SqliteSeatStore, busyMs: number, gapMs = 1) {
  const license = await newLicense(store, { seats: 1000 });
  const admit = (i: number) => store.admit({ licenseId: license.id, socketId: `s${i}`, nodeId: 'n', claimant: claimant(`k${i}`), now: 1000 });
  // The event loop's utilization is read over windows of 100 ms: one of rest first (the store's
  // opening and migration kept it busy), read by an admission of its own.
  await sleep(150);
  await admit(-1);
  const before = store.commitStats();
  const admissions = [admit(0), admit(1)];
  for (let i = 2; i < 100; i += 2) {
    await sleep(gapMs);
    // The process's other work (sockets, tokens): it keeps the event loop busy.
    const until = performance.now() + busyMs;
    while (performance.now() < until);
    admissions.push(admit(i), admit(i + 1));
  }
  const outcomes = await Promise.all(admissions);
  expect(outcomes.every((o) => o.kind === 'granted')).toBe(true);
  const after = store.commitStats();
  return { transactions: after.transactions - before.transactions, commits: after.commits - before.commits, waits: after.waits - before.waits };
}

it('transactions streaming into a busy process share commits', async () => {
  const store = await openStore();
  try {
    const { transactions, commits, waits } = await stream(store, 12);
    expect(transactions).toBe(100);
    expect(waits).toBeGreaterThan(0);
    // Each pair on a turn of its own would share a commit: 50 commits.
    expect(commits).toBeLessThan(40);
  } finally {
    await store.close();
  }
});

it('transactions streaming into a process with time to spare commit at once, without waiting', async () => {
  const store = await openStore();
  try {
    // Pairs 4 ms apart: a pair's statements take a fraction of a millisecond, so the event loop
    // reads far from busy even on a loaded machine, where a pair can take a few (with pairs 1 ms
    // apart, a fresh-clone CI run once read busy over one window: a wait).
    const { commits, waits } = await stream(store, 0, 4);
    expect(waits).toBe(0);
    // About one commit a pair (two pairs share one when a timer runs late).
    expect(commits).toBeGreaterThanOrEqual(45);
  } finally {
    await store.close();
  }
});

it('ending a session commits at once while the process is busy, where two admissions wait for more', async () => {
  const store = await openStore();
  try {
    const license = await newLicense(store, { seats: 100 });
    const admit = (k: string) => store.admit({ licenseId: license.id, socketId: k, nodeId: 'n', claimant: claimant(k), now: 1000 });
    const held = await admit('held');
    if (held.kind !== 'granted') throw new Error('expected a grant');
    // Busy: the event loop's utilization is read over windows of 100 ms.
    const busy = () => {
      const until = performance.now() + 120;
      while (performance.now() < until);
    };
    busy();
    const before = store.commitStats();
    await Promise.all([admit('a1'), admit('a2')]);
    const waited = store.commitStats();
    expect(waited.waits - before.waits).toBe(1);

    busy();
    const [ended] = await Promise.all([store.endSession(held.session.id, 'kicked', 1001), admit('a3')]);
    expect(ended?.session.id).toBe(held.session.id);
    expect(store.commitStats().waits - waited.waits).toBe(0);
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

it('callers that wait for their answers, a few in flight, are not kept waiting commit after commit', async () => {
  const store = await openStore();
  try {
    const license = await newLicense(store, { seats: 1000 });
    let n = 0;
    // Four callers, each sending its next admission when the last is answered: 400 in all.
    const caller = async () => {
      for (let i = 0; i < 100; i++) {
        const k = n++;
        await store.admit({ licenseId: license.id, socketId: `s${k}`, nodeId: 'n', claimant: claimant(`k${k}`), now: 1000 });
      }
    };
    const started = performance.now();
    await Promise.all([caller(), caller(), caller(), caller()]);
    const { waits, commits } = store.commitStats();
    expect(commits).toBeGreaterThanOrEqual(100);
    // FRUITLESS_WAITS fruitless waits, then none for QUIET_MS: waiting every time would be 100 waits.
    expect(waits).toBeLessThanOrEqual(FRUITLESS_WAITS * (1 + Math.ceil((performance.now() - started) / QUIET_MS)));
    expect(waits).toBeLessThan(20);
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

it('commits that never pause still let the WAL start over: past its limit they wait for a checkpoint of what is left', async () => {
  const dir = tempDir('seats-wal-');
  const store = SqliteSeatStore.open(path.join(dir, 'seats.db'));
  await store.migrate();
  const limit = { ...WAL_START_OVER };
  WAL_START_OVER.frames = 1000;
  try {
    const license = await newLicense(store, { seats: 100_000 });
    let largest = 0;
    const watch = setInterval(() => {
      try {
        largest = Math.max(largest, statSync(path.join(dir, 'seats.db-wal')).size);
      } catch {
        // Not there yet.
      }
    }, 5);
    let next = 0;
    const total = 20_000;
    // 64 callers, each admitting as soon as its last answer came, so the commits follow each other;
    // random ids, as real clients send, so each grant writes pages all over the indexes.
    const outcomes = await Promise.all(
      Array.from({ length: 64 }, async () => {
        const kinds: string[] = [];
        while (next < total) {
          const i = next++;
          const o = await store.admit({ licenseId: license.id, socketId: randomBytes(15).toString('base64url'), nodeId: 'n', claimant: claimant(`${randomUUID()}-${i}`), now: 1000 });
          kinds.push(o.kind);
        }
        return kinds;
      }),
    );
    clearInterval(watch);
    expect(outcomes.flat().filter((k) => k !== 'granted')).toEqual([]);
    expect(store.commitStats().walStartOvers).toBeGreaterThan(0);
    // Without the waits the WAL grows by about 10 KB a grant (200 MB here); with them it starts
    // over within a checkpoint interval of passing the limit.
    expect(largest).toBeLessThan(100 * 2 ** 20);
  } finally {
    Object.assign(WAL_START_OVER, limit);
    await store.close();
  }
}, 60_000);
