// HTTP leases on every store (docs/contract.md 8.4): a lease is a connection row with a deadline.
// Renewal moves it and counts as activity; a lease past its deadline lapses exactly once, whatever
// the number of nodes, and its session idles for the idle timeout; a renewal within that hold
// joins the same session again; once the seat is gone a renewal says why.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { expect, it } from 'vitest';
import type { SeatStore } from '../../server/seats/seat-store';
import type { Claimant, License } from '../../server/seats/types';
import type { Database } from '../../server/store/schema';
import { claimant, forEachStore, grant, held, newLicense, seatsInUse } from './store-dialects';

const INTERVAL = 10_000;

/** What POST /leases does in the store: the admission with a deadline, then the lease row. */
async function lease(store: SeatStore, license: License, c: Claimant, now: number, node = 'node-a') {
  const id = randomUUID();
  const renewBy = now + INTERVAL;
  const o = await store.admit({ licenseId: license.id, socketId: `lease:${id}`, nodeId: node, claimant: c, now, renewBy });
  if (o.kind !== 'granted') throw new Error(`expected a grant, got ${o.kind}`);
  await store.recordLease({ id, licenseId: license.id, sessionId: o.session.id, seatKeyValue: o.session.seatKeyValue, createdAt: now, renewBy });
  return { id, session: o.session, resumed: o.resumed };
}

const claimOf = (license: License, c: Claimant, nodeId = 'node-a') => ({ licenseId: license.id, claimant: c, nodeId });
const db = (store: SeatStore) => (store as unknown as { db: Kysely<Database> }).db;

forEachStore('HTTP leases', (nodes) => {
  it('a lease is one more connection: counted as a lease, sharing the seat of its seat key with a socket', async () => {
    const [store] = (await nodes(1)) as [SeatStore];
    const license = await newLicense(store, { seats: 1, leaseIntervalSec: 10 });
    const l = await lease(store, license, claimant('pos-1'), 1000);
    expect(l.session).toMatchObject({ sockets: 0, leases: 1, state: 'active' });
    const tab = await grant(store, license, claimant('pos-1'), 1100, 'sock-1');
    expect(tab).toMatchObject({ resumed: true, session: { id: l.session.id, sockets: 1, leases: 1 } });
    expect(await seatsInUse(store, license.id)).toBe(1);
    expect((await store.listSessions(license.id))[0]).toMatchObject({ sockets: 1, leases: 1 });
  });

  it('a renewal moves the deadline on the connection and the lease, and is activity (a pending warning ends)', async () => {
    const [store] = (await nodes(1)) as [SeatStore];
    const license = await newLicense(store, { leaseIntervalSec: 20 });
    const c = claimant('pos-1');
    const l = await lease(store, license, c, 1000);
    await db(store).updateTable('sessions').set({ warned_at: 5000, last_activity_at: 1000 }).where('id', '=', l.session.id).execute();

    const r = await store.renewLease(l.id, claimOf(license, c), 6000);
    expect(r).toMatchObject({ kind: 'renewed', resumed: false, renewBy: 26_000, warningCleared: true, seatsInUse: 1, session: { id: l.session.id, lastActivityAt: 6000, warnedAt: null, leases: 1 } });
    const conn = await db(store).selectFrom('connections').select('renew_by').where('socket_id', '=', `lease:${l.id}`).executeTakeFirstOrThrow();
    const row = await db(store).selectFrom('leases').select('renew_by').where('id', '=', l.id).executeTakeFirstOrThrow();
    expect([Number(conn.renew_by), Number(row.renew_by)]).toEqual([26_000, 26_000]);
    // Not lapsed at the old deadline any more.
    expect(await store.lapseLeases(11_000)).toEqual([]);
    expect(await store.renewLease(l.id, claimOf(license, c), 7000)).toMatchObject({ kind: 'renewed', warningCleared: false });
  });

  it('a lease not renewed lapses at its deadline and its session idles for the idle timeout; its sockets would keep it', async () => {
    const [store] = (await nodes(1)) as [SeatStore];
    const license = await newLicense(store, { seats: 2, idleTimeoutSec: 5 });
    const alone = await lease(store, license, claimant('a'), 1000);
    const withTab = await lease(store, license, claimant('b'), 1000);
    await grant(store, license, claimant('b'), 1001, 'sock-b');

    expect(await store.lapseLeases(10_999)).toEqual([]);
    const lapsed = await store.lapseLeases(11_000);
    expect(lapsed.map((o) => [o.session.id, o.session.state]).sort()).toEqual(
      [
        [alone.session.id, 'idle'],
        [withTab.session.id, 'active'],
      ].sort(),
    );
    const sessions = await store.listSessions(license.id);
    expect(sessions.find((s) => s.id === alone.session.id)).toMatchObject({ state: 'idle', leases: 0, sockets: 0, idleSince: 11_000, expiresAt: 16_000 });
    expect(sessions.find((s) => s.id === withTab.session.id)).toMatchObject({ state: 'active', leases: 0, sockets: 1 });
    // Held while idle, released after the idle timeout as a closed tab's.
    expect(await held(store, license.id)).toBe(2);
    expect(await store.expireLicense(license.id, 15_999)).toEqual([]);
    expect((await store.expireLicense(license.id, 16_000)).map((e) => e.reason)).toEqual(['idle_timeout']);
    expect(await store.renewLease(alone.id, claimOf(license, claimant('a')), 16_001)).toEqual({ kind: 'ended', reason: 'idle_timeout' });
  });

  it('of two nodes sweeping the same deadline, one lapses each lease', async () => {
    const stores = await nodes(2);
    const license = await newLicense(stores[0]!, { seats: 5 });
    const leases = await Promise.all(['a', 'b', 'c'].map((k) => lease(stores[0]!, license, claimant(k), 1000)));
    const tries = await Promise.all(Array.from({ length: 6 }, (_, i) => stores[i % 2]!.lapseLeases(11_000 + i)));
    expect(tries.flat().map((o) => o.session.id).sort()).toEqual(leases.map((l) => l.session.id).sort());
    const idled = await db(stores[0]!).selectFrom('seat_events').select('session_id').where('license_id', '=', license.id).where('type', '=', 'idle').execute();
    expect(idled).toHaveLength(3);
  });

  it('a renewal after a lapse, within the idle hold, joins the same session again', async () => {
    const stores = await nodes(2);
    const license = await newLicense(stores[0]!, { seats: 1, idleTimeoutSec: 30, leaseIntervalSec: 10 });
    const c = claimant('pos-1');
    const l = await lease(stores[0]!, license, c, 1000);
    await stores[1]!.lapseLeases(11_000);
    const back = await stores[1]!.renewLease(l.id, claimOf(license, c, 'node-b'), 12_000);
    expect(back).toMatchObject({ kind: 'renewed', resumed: true, renewBy: 22_000, session: { id: l.session.id, state: 'active', idleSince: null, expiresAt: null, leases: 1 } });
    expect(await stores[0]!.listExpiring(Number.MAX_SAFE_INTEGER)).toEqual([]);
    // Held all along: one seat.
    expect(await seatsInUse(stores[0]!, license.id)).toBe(1);
    expect(await stores[0]!.lapseLeases(21_999)).toEqual([]);
    expect(await stores[0]!.lapseLeases(22_000)).toHaveLength(1);
  });

  it('a renewal once the seat is gone answers the release reason from the seat history', async () => {
    const [store] = (await nodes(1)) as [SeatStore];
    const license = await newLicense(store, { seats: 5 });
    const renew = (id: string, k: string) => store.renewLease(id, claimOf(license, claimant(k)), 2000);

    const kicked = await lease(store, license, claimant('k'), 1000);
    await store.endSession(kicked.session.id, 'kicked', 1500, 9999);
    expect(await renew(kicked.id, 'k')).toEqual({ kind: 'ended', reason: 'kicked' });

    const byApp = await lease(store, license, claimant('app'), 1000);
    await store.endSession(byApp.session.id, 'ended_by_app', 1500);
    expect(await renew(byApp.id, 'app')).toEqual({ kind: 'ended', reason: 'ended_by_app' });

    const kept = await lease(store, license, claimant('kept'), 1001);
    const newest = await lease(store, license, claimant('newest'), 1002);
    await store.updateLicense(license.id, { seats: 1 }, 1500);
    expect(await renew(newest.id, 'newest')).toEqual({ kind: 'ended', reason: 'seats_reduced' });
    expect(await renew(kept.id, 'kept')).toMatchObject({ kind: 'renewed' });

    await store.updateLicense(license.id, { status: 'suspended' }, 1600);
    expect(await renew(kept.id, 'kept')).toEqual({ kind: 'ended', reason: 'license_suspended' });

    // The seat history aged out: `ended`, not a guess.
    await store.pruneHistory(Number.MAX_SAFE_INTEGER);
    expect(await renew(kicked.id, 'k')).toEqual({ kind: 'ended', reason: 'ended' });
  });

  it('unknown leases are not found, and another license or seat key may not touch a lease; nothing changes', async () => {
    const [store] = (await nodes(1)) as [SeatStore];
    const license = await newLicense(store);
    const other = await newLicense(store);
    const l = await lease(store, license, claimant('mine'), 1000);
    expect(await store.renewLease('nope', claimOf(license, claimant('mine')), 2000)).toEqual({ kind: 'not_found' });
    expect(await store.releaseLease('nope', claimOf(license, claimant('mine')), 2000)).toEqual({ kind: 'not_found' });
    expect(await store.renewLease(l.id, claimOf(other, claimant('mine')), 2000)).toMatchObject({ kind: 'forbidden' });
    expect(await store.renewLease(l.id, claimOf(license, claimant('theirs')), 2000)).toMatchObject({ kind: 'forbidden' });
    expect(await store.releaseLease(l.id, claimOf(license, claimant('theirs')), 2000)).toMatchObject({ kind: 'forbidden' });
    expect((await store.listSessions(license.id))[0]).toMatchObject({ id: l.session.id, leases: 1, state: 'active' });
    const row = await db(store).selectFrom('leases').select('renew_by').where('id', '=', l.id).executeTakeFirstOrThrow();
    expect(Number(row.renew_by)).toBe(11_000);
  });

  it("a release ends the session at once when it was the last connection, else leaves the others' seat", async () => {
    const [store] = (await nodes(1)) as [SeatStore];
    const license = await newLicense(store, { seats: 2 });
    const only = await lease(store, license, claimant('only'), 1000);
    const shared = await lease(store, license, claimant('shared'), 1000);
    await grant(store, license, claimant('shared'), 1001, 'sock-s');

    const ended = await store.releaseLease(only.id, claimOf(license, claimant('only')), 2000);
    expect(ended).toMatchObject({ kind: 'released', ended: { reason: 'ended_by_app', seatsInUse: 1, session: { id: only.session.id } } });
    expect(await store.getSession(only.session.id)).toBeUndefined();
    const detached = await store.releaseLease(shared.id, claimOf(license, claimant('shared')), 2000);
    expect(detached).toMatchObject({ kind: 'released', detached: { session: { id: shared.session.id, sockets: 1, leases: 0 } } });
    expect(detached).not.toHaveProperty('ended');
    expect(await seatsInUse(store, license.id)).toBe(1);
    // Gone with its release: a second one, or a renewal, finds nothing.
    expect(await store.releaseLease(only.id, claimOf(license, claimant('only')), 2100)).toEqual({ kind: 'not_found' });
    expect(await store.renewLease(shared.id, claimOf(license, claimant('shared')), 2100)).toEqual({ kind: 'not_found' });

    // A lapsed lease's idle session is let go at once by its release.
    const lapsed = await lease(store, license, claimant('lapsed'), 3000);
    await store.lapseLeases(13_000);
    expect(await store.releaseLease(lapsed.id, claimOf(license, claimant('lapsed')), 14_000)).toMatchObject({ ended: { reason: 'ended_by_app' } });
    expect(await seatsInUse(store, license.id)).toBe(1);
  });

  it('node liveness leaves leases alone: a dead node takes its sockets, not the leases it granted', async () => {
    const [store] = (await nodes(1)) as [SeatStore];
    const license = await newLicense(store, { seats: 2 });
    const l = await lease(store, license, claimant('pos'), 1000, 'node-dead');
    await grant(store, license, claimant('tab'), 1000, 'sock-dead', 'node-dead');
    const reaped = await store.releaseNode('node-dead', 2000);
    expect(reaped.map((o) => o.session.sessionRef)).toEqual(['tab']);
    expect(await store.getSession(l.session.id)).toMatchObject({ state: 'active', leases: 1 });
    expect(await store.pruneLeases(11_000)).toBe(0);
    expect(await store.pruneLeases(11_001)).toBe(1);
  });
});
