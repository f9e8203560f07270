// The SeatStore contract, run against every store: SQLite and PostgreSQL pass the same tests.
// Several stores on one PostgreSQL database stand for several nodes (each has its own pool);
// SQLite is one process's file, so there every "node" is the same store.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import type { SeatStore } from '../../server/seats/seat-store';
import type { AdmitOutcome, Claimant, License } from '../../server/seats/types';
import { PostgresSeatStore } from '../../server/store/postgres-store';
import { SqliteSeatStore } from '../../server/store/sqlite-store';
import { tempDir } from '../support/harness';
import { describeWith, type Postgres, postgresMissing, startPostgres } from '../support/services';

interface Dialect {
  name: string;
  missing: () => string | undefined;
  /** Once per suite. */
  boot(): Promise<void>;
  shutdown(): Promise<void>;
  /** A fresh database for one test; `nodes(n)` gives n stores on it, closed after the test. */
  fresh(): Promise<(n: number) => Promise<SeatStore[]>>;
}

let pgCluster: Postgres | undefined;
const opened: SeatStore[] = [];

const DIALECTS: Dialect[] = [
  {
    name: 'sqlite',
    missing: () => undefined,
    boot: async () => {},
    shutdown: async () => {},
    async fresh() {
      const store = SqliteSeatStore.open(path.join(tempDir('seats-store-'), 'seats.db'));
      await store.migrate();
      opened.push(store);
      return async (n) => Array.from({ length: n }, () => store);
    },
  },
  {
    name: 'postgres',
    missing: postgresMissing,
    boot: async () => {
      pgCluster = await startPostgres();
    },
    shutdown: async () => {
      await pgCluster?.destroy();
    },
    async fresh() {
      const url = await pgCluster!.createDatabase('store');
      const first = PostgresSeatStore.open(url, 4);
      await first.migrate();
      opened.push(first);
      return async (n) => {
        const stores: SeatStore[] = [first];
        for (let i = 1; i < n; i++) {
          const s = PostgresSeatStore.open(url, 4);
          opened.push(s);
          stores.push(s);
        }
        return stores;
      };
    },
  },
];

function claimant(key: string, weight = 1, extra: Partial<Claimant> = {}): Claimant {
  return { sessionRef: key, userId: null, deviceId: null, instanceId: null, app: null, name: null, weight, ...extra };
}

async function newLicense(store: SeatStore, fields: Partial<License> = {}): Promise<License> {
  const tenantId = randomUUID();
  await store.createTenant({ id: tenantId, name: 't', createdAt: 1 }, randomUUID());
  return store.createLicense({
    id: `lic_${randomUUID()}`,
    tenantId,
    name: 'L',
    seats: 3,
    seatCap: null,
    seatKey: ['session'],
    idleTimeoutSec: 2,
    status: 'active',
    deniedMessage: 'There are no free seats available',
    secret: 's',
    createdAt: 1,
    updatedAt: 1,
    ...fields,
  });
}

function admit(store: SeatStore, license: License, c: Claimant, now: number, socketId: string = randomUUID(), nodeId = 'node-a'): Promise<AdmitOutcome> {
  return store.admit({ licenseId: license.id, socketId, nodeId, claimant: c, now });
}

async function grant(store: SeatStore, license: License, c: Claimant, now: number, socketId: string = randomUUID(), nodeId = 'node-a') {
  const o = await admit(store, license, c, now, socketId, nodeId);
  if (o.kind !== 'granted') throw new Error(`expected a grant, got ${JSON.stringify(o)}`);
  return o;
}

/** Sum of weights held, from the rows themselves. */
async function held(store: SeatStore, licenseId: string): Promise<number> {
  return (await store.listSessions(licenseId)).reduce((n, s) => n + s.weight, 0);
}

/** The license row's counter, as the store reads it with the license. */
async function seatsInUse(store: SeatStore, licenseId: string): Promise<number | undefined> {
  return (await store.getLicense(licenseId))?.seatsInUse;
}

// A seeded generator, so a failing round can be replayed from the printed seed.
function rng(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s % n;
  };
}

for (const dialect of DIALECTS) {
  describeWith([dialect.missing()])(`SeatStore contract: ${dialect.name}`, { timeout: 60_000 }, () => {
    let nodes: (n: number) => Promise<SeatStore[]>;
    beforeAll(() => dialect.boot(), 60_000);
    afterAll(async () => {
      await Promise.allSettled(opened.splice(0).map((s) => s.close()));
      await dialect.shutdown();
    });
    beforeEach(async () => {
      await Promise.allSettled(opened.splice(0).map((s) => s.close()));
      nodes = await dialect.fresh();
    });

    it('never grants more than `seats` to a storm of concurrent admissions from several nodes', async () => {
      const stores = await nodes(4);
      const seed = Date.now() % 100_000;
      const rand = rng(seed);
      let t = 1_000_000;
      for (let round = 0; round < 15; round++) {
        const seats = 1 + rand(6);
        const license = await newLicense(stores[0]!, { seats });
        const keys = Array.from({ length: 4 + rand(20) }, (_, i) => `k${i}`);
        const weights = new Map(keys.map((k) => [k, 1 + rand(3)]));
        const now = ++t;
        const outcomes = await Promise.all(
          Array.from({ length: 40 }, (_, i) => {
            const key = keys[rand(keys.length)]!;
            return admit(stores[i % stores.length]!, license, claimant(key, weights.get(key)), now, `r${round}-s${i}`, `node-${i % stores.length}`);
          }),
        );
        const inUse = await held(stores[0]!, license.id);
        const context = `seed ${seed} round ${round} seats ${seats}`;
        expect(inUse, context).toBeLessThanOrEqual(seats);
        expect(await seatsInUse(stores[1]!, license.id), context).toBe(inUse);
        for (const o of outcomes) {
          if (o.kind === 'granted') expect(o.seatsInUse, context).toBeLessThanOrEqual(seats);
          // Nothing was released in the round, so held seats only grew: a denial for no free
          // seats must still be a denial against the final count (no spurious refusals).
          if (o.kind === 'denied') {
            expect(o.denial.reason).toBe('no_free_seats');
            const w = weights.get(o.denial.sessionRef!)!;
            expect(inUse + w, context).toBeGreaterThan(seats);
          }
        }
        // One session per seat key, and every socket of a granted key is on it.
        const sessions = await stores[0]!.listSessions(license.id);
        expect(new Set(sessions.map((s) => s.seatKeyValue)).size).toBe(sessions.length);
        const grants = outcomes.filter((o) => o.kind === 'granted');
        expect(sessions.reduce((n, s) => n + s.sockets, 0)).toBe(grants.length);
        expect(grants.filter((o) => !o.resumed).length).toBe(sessions.length);
        const denials = await stores[2]!.listDenials(license.id);
        expect(denials.length).toBe(outcomes.length - grants.length);
      }
    });

    it('an admission that fails among concurrent ones leaves nothing behind, and the others hold', async () => {
      // SQLite commits concurrent transactions together; each must still stand or fall alone.
      const [store] = await nodes(1);
      const license = await newLicense(store!, { seats: 30 });
      await grant(store!, license, claimant('first'), 10, 'taken-socket');
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => admit(store!, license, claimant(`k${i}`), 11, i === 7 ? 'taken-socket' : `s${i}`)),
      );
      expect(results.map((r) => r.status)).toEqual(results.map((_, i) => (i === 7 ? 'rejected' : 'fulfilled')));
      expect(results.filter((r) => r.status === 'fulfilled').every((r) => r.value.kind === 'granted')).toBe(true);
      const sessions = await store!.listSessions(license.id);
      expect(sessions.map((s) => s.sessionRef).sort()).toEqual(['first', ...Array.from({ length: 20 }, (_, i) => `k${i}`)].filter((k) => k !== 'k7').sort());
      expect(await seatsInUse(store!, license.id)).toBe(20);
      // The failed one's seat key is free: it is admitted on its next try.
      expect(await admit(store!, license, claimant('k7'), 12)).toMatchObject({ kind: 'granted', resumed: false, seatsInUse: 21 });
    });

    it('admits, resumes the same seat key, and denies with the reason when full', async () => {
      const [store] = await nodes(1);
      const license = await newLicense(store!, { seats: 2 });
      const a = await grant(store!, license, claimant('a'), 10);
      expect(a).toMatchObject({ resumed: false, seatsInUse: 1 });
      const a2 = await grant(store!, license, claimant('a'), 11);
      expect(a2).toMatchObject({ resumed: true, seatsInUse: 1 });
      expect(a2.session.id).toBe(a.session.id);
      expect(a2.session.sockets).toBe(2);
      const heavy = await admit(store!, license, claimant('h', 2), 12);
      expect(heavy).toMatchObject({ kind: 'denied', seatsInUse: 1, denial: { reason: 'no_free_seats', at: 12, sessionRef: 'h' } });
      await grant(store!, license, claimant('b'), 13);
      const full = await admit(store!, license, claimant('c'), 14);
      expect(full).toMatchObject({ kind: 'denied', seatsInUse: 2 });
      expect(await admit(store!, { ...license, id: 'nope' }, claimant('a'), 15)).toEqual({ kind: 'license_not_found' });

      const denials = await store!.listDenials(license.id);
      expect(denials.map((d) => [d.at, d.reason, d.sessionRef])).toEqual([
        [14, 'no_free_seats', 'c'],
        [12, 'no_free_seats', 'h'],
      ]);
      expect((await store!.listDenials(license.id, { since: 13 })).map((d) => d.at)).toEqual([14]);
      expect(await store!.recordDenial({ licenseId: license.id, at: 20, reason: 'denied_by_app', sessionRef: 'x', userId: 'u', deviceId: null, instanceId: null })).toBe(2);
      expect((await store!.listDenials(license.id))[0]).toMatchObject({ at: 20, reason: 'denied_by_app', userId: 'u' });
    });

    it('applies the seat key the license has in the transaction, not the one the token was checked against', async () => {
      const [store] = await nodes(1);
      const license = await newLicense(store!, { seats: 3 });
      const p = await grant(store!, license, claimant('p', 1, { userId: 'amy' }), 10);
      expect(p.session.seatKeyValue).toBe('["p"]');
      await store!.updateLicense(license.id, { seatKey: ['user'] }, 11);
      // Another portal session of the same user: under the new seat key, one seat for amy.
      const amy = await grant(store!, license, claimant('q', 1, { userId: 'amy' }), 12);
      expect(amy).toMatchObject({ resumed: false, session: { seatKeyValue: '["amy"]' } });
      expect(await grant(store!, license, claimant('r', 1, { userId: 'amy' }), 13)).toMatchObject({ resumed: true, session: { id: amy.session.id } });
      // A claimant without the claim the seat key needs now: refused, and nothing written.
      await store!.updateLicense(license.id, { seatKey: ['user', 'device'] }, 14);
      expect(await admit(store!, license, claimant('s', 1, { userId: 'amy' }), 15)).toMatchObject({
        kind: 'missing_claim',
        missing: 'device',
        claim: 'dev',
      });
      expect(await store!.listDenials(license.id)).toEqual([]);
      expect(await seatsInUse(store!, license.id)).toBe(2);
    });

    it('a session goes idle with its last connection, resumes within the hold, and expires exactly once', async () => {
      const stores = await nodes(3);
      const store = stores[0]!;
      const license = await newLicense(store, { seats: 1, idleTimeoutSec: 2 });
      const a = await grant(store, license, claimant('a'), 1000, 'sock-1', 'node-a');
      await grant(stores[1]!, license, claimant('a'), 1001, 'sock-2', 'node-b');

      const first = await store.detach('sock-1', 1100);
      expect(first?.session).toMatchObject({ state: 'active', sockets: 1 });
      const last = await stores[1]!.detach('sock-2', 1200);
      expect(last?.session).toMatchObject({ state: 'idle', sockets: 0, idleSince: 1200, expiresAt: 3200 });
      expect(await store.detach('sock-2', 1201)).toBeUndefined();
      expect(await held(store, license.id)).toBe(1);
      expect(await store.listExpiring(3199)).toEqual([]);
      expect(await store.listExpiring(3200)).toEqual([{ id: a.session.id, licenseId: license.id, expiresAt: 3200 }]);

      // Held while idle: another key is refused; the same key resumes the same session.
      expect((await admit(store, license, claimant('b'), 2000)).kind).toBe('denied');
      const back = await grant(stores[2]!, license, claimant('a'), 2100, 'sock-3', 'node-c');
      expect(back).toMatchObject({ resumed: true, session: { id: a.session.id, state: 'active', expiresAt: null } });
      expect(await store.expireSession(a.session.id, 99_999)).toBeUndefined();
      await store.detach('sock-3', 3000);

      expect(await store.expireSession(a.session.id, 4999)).toBeUndefined();
      // Every node's timer and sweep fire at the deadline: exactly one releases the seat.
      const tries = await Promise.all(Array.from({ length: 12 }, (_, i) => stores[i % 3]!.expireSession(a.session.id, 5000 + i)));
      const released = tries.filter((x) => x !== undefined);
      expect(released).toHaveLength(1);
      expect(released[0]).toMatchObject({ reason: 'idle_timeout', seatsInUse: 0, session: { id: a.session.id } });
      expect(await store.getSession(a.session.id)).toBeUndefined();
      expect(await held(store, license.id)).toBe(0);
    });

    it('an admission past an idle deadline releases it on its way, racing the expiry timers exactly once', async () => {
      const stores = await nodes(3);
      for (let round = 0; round < 5; round++) {
        const license = await newLicense(stores[0]!, { seats: 1, idleTimeoutSec: 1 });
        const a = await grant(stores[0]!, license, claimant('a'), 0, `a-${round}`);
        await stores[0]!.detach(`a-${round}`, 0);
        const [x, y, z] = await Promise.all([
          admit(stores[1]!, license, claimant('b'), 1000),
          stores[2]!.expireSession(a.session.id, 1000),
          stores[0]!.expireSession(a.session.id, 1000),
        ]);
        expect(x.kind).toBe('granted');
        const byAdmit = x.kind === 'granted' ? x.expired.length : 0;
        expect(byAdmit + (y ? 1 : 0) + (z ? 1 : 0)).toBe(1);
        expect(await held(stores[0]!, license.id)).toBe(1);
      }
    });

    it('many idle seats falling due together are released once each, however many nodes expire the license', async () => {
      const stores = await nodes(3);
      const license = await newLicense(stores[0]!, { seats: 10, idleTimeoutSec: 1 });
      const ids: string[] = [];
      for (let i = 0; i < 8; i++) {
        const g = await grant(stores[i % 3]!, license, claimant(`m${i}`), 0, `m-${i}`);
        ids.push(g.session.id);
        await stores[0]!.detach(`m-${i}`, i < 6 ? 0 : 500);
      }
      // At 1000 the first six are due; the last two (idle since 500) are not.
      const passes = await Promise.all([
        ...stores.map((s) => s.expireLicense(license.id, 1000)),
        ...ids.map((id, i) => stores[i % 3]!.expireSession(id, 1000)),
      ]);
      const released = passes.flat().filter((x) => x !== undefined);
      expect(released.map((e) => e.session.id).sort()).toEqual(ids.slice(0, 6).sort());
      expect(released.every((e) => e.reason === 'idle_timeout')).toBe(true);
      expect(await held(stores[0]!, license.id)).toBe(2);
      expect((await stores[1]!.expireLicense(license.id, 1500)).map((e) => e.session.id).sort()).toEqual(ids.slice(6).sort());
      expect(await seatsInUse(stores[2]!, license.id)).toBe(0);
    });

    it('reapNodes releases only a dead node\'s connections, once, however many survivors reap', async () => {
      const stores = await nodes(3);
      const store = stores[0]!;
      const license = await newLicense(store, { seats: 10, idleTimeoutSec: 2 });
      await store.heartbeat('dead', 1000);
      await store.heartbeat('b', 1000);
      await store.heartbeat('c', 1000);
      const onDead = await grant(store, license, claimant('on-dead'), 1000, 's1', 'dead');
      const shared = await grant(store, license, claimant('shared'), 1000, 's2', 'dead');
      await grant(store, license, claimant('shared'), 1000, 's3', 'b');
      const onB = await grant(store, license, claimant('on-b'), 1000, 's4', 'b');
      // A node that never wrote a heartbeat row: its connections are orphans too.
      const ghost = await grant(store, license, claimant('ghost'), 1000, 's5', 'ghost');

      await store.heartbeat('b', 5000);
      await store.heartbeat('c', 5000);
      // Nobody is dead yet at 4000 with a 3000 ms timeout (only the ghost is unknown).
      const early = await stores[1]!.reapNodes({ deadBefore: 900, now: 4000, keep: 'b' });
      expect(early.map((o) => o.session.id)).toEqual([ghost.session.id]);

      const reaps = await Promise.all([
        stores[1]!.reapNodes({ deadBefore: 2000, now: 5000, keep: 'b' }),
        stores[2]!.reapNodes({ deadBefore: 2000, now: 5000, keep: 'c' }),
        stores[1]!.reapNodes({ deadBefore: 2000, now: 5000, keep: 'b' }),
      ]);
      const idled = reaps.flat().map((o) => o.session.id);
      expect(idled).toEqual([onDead.session.id]);
      const idle = (await store.getSession(onDead.session.id))!;
      expect(idle).toMatchObject({ state: 'idle', sockets: 0, idleSince: 5000, expiresAt: 7000 });
      expect(await store.getSession(shared.session.id)).toMatchObject({ state: 'active', sockets: 1 });
      expect(await store.getSession(onB.session.id)).toMatchObject({ state: 'active', sockets: 1 });
      // The dead node's seat is held for the idle timeout, then goes as usual.
      expect(await held(store, license.id)).toBe(4);
      expect(await stores[2]!.expireSession(onDead.session.id, 7000)).toMatchObject({ reason: 'idle_timeout' });

      // A graceful stop of b: its sockets go, its sessions idle, its node row is removed.
      const released = await stores[1]!.releaseNode('b', 8000);
      expect(released.map((o) => o.session.id).sort()).toEqual([shared.session.id, onB.session.id].sort());
      expect(released.every((o) => o.session.state === 'idle' && o.session.expiresAt === 10_000)).toBe(true);
      // allOthers (a single node starting): every node but `keep` is let go.
      await grant(store, license, claimant('on-c'), 9000, 's6', 'c');
      const all = await store.reapNodes({ deadBefore: 0, now: 9500, keep: 'a', allOthers: true });
      expect(all).toHaveLength(1);
    });

    it('endSession ends once, frees the seat, and a kick cools the seat key down', async () => {
      const stores = await nodes(3);
      const license = await newLicense(stores[0]!, { seats: 1 });
      const a = await grant(stores[0]!, license, claimant('a'), 100, 'x1');
      await grant(stores[1]!, license, claimant('a'), 100, 'x2', 'node-b');
      const ends = await Promise.all(stores.map((s, i) => s.endSession(a.session.id, 'kicked', 200 + i, 1200)));
      const done = ends.filter((e) => e !== undefined);
      expect(done).toHaveLength(1);
      expect(done[0]).toMatchObject({ reason: 'kicked', seatsInUse: 0, session: { id: a.session.id, sockets: 2 } });
      expect(await held(stores[0]!, license.id)).toBe(0);
      // Its connection rows went with it: a late disconnect changes nothing.
      expect(await stores[0]!.detach('x1', 300)).toBeUndefined();

      expect(await admit(stores[0]!, license, claimant('a'), 500)).toMatchObject({ kind: 'denied', denial: { reason: 'kicked' } });
      const again = await grant(stores[0]!, license, claimant('a'), 1300);
      expect(again.resumed).toBe(false);

      // Ended by the app: no cool-down, the same key is admitted at once.
      expect(await stores[1]!.endSession(again.session.id, 'ended_by_app', 1400)).toMatchObject({ reason: 'ended_by_app' });
      expect(await stores[1]!.endSession(again.session.id, 'ended_by_app', 1401)).toBeUndefined();
      const live = await grant(stores[0]!, license, claimant('a'), 1402);
      // A node asks which of its sockets' sessions ended elsewhere, and why.
      expect(await stores[2]!.endedAmong([a.session.id, again.session.id, live.session.id])).toEqual([
        { sessionId: a.session.id, reason: 'kicked' },
        { sessionId: again.session.id, reason: 'ended_by_app' },
      ]);
      expect(await stores[2]!.endedAmong([])).toEqual([]);
      // Once the history of the release is pruned, the reason is no longer known, and not guessed.
      await stores[1]!.pruneHistory(10_000);
      expect(await stores[2]!.endedAmong([a.session.id, live.session.id])).toEqual([{ sessionId: a.session.id, reason: 'ended' }]);
    });

    it('updateLicense: suspension ends every session and refuses new ones; fewer seats end the newest', async () => {
      const stores = await nodes(2);
      const store = stores[0]!;
      const license = await newLicense(store, { seats: 5 });
      const s1 = await grant(store, license, claimant('s1'), 1);
      const s2 = await grant(store, license, claimant('s2', 2), 2);
      const s3 = await grant(stores[1]!, license, claimant('s3'), 3);
      const s4 = await grant(store, license, claimant('s4'), 4);

      const reduced = (await store.updateLicense(license.id, { seats: 3 }, 10))!;
      expect(reduced.license.seats).toBe(3);
      expect(reduced.ended.map((e) => [e.session.id, e.reason])).toEqual([
        [s4.session.id, 'seats_reduced'],
        [s3.session.id, 'seats_reduced'],
      ]);
      expect(await held(store, license.id)).toBe(3);
      // The count comes back with the license: from the change itself, and with every read of the row.
      expect(reduced.license.seatsInUse).toBe(3);
      expect(reduced.ended.map((e) => [e.seatsInUse, e.license.seatsInUse])).toEqual([[4, 4], [3, 3]]);
      expect((await stores[1]!.listLicenses(license.tenantId)).map((l) => [l.id, l.seatsInUse])).toEqual([[license.id, 3]]);
      expect((await admit(store, license, claimant('new'), 11)).kind).toBe('denied');

      const suspended = (await stores[1]!.updateLicense(license.id, { status: 'suspended' }, 20))!;
      expect(suspended.ended.map((e) => e.reason)).toEqual(['license_suspended', 'license_suspended']);
      expect(suspended.license.seatsInUse).toBe(0);
      expect(suspended.ended.map((e) => e.session.id).sort()).toEqual([s1.session.id, s2.session.id].sort());
      expect(await held(store, license.id)).toBe(0);
      expect(await admit(store, license, claimant('s1'), 21)).toMatchObject({ kind: 'denied', denial: { reason: 'license_suspended' } });

      const back = (await store.updateLicense(license.id, { status: 'active', seats: 1 }, 30))!;
      expect(back.ended).toEqual([]);
      expect((await admit(store, license, claimant('s1'), 31)).kind).toBe('granted');
      expect(await store.updateLicense('missing', { seats: 1 }, 40)).toBeUndefined();
    });

    it('lowering seats while admissions race never leaves more held than the new count', async () => {
      const stores = await nodes(4);
      for (let round = 0; round < 6; round++) {
        const license = await newLicense(stores[0]!, { seats: 8 });
        const work: Array<Promise<unknown>> = [];
        for (let i = 0; i < 24; i++) work.push(admit(stores[i % 4]!, license, claimant(`k${i}`), 100 + i, `u${round}-${i}`));
        work.splice(8, 0, stores[1]!.updateLicense(license.id, { seats: 3 }, 105));
        await Promise.all(work);
        expect(await held(stores[0]!, license.id)).toBeLessThanOrEqual(3);
      }
    });
  });
}
