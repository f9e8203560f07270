// PostgreSQL's one-trip seat moves (server/store/one-trip-seats.ts, migration 2026-11-26T20): an
// admission, a detach and an idle release are each one function call, decided on the settings
// the node last read and checked against their revision under the lock; where that is not enough
// the node runs the full transaction. Several stores on one database stand for several nodes.
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { OTHER_TENANT, type SeatStore } from '../../server/seats/seat-store';
import { PostgresSeatStore } from '../../server/store/postgres-store';
import { describeWith, type Postgres, postgresMissing, startPostgres } from '../support/services';
import { admit, claimant, grant, held, newLicense, seatsInUse } from './store-dialects';

describeWith([postgresMissing()])('one-trip seat moves: postgres', { timeout: 60_000 }, () => {
  let cluster: Postgres;
  const opened: SeatStore[] = [];
  beforeAll(async () => {
    cluster = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled(opened.map((s) => s.close()));
    await cluster?.destroy();
  });

  /** `n` stores (nodes) on a fresh database; PostgreSQL counts the calls of the seat functions. */
  async function nodes(n: number): Promise<{ stores: SeatStore[]; url: string }> {
    const url = await cluster.createDatabase('onetrip');
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`alter database "${new URL(url).pathname.slice(1)}" set track_functions = 'pl'`);
    await admin.end();
    const stores = Array.from({ length: n }, () => PostgresSeatStore.open(url, 4));
    opened.push(...stores);
    await stores[0]!.migrate();
    return { stores, url };
  }

  /** How often each seat function ran (the stores' connections report as they close). */
  async function calls(url: string): Promise<Record<string, number>> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ funcname: string; calls: string }>('select funcname, calls from pg_stat_user_functions');
      return Object.fromEntries(rows.map((r) => [r.funcname, Number(r.calls)]));
    } finally {
      await client.end();
    }
  }

  /** The license's seat events of one type, in the order they were written. */
  async function seatEvents(url: string, licenseId: string, type: string) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ session_id: string; seats_in_use: number; at: string }>(
        'select session_id, seats_in_use, at from seat_events where license_id = $1 and type = $2 order by id',
        [licenseId, type],
      );
      return rows.map((r) => ({ sessionId: r.session_id, seats: r.seats_in_use, at: Number(r.at) }));
    } finally {
      await client.end();
    }
  }

  /**
   * How many statements wrote the seat events of one type of these sessions (distinct transaction
   * and command ids: a statement's rows share both; statements may share a command id too).
   */
  async function statementsWriting(url: string, sessionIds: string[], type: string): Promise<number> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: string }>(
        'select count(distinct (xmin::text, cmin::text)) as n from seat_events where session_id = any($1) and type = $2',
        [sessionIds, type],
      );
      return Number(rows[0]!.n);
    } finally {
      await client.end();
    }
  }

  it('admits, detaches, releases and ends in one function call each once the license is known', async () => {
    const { stores, url } = await nodes(1);
    const store = stores[0]!;
    const license = await newLicense(store, { seats: 10, idleTimeoutSec: 1 });
    // The first admission reads the license under its lock (a transaction); the rest are calls.
    for (let i = 0; i < 5; i++) await grant(store, license, claimant(`k${i}`), 1000 + i, `s${i}`);
    const again = await grant(store, license, claimant('k0'), 1010, 's0-again');
    expect(again.resumed).toBe(true);
    expect(again.session.sockets).toBe(2);
    for (let i = 1; i < 5; i++) {
      const out = await store.detach(`s${i}`, 2000);
      expect(out?.session.state).toBe('idle');
      expect(out?.session.expiresAt).toBe(3000);
    }
    expect((await store.expireLicense(license.id, 3000)).map((e) => e.session.sessionRef).sort()).toEqual(['k1', 'k2', 'k3', 'k4']);
    expect(await seatsInUse(store, license.id)).toBe(1);
    const ended = await store.endSession(again.session.id, 'ended_by_app', 3100);
    expect([ended?.session.sockets, ended?.seatsInUse]).toEqual([2, 0]);
    expect(await store.endSession(again.session.id, 'ended_by_app', 3101)).toBeUndefined();
    expect(await held(store, license.id)).toBe(0);
    await store.close();
    const n = await calls(url);
    expect(n.seat_admit).toBe(5);
    expect(n.seat_detach_known).toBe(4);
    expect(n.seat_expire_known).toBe(1);
    expect(n.seat_end).toBe(2);
  });

  it("ends a tenant admin's kick in one call, checked against the tenant under the license's lock", async () => {
    const { stores, url } = await nodes(1);
    const store = stores[0]!;
    const license = await newLicense(store, { seats: 2 });
    const foreign = await newLicense(store, { seats: 2 });
    const mine = await grant(store, license, claimant('a'), 100, 'k1');
    const theirs = await grant(store, foreign, claimant('b'), 100, 'k2');
    expect(await store.endSession(theirs.session.id, 'kicked', 200, 1200, license.tenantId)).toBe(OTHER_TENANT);
    expect(await store.endSession(mine.session.id, 'kicked', 200, 1200, license.tenantId)).toMatchObject({ seatsInUse: 0, session: { id: mine.session.id } });
    expect(await seatsInUse(store, foreign.id)).toBe(1);
    await store.close();
    const n = await calls(url);
    expect(n.seat_end_of_tenant).toBe(2);
    // Inside it, for its own tenant's session only.
    expect(n.seat_end).toBe(1);
  });

  /** The license in each answer of `seat_detach_known` and `seat_expire_known` on the stores' pools, as they come. */
  function watchAnswers(): { licenses: Array<Record<string, unknown>>; stop: () => void } {
    const licenses: Array<Record<string, unknown>> = [];
    const query = pg.Pool.prototype.query;
    pg.Pool.prototype.query = async function (this: pg.Pool, ...args: unknown[]) {
      const result = await (query as (...a: unknown[]) => Promise<pg.QueryResult>).apply(this, args);
      const name = (args[0] as { name?: string } | undefined)?.name;
      if (name === 'seat_detach_known' || name === 'seat_expire_known') licenses.push((result.rows[0] as Array<{ license: Record<string, unknown> }>)[0]!.license);
      return result;
    } as typeof query;
    return { licenses, stop: () => void (pg.Pool.prototype.query = query) };
  }

  it('answers a socket leaving and a release pass with the license count alone where the node has its settings, with the row where they moved', async () => {
    const { stores, url } = await nodes(1);
    const store = stores[0]!;
    const license = await newLicense(store, { seats: 10, idleTimeoutSec: 1 });
    for (let i = 0; i < 3; i++) await grant(store, license, claimant(`k${i}`), 10 + i, `s${i}`);
    const answers = watchAnswers();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const first = await store.detach('s0', 100, license.id);
      expect(answers.licenses.pop()).toEqual({ id: license.id, revision: expect.any(Number), seats_in_use: 3, known: true });
      expect(first?.license).toEqual({ ...(await store.getLicense(license.id)), seatsInUse: 3 });
      expect(first?.session.expiresAt).toBe(1100);
      // Changed elsewhere (another node, a migration): the next answer carries the row, and its settings count.
      await client.query('update licenses set idle_timeout_sec = 5 where id = $1', [license.id]);
      const second = await store.detach('s1', 200, license.id);
      expect(answers.licenses.pop()).toMatchObject({ id: license.id, idle_timeout_sec: 5, seats_in_use: 3 });
      expect([second?.license.idleTimeoutSec, second?.session.expiresAt]).toEqual([5, 5200]);
      // Known again, at the new revision.
      const ended = await store.expireLicense(license.id, 1100);
      expect(answers.licenses.pop()).toEqual({ id: license.id, revision: expect.any(Number), seats_in_use: 3, known: true });
      expect(ended.map((e) => [e.session.sessionRef, e.seatsInUse, e.license.idleTimeoutSec, e.license.name])).toEqual([['k0', 2, 5, license.name]]);
      // A socket detached without its license: the row, as before.
      await store.detach('s2', 300);
      expect(answers.licenses.pop()).toMatchObject({ id: license.id, idle_timeout_sec: 5, name: license.name });
      expect(answers.licenses).toEqual([]);
    } finally {
      answers.stop();
      await client.end();
    }
  });

  it('decides on settings another node changed since this one read them', async () => {
    const { stores } = await nodes(2);
    const [a, b] = stores as [SeatStore, SeatStore];
    const license = await newLicense(a, { seats: 2 });
    await grant(a, license, claimant('k1'), 10);
    // Node B lowers the seats to 1: node A, which knows 2, must not grant a second seat.
    await b.updateLicense(license.id, { seats: 1 }, 11);
    const second = await admit(a, license, claimant('k2'), 12);
    expect(second.kind === 'denied' && second.denial.reason).toBe('no_free_seats');
    await b.updateLicense(license.id, { seats: 3 }, 13);
    expect((await admit(a, license, claimant('k2'), 14)).kind).toBe('granted');
    // Node B suspends the license: node A refuses a resume and a newcomer alike.
    await b.updateLicense(license.id, { status: 'suspended' }, 15);
    for (const key of ['k1', 'k3']) {
      const out = await admit(a, license, claimant(key), 16);
      expect(out.kind === 'denied' && out.denial.reason).toBe('license_suspended');
    }
    expect(await held(a, license.id)).toBe(0);
  });

  it('keeps a kicked seat key out for its cool-down, releases an own seat past its deadline, and marks overage', async () => {
    const { stores } = await nodes(1);
    const store = stores[0]!;
    const license = await newLicense(store, { seats: 1, overage: 2, idleTimeoutSec: 1 });
    const first = await grant(store, license, claimant('k1'), 100, 'k1-s');
    const over = await grant(store, license, claimant('k2'), 101, 'k2-s');
    expect([first.overage, over.overage]).toEqual([false, true]);
    // A kick with a cool-down: the node knows the license, and still refuses the key until then.
    await store.endSession(over.session.id, 'kicked', 102, 5102);
    const kicked = await admit(store, license, claimant('k2'), 103);
    expect(kicked.kind === 'denied' && [kicked.denial.reason, kicked.retryAfterSec]).toEqual(['kicked', 5]);
    // k1 goes idle; past its deadline its seat is no longer held: the same key starts afresh.
    await store.detach('k1-s', 200);
    const fresh = await grant(store, license, claimant('k1'), 1300);
    expect(fresh.resumed).toBe(false);
    expect(fresh.session.id).not.toBe(first.session.id);
    expect(fresh.expired.map((e) => e.session.id)).toEqual([first.session.id]);
    expect(await seatsInUse(store, license.id)).toBe(1);
  });

  it('an idle release with someone queued serves the queue in the same transaction', async () => {
    const { stores } = await nodes(1);
    const store = stores[0]!;
    const granted: string[] = [];
    store.onQueueGrants((grants) => granted.push(...grants.map((g) => g.socketId)));
    const license = await newLicense(store, { seats: 1, queue: true, idleTimeoutSec: 1 });
    await grant(store, license, claimant('holder'), 100, 'holder-s');
    const queued = await store.admit({ licenseId: license.id, socketId: 'waiter-s', nodeId: 'node-a', claimant: claimant('waiter'), now: 101, queue: true });
    expect(queued.kind).toBe('queued');
    await store.detach('holder-s', 200);
    const ended = await store.expireLicense(license.id, 1200);
    expect(ended.map((e) => e.session.sessionRef)).toEqual(['holder']);
    await expect.poll(() => granted).toEqual(['waiter-s']);
    expect((await store.listSessions(license.id)).map((s) => s.sessionRef)).toEqual(['waiter']);
    expect(await seatsInUse(store, license.id)).toBe(1);
  });

  it('an idle release that finds nothing due answers without waiting for the license; one with a seat due waits for it', async () => {
    const { stores, url } = await nodes(1);
    const store = stores[0]!;
    const license = await newLicense(store, { seats: 2, idleTimeoutSec: 1 });
    await grant(store, license, claimant('k1'), 1000, 'k1-s');
    expect((await store.detach('k1-s', 2000))?.session.expiresAt).toBe(3000);
    const settled = (p: Promise<unknown>, ms: number) => Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
    // Another transaction holds the license row, as another node's move under way does.
    const blocker = new pg.Client({ connectionString: url });
    await blocker.connect();
    try {
      await blocker.query('begin');
      await blocker.query('select id from licenses where id = $1 for update', [license.id]);
      const early = store.expireLicense(license.id, 2999);
      expect(await settled(early, 5000)).toBe(true);
      expect(await early).toEqual([]);
      const due = store.expireLicense(license.id, 3000);
      expect(await settled(due, 500)).toBe(false);
      await blocker.query('commit');
      expect((await due).map((e) => e.session.sessionRef)).toEqual(['k1']);
    } finally {
      await blocker.end();
    }
    expect(await seatsInUse(store, license.id)).toBe(0);
    expect((await seatEvents(url, license.id, 'released')).map((e) => e.seats)).toEqual([0]);
  });

  it('sends the admissions that come while one is in flight in one call, each decided in order', async () => {
    const { stores, url } = await nodes(1);
    const store = stores[0]!;
    const license = await newLicense(store, { seats: 30 });
    await grant(store, license, claimant('warm'), 10, 'warm-s');
    // 40 at once: the first goes alone, the rest wait for it and go together (64 at most a call).
    const outcomes = await Promise.all(Array.from({ length: 40 }, (_, i) => admit(store, license, claimant(`k${i % 36}`), 20 + i, `s${i}`)));
    const granted = outcomes.filter((o) => o.kind === 'granted');
    // Keys k0..k3 come twice: the second of each resumes the first's session.
    expect(granted.filter((o) => o.resumed).map((o) => o.session.sessionRef).sort()).toEqual(['k0', 'k1', 'k2', 'k3']);
    expect(granted.length).toBe(33);
    expect(outcomes.filter((o) => o.kind === 'denied').length).toBe(7);
    // Each claim saw the seats the claims before it took: the denials are the last newcomers.
    expect(outcomes.flatMap((o, i) => (o.kind === 'denied' ? [i] : []))).toEqual([29, 30, 31, 32, 33, 34, 35]);
    expect(await seatsInUse(store, license.id)).toBe(30);
    expect(await held(store, license.id)).toBe(30);
    expect((await store.listDenials(license.id)).length).toBe(7);
    await store.close();
    const n = await calls(url);
    expect(n.seat_admit_many).toBeGreaterThanOrEqual(1);
    // Each claim decided once (the first admission, warm, was the full transaction that read the license).
    expect(n.seat_admit).toBe(40);
  });

  it('a call of several admissions that fails runs each alone: one bad claim fails only itself', async () => {
    const { stores } = await nodes(1);
    const store = stores[0]!;
    const license = await newLicense(store, { seats: 30 });
    await grant(store, license, claimant('warm'), 10, 'taken-s');
    // The last claim reuses a socket id that holds a connection: its insert fails, and with it the call.
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => admit(store, license, claimant(`k${i}`), 20, i === 9 ? 'taken-s' : `s${i}`)));
    expect(outcomes.slice(0, 9).map((o) => o.status === 'fulfilled' && o.value.kind)).toEqual(Array(9).fill('granted'));
    expect(outcomes[9]!.status).toBe('rejected');
    expect(await seatsInUse(store, license.id)).toBe(10);
    expect((await store.listSessions(license.id)).map((s) => s.sessionRef).sort()).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8', 'warm']);
  });

  it('sends the sockets of a license that leave while one is in flight in one call, each at its own time', async () => {
    const { stores, url } = await nodes(1);
    const store = stores[0]!;
    const license = await newLicense(store, { seats: 50, idleTimeoutSec: 1 });
    const other = await newLicense(store, { seats: 5, idleTimeoutSec: 1 });
    for (let i = 0; i < 30; i++) await grant(store, license, claimant(`k${i % 25}`), 10 + i, `s${i}`);
    await grant(store, other, claimant('o'), 50, 'o-s');
    // 30 sockets leave at once (keys k0..k4 have two each), with one of another license given as
    // this one's and one that holds nothing: the first goes alone, the rest together.
    const leaving = [...Array.from({ length: 30 }, (_, i) => `s${i}`), 'o-s', 'nothing-s'];
    const outcomes = await Promise.all(leaving.map((id, i) => store.detach(id, 1000 + i, license.id)));
    const idle = outcomes.slice(0, 30).filter((o) => o?.session.state === 'idle');
    expect(idle.map((o) => o!.session.sessionRef).sort()).toEqual(Array.from({ length: 25 }, (_, i) => `k${i}`).sort());
    // Each went idle at its own time: the second socket of k0..k4 left last (s25..s29).
    for (const o of idle) {
      const key = Number(o!.session.sessionRef!.slice(1));
      expect(o!.session.expiresAt).toBe(1000 + (key < 5 ? key + 25 : key) + 1000);
    }
    expect(outcomes.slice(0, 5).map((o) => [o?.session.state, o?.session.sockets])).toEqual(Array(5).fill(['active', 1]));
    expect(outcomes[30]?.session.sessionRef).toBe('o');
    expect(outcomes[30]?.session.state).toBe('idle');
    expect(outcomes[31]).toBeUndefined();
    expect(await seatsInUse(store, license.id)).toBe(25);
    // k5..k24 left by their only socket (s5..s24): one statement idled them.
    expect(await statementsWriting(url, outcomes.slice(5, 25).map((o) => o!.session.id), 'idle')).toBe(1);
    await store.close();
    const n = await calls(url);
    expect(n.seat_detach_set).toBeGreaterThanOrEqual(1);
  });

  it('idles the last sockets of sessions of one license leaving together in one statement, each at its own time and deadline', async () => {
    const { stores, url } = await nodes(1);
    const store = stores[0]!;
    // A receipt holds a seat 2 s from the grant; the idle timeout 1 s from the socket's leaving.
    const license = await newLicense(store, { seats: 150, idleTimeoutSec: 1, offlineGraceSec: 2 });
    const granted = [];
    for (let i = 0; i < 100; i++) granted.push(await grant(store, license, claimant(`k${i}`), i < 50 ? 10 + i : 500 + i, `s${i}`));
    const outcomes = await Promise.all(granted.map((_, i) => store.detach(`s${i}`, 1200 + i, license.id)));
    for (const [i, o] of outcomes.entries()) {
      expect([o?.session.sessionRef, o?.session.state, o?.session.idleSince, o?.session.sockets]).toEqual([`k${i}`, 'idle', 1200 + i, 0]);
      // The first 50 were granted long before they left: the idle timeout ends later than their receipt.
      expect(o?.session.expiresAt).toBe(i < 50 ? 2200 + i : 2500 + i);
      expect(o?.seatsInUse).toBe(100);
    }
    expect(await seatsInUse(store, license.id)).toBe(100);
    const idle = await seatEvents(url, license.id, 'idle');
    expect(idle).toEqual(granted.map((g, i) => ({ sessionId: g.session.id, seats: 100, at: 1200 + i })));
    // The first alone, the other 99 together (more than the 64 admissions go in a call), in one statement.
    expect(await statementsWriting(url, granted.slice(1).map((g) => g.session.id), 'idle')).toBe(1);
    await store.close();
    const n = await calls(url);
    // The first socket went alone; the other 99 in a call that ran no `seat_detach`.
    expect(n.seat_detach_known).toBe(1);
    expect(n.seat_detach).toBeUndefined();
    expect(n.seat_detach_set).toBeGreaterThanOrEqual(1);
  });

  it('answers sockets leaving together with the license once; the function of the version before still answers each with it', async () => {
    const { stores, url } = await nodes(1);
    const store = stores[0]!;
    const license = await newLicense(store, { seats: 20, idleTimeoutSec: 1 });
    // Three sockets that are their session's only one, one of a session with a second tab, one holding nothing.
    for (let i = 0; i < 3; i++) await grant(store, license, claimant(`k${i}`), 10 + i, `s${i}`);
    await grant(store, license, claimant('two'), 20, 'two-a');
    await grant(store, license, claimant('two'), 21, 'two-b');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const call = async (fn: string, sockets: string[]) =>
        (await client.query(`select ${fn}($1, $2::text[], $3::bigint[]) as r`, [license.id, sockets, sockets.map((_, i) => 100 + i)])).rows[0].r;
      const set = await call('seat_detach_set', ['s0', 's1', 'two-a', 'nothing']);
      expect(set.license).toMatchObject({ id: license.id, seats_in_use: 4 });
      const [s0, s1, twoA, nothing] = set.replies;
      for (const [r, ref] of [[s0, 'k0'], [s1, 'k1']]) {
        expect(Object.keys(r)).toEqual(['session']);
        expect(r.session).toMatchObject({ session_ref: ref, state: 'idle' });
      }
      // Detached alone (its session keeps a tab): seat_detach's answer, license included.
      expect(twoA).toMatchObject({ license: { id: license.id }, session: { session_ref: 'two', state: 'active' }, conns: [{ app: null, renew_by: null }] });
      expect(nothing).toBeNull();
      const many = await call('seat_detach_many', ['s2']);
      expect(many).toEqual([expect.objectContaining({ license: expect.objectContaining({ id: license.id }), session: expect.objectContaining({ session_ref: 'k2', state: 'idle' }), conns: [] })]);
    } finally {
      await client.end();
    }
    expect(await seatsInUse(store, license.id)).toBe(4);
  });

  it('releases a thousand idle seats falling due in one call, each seat event with the seats held after it, in deadline order', async () => {
    const { stores, url } = await nodes(1);
    const store = stores[0]!;
    const license = await newLicense(store, { seats: 5000, idleTimeoutSec: 1 });
    const weight = (i: number) => 1 + (i % 3);
    const ids: string[] = [];
    for (let i = 0; i < 1000; i++) ids.push((await grant(store, license, claimant(`k${i}`, weight(i)), 10, `s${i}`)).session.id);
    // They leave in reverse order, so their deadlines run opposite to their grants.
    for (let i = 999; i >= 0; i--) await store.detach(`s${i}`, 2000 - i);
    const live = await grant(store, license, claimant('live'), 20, 'live-s');
    const total = Array.from({ length: 1000 }, (_, i) => weight(i)).reduce((a, b) => a + b, 0) + 1;
    expect(await seatsInUse(store, license.id)).toBe(total);
    const ended = await store.expireLicense(license.id, 5000);
    const order = Array.from({ length: 1000 }, (_, i) => 999 - i);
    expect(ended.map((e) => e.session.id)).toEqual(order.map((i) => ids[i]));
    let left = total;
    const after = order.map((i) => (left -= weight(i)));
    expect(ended.map((e) => e.seatsInUse)).toEqual(after);
    expect(ended.map((e) => e.session.expiresAt)).toEqual(order.map((i) => 3000 - i));
    expect(await seatsInUse(store, license.id)).toBe(1);
    expect((await store.listSessions(license.id)).map((s) => s.id)).toEqual([live.session.id]);
    const released = await seatEvents(url, license.id, 'released');
    expect(released).toEqual(order.map((i, k) => ({ sessionId: ids[i], seats: after[k], at: 5000 })));
    expect(await statementsWriting(url, ids, 'released')).toBe(1);
    expect(await store.expireLicense(license.id, 6000)).toEqual([]);
  });

  it('never grants more than the seats to concurrent admissions from four nodes that all know the license', async () => {
    const { stores } = await nodes(4);
    const license = await newLicense(stores[0]!, { seats: 7 });
    // Each node reads the license once (its first admission), then decides on what it knows.
    for (const [i, s] of stores.entries()) {
      const warm = await grant(s, license, claimant(`warm${i}`), 10, `warm-${i}`, `node-${i}`);
      await s.endSession(warm.session.id, 'ended', 11);
    }
    const weights = (k: number) => 1 + (k % 3);
    const outcomes = await Promise.all(
      Array.from({ length: 80 }, (_, i) => {
        const k = i % 20;
        return admit(stores[i % 4]!, license, claimant(`k${k}`, weights(k)), 20, `s${i}`, `node-${i % 4}`);
      }),
    );
    const sessions = await stores[0]!.listSessions(license.id);
    const inUse = sessions.reduce((n, s) => n + s.weight, 0);
    expect(inUse).toBeLessThanOrEqual(7);
    expect(await seatsInUse(stores[1]!, license.id)).toBe(inUse);
    expect(new Set(sessions.map((s) => s.seatKeyValue)).size).toBe(sessions.length);
    const grants = outcomes.filter((o) => o.kind === 'granted');
    expect(sessions.reduce((n, s) => n + s.sockets, 0)).toBe(grants.length);
    for (const o of outcomes) if (o.kind === 'denied') expect(inUse + weights(Number(o.denial.sessionRef!.slice(1)))).toBeGreaterThan(7);
    expect((await stores[2]!.listDenials(license.id)).length).toBe(outcomes.length - grants.length);
  });
});
