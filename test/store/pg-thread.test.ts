// PostgreSQL's one-trip answers, read on a thread of their own (server/store/pg-thread.ts): a call
// answered while the event loop is held (a mass disconnect's teardown) is settled by `pump()` then,
// not once the loop comes back; errors keep PostgreSQL's fields; a closed thread refuses calls.
import { randomUUID } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { benchLicense } from '../../bench/store-bench';
import type { AdmitOutcome, License } from '../../server/seats/types';
import { PgThread } from '../../server/store/pg-thread';
import { PostgresSeatStore } from '../../server/store/postgres-store';
import { closeSocket, connectAndAdmit, granted, sign, startServer } from '../support/harness';
import { describeWith, type Postgres, postgresMissing, startPostgres } from '../support/services';

/** Holds this thread (and so its event loop) for `ms`, the way a long turn of the loop does. */
const hold = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

describeWith([postgresMissing()])('PostgreSQL answers read on their own thread', () => {
  let cluster: Postgres;
  let url: string;
  beforeAll(async () => {
    cluster = await startPostgres();
    url = await cluster.createDatabase('pg_thread');
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('settles a call PostgreSQL answered while the event loop is held, without a turn of the loop', async () => {
    const thread = new PgThread({ url, max: 2, connectMs: 5000 });
    try {
      expect(await thread.call('select $1::text', ['warm'])).toBe('warm');
      const answer = thread.call('select $1::text || pg_backend_pid()::text', ['pid ']);
      // The loop does not turn from here to the end of this loop: only `pump` can settle the call.
      let settled = 0;
      for (const end = Date.now() + 10_000; settled === 0 && Date.now() < end; hold(5)) settled = thread.pump();
      expect(settled).toBe(1);
      expect(await answer).toMatch(/^pid \d+$/);
      // Nothing waits: nothing to take.
      expect(thread.pump()).toBe(0);
    } finally {
      await thread.close();
    }
  });

  it('answers with the first column of the first row: json as its text, bigint as a number, null for SQL null, undefined for no row', async () => {
    const thread = new PgThread({ url, max: 2, connectMs: 5000 });
    try {
      const [json, big, none, empty] = await Promise.all([
        thread.call(`select jsonb_build_object('seats', $1::int, 'at', $2::bigint)`, [3, 1_790_000_000_000]),
        thread.call('select $1::bigint', [9_007_199_254_740_991]),
        thread.call('select null::jsonb', []),
        thread.call('select 1 where false', []),
      ]);
      expect(JSON.parse(json as string)).toEqual({ seats: 3, at: 1_790_000_000_000 });
      expect(big).toBe(9_007_199_254_740_991);
      expect(none).toBeNull();
      expect(empty).toBeUndefined();
    } finally {
      await thread.close();
    }
  });

  it('fails a call with PostgreSQL’s error and its code, and goes on answering', async () => {
    const thread = new PgThread({ url, max: 1, connectMs: 5000 });
    try {
      const err = await thread.call('select $1::int', ['not a number']).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect(err).toMatchObject({ code: '22P02', message: expect.stringContaining('invalid input syntax') });
      expect(await thread.call('select 2::text', [])).toBe('2');
    } finally {
      await thread.close();
    }
    await expect(thread.call('select 1', [])).rejects.toThrow(/closed/);
  });

  /**
   * A node's store on a database of its own (a pool of four: one connection the thread's), with one
   * license; `admit(i)` grants socket `sock-i` to session `s-i`. The store is closed after `fn`.
   */
  async function withStore(name: string, seats: number, fn: (t: { db: string; store: PostgresSeatStore; license: License; admit: (i: number) => Promise<AdmitOutcome>; thread: PgThread }) => Promise<void>) {
    const db = await cluster.createDatabase(`pg_thread_${name}`);
    const store = PostgresSeatStore.open(db, 4);
    try {
      await store.migrate();
      const now = Date.now();
      const tenant = await store.createTenant({ id: randomUUID(), name, createdAt: now }, randomUUID());
      const license = await store.createLicense(benchLicense({ id: `lic_${randomUUID()}`, tenantId: tenant.id, name, seats, secret: 'x'.repeat(32), now }));
      const admit = (i: number) =>
        store.admit({ licenseId: license.id, socketId: `sock-${i}`, nodeId: 'n', now: Date.now(), claimant: { sessionRef: `s-${i}`, userId: null, deviceId: null, instanceId: null, app: name, name: null, weight: 1 } });
      const thread = Reflect.get(Reflect.get(store, 'dialect') as object, 'thread') as PgThread;
      await fn({ db, store, license, admit, thread });
    } finally {
      await store.close();
    }
  }

  it('opens no more connections than its pool size, the thread’s among them, with every kind of move in flight', async () => {
    await withStore('pool', 100, async ({ db, store, license, admit }) => {
      const watcher = new pg.Client({ connectionString: db });
      await watcher.connect();
      try {
        const sockets = Array.from({ length: 40 }, (_, i) => i);
        // Admissions warm what the node knows of the license (the first goes the full way).
        await admit(0);
        await Promise.all(sockets.slice(1).map(admit));
        // Every kind of call at once, more than the pool holds: each pool opens every connection it may
        // (an idle one stays open for 10 s).
        await Promise.all([
          ...sockets.map((i) => store.detach(`sock-${i}`, Date.now() - 2_000, license.id)),
          ...sockets.map(() => store.expireLicense(license.id, Date.now())),
          ...sockets.map(() => store.ping()),
        ]);
        const { rows } = await watcher.query('select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
        const open = rows[0].n as number;
        await store.expireLicense(license.id, Date.now());
        // Three for transactions and the other moves, one for the thread: four in all.
        expect(open).toBe(4);
        expect((await store.getLicense(license.id))!.seatsInUse).toBe(0);
      } finally {
        await watcher.end();
      }
    });
  });

  it('a thread that fails rejects the calls it held, and the store’s moves go on without it', async () => {
    await withStore('gone', 10, async ({ store, license, admit, thread }) => {
      for (const i of [1, 2]) expect((await admit(i)).kind).toBe('granted');
      expect(thread.usable).toBe(true);
      const held = thread.call('select pg_sleep(5)::text', []);
      await (Reflect.get(thread, 'worker') as Worker).terminate();
      await expect(held).rejects.toThrow(/exited/);
      expect(thread.usable).toBe(false);
      // The moves the thread carried go on the event loop's connections.
      const now = Date.now();
      expect((await store.detach('sock-1', now - 2_000, license.id))?.session.state).toBe('idle');
      expect((await store.detach('sock-2', now - 2_000))?.session.state).toBe('idle');
      expect((await store.expireLicense(license.id, Date.now())).map((e) => e.session.sessionRef).sort()).toEqual(['s-1', 's-2']);
    });
  });

  it('sends through the thread the sockets of a license leaving together, and the release passes while they do; the rest on the loop', async () => {
    await withStore('ways', 10, async ({ store, license, admit, thread }) => {
      const sent: string[] = [];
      const call = thread.call.bind(thread);
      thread.call = (text, values) => {
        sent.push(/seat_\w+/.exec(text)![0]);
        return call(text, values);
      };
      for (let i = 0; i < 6; i++) await admit(i);
      const now = Date.now();
      // One at a time: the loop.
      await store.detach('sock-0', now - 2_000, license.id);
      await store.expireLicense(license.id, Date.now());
      expect(sent).toEqual([]);
      // Together: the first on the loop, the rest through the thread; the release pass after them too.
      await Promise.all([1, 2, 3, 4, 5].map((i) => store.detach(`sock-${i}`, now - 2_000, license.id)));
      expect(sent).toEqual(['seat_detach_set']);
      expect(await store.expireLicense(license.id, Date.now())).toHaveLength(5);
      expect(sent).toEqual(['seat_detach_set', 'seat_expire_known']);
    });
  });

  it('a node on PostgreSQL gives the store a turn as each socket leaves', async () => {
    // Four connections: one of them the thread's.
    const store = PostgresSeatStore.open(url, 4);
    let pumped = 0;
    const pump = store.pump.bind(store);
    store.pump = () => {
      pumped++;
      pump();
    };
    const { url: server, api } = await startServer({ store });
    const { license } = await api.setup({ seats: 2, idleTimeoutSec: 30 });
    const a = await granted(server, await sign(license, { sid: 'a' }));
    await connectAndAdmit(server, await sign(license, { sid: 'b' }));
    const before = pumped;
    await closeSocket(a.socket);
    await expect.poll(() => pumped).toBeGreaterThan(before);
  });
});
