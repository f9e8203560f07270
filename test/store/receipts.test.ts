// Offline grace on every store: a session that goes idle (its last socket closes, its node is let
// go) is held until the later of its idle deadline and its newest receipt's expiry, and a
// receipt's hold moves on only while the session is live and its license has grace.
import { expect, it } from 'vitest';
import { admit, claimant, forEachStore, grant, held, newLicense } from './store-dialects';

forEachStore('offline grace holds', (nodes) => {
  it('a closed socket: held until the receipt expires when that is later than the idle deadline, then released', async () => {
    const [store] = await nodes(1);
    // Grace 10 s, idle 2 s: the grant at 1000 records a hold until 11 000.
    const license = await newLicense(store!, { seats: 1, idleTimeoutSec: 2, offlineGraceSec: 10 });
    const a = await grant(store!, license, claimant('a'), 1000, 'sock-a');
    expect(a.session.receiptUntil).toBe(11_000);

    const idle = await store!.detach('sock-a', 2000);
    expect(idle?.session).toMatchObject({ state: 'idle', idleSince: 2000, expiresAt: 11_000, receiptUntil: 11_000 });
    // Past the idle timeout (4000) the seat is still held: a newcomer is denied, nothing expires.
    expect(await store!.expireLicense(license.id, 5000)).toEqual([]);
    expect((await admit(store!, license, claimant('b'), 5000)).kind).toBe('denied');
    expect(await store!.listExpiring(10_999)).toEqual([]);
    expect(await store!.listExpiring(11_000)).toEqual([{ id: a.session.id, licenseId: license.id, expiresAt: 11_000 }]);
    const released = await store!.expireLicense(license.id, 11_000);
    expect(released.map((e) => e.session.id)).toEqual([a.session.id]);
    expect(await held(store!, license.id)).toBe(0);
    expect((await admit(store!, license, claimant('b'), 11_001)).kind).toBe('granted');
  });

  it('a closed socket: the idle deadline when it is later than the receipt, and the idle deadline alone without grace', async () => {
    const [store] = await nodes(1);
    const graced = await newLicense(store!, { seats: 2, idleTimeoutSec: 20, offlineGraceSec: 5 });
    await grant(store!, graced, claimant('a'), 1000, 'sock-a');
    expect((await store!.detach('sock-a', 2000))?.session).toMatchObject({ state: 'idle', expiresAt: 22_000, receiptUntil: 6000 });
    // A receipt long expired (a session resumed after it) leaves the idle deadline.
    await grant(store!, graced, claimant('a'), 30_000, 'sock-a2');
    expect((await store!.detach('sock-a2', 40_000))?.session).toMatchObject({ expiresAt: 60_000, receiptUntil: 35_000 });

    const plain = await newLicense(store!, { seats: 2, idleTimeoutSec: 2 });
    const b = await grant(store!, plain, claimant('b'), 1000, 'sock-b');
    expect(b.session.receiptUntil).toBeNull();
    expect((await store!.detach('sock-b', 2000))?.session).toMatchObject({ state: 'idle', expiresAt: 4000, receiptUntil: null });
  });

  it("a node let go (its death or a restart): its sessions are held by their receipts, each its own", async () => {
    const stores = await nodes(2);
    const license = await newLicense(stores[0]!, { seats: 5, idleTimeoutSec: 2, offlineGraceSec: 10 });
    await stores[0]!.heartbeat('dead', 1000);
    // Three sessions on the dying node, with holds at 11 000, 13 000 and (renewed) 18 000.
    const x = await grant(stores[0]!, license, claimant('x'), 1000, 'x1', 'dead');
    const y = await grant(stores[0]!, license, claimant('y'), 3000, 'y1', 'dead');
    const z = await grant(stores[0]!, license, claimant('z'), 1000, 'z1', 'dead');
    expect(await stores[1]!.extendReceipt(z.session.id, 8000)).toMatchObject({ receiptUntil: 18_000 });

    // Reaped at 9000 by a survivor: three at once go through the statement built per call (the
    // single session below, through the prepared one).
    const reaped = await stores[1]!.reapNodes({ deadBefore: 5000, now: 9000, keep: 'alive' });
    const deadline = new Map(reaped.map((o) => [o.session.id, o.session.expiresAt]));
    expect(deadline.get(x.session.id)).toBe(11_000);
    expect(deadline.get(y.session.id)).toBe(13_000);
    expect(deadline.get(z.session.id)).toBe(18_000);
    expect((await stores[1]!.expireLicense(license.id, 12_000)).map((e) => e.session.id)).toEqual([x.session.id]);
    expect((await stores[1]!.expireLicense(license.id, 17_999)).map((e) => e.session.id)).toEqual([y.session.id]);
    expect((await stores[0]!.expireLicense(license.id, 18_000)).map((e) => e.session.id)).toEqual([z.session.id]);

    // A graceful stop (or a restart clearing its past life) lets go the same way.
    const w = await grant(stores[0]!, license, claimant('w'), 20_000, 'w1', 'node-b');
    const [gone] = await stores[0]!.releaseNode('node-b', 21_000);
    expect(gone?.session).toMatchObject({ id: w.session.id, state: 'idle', expiresAt: 30_000 });
  });

  it('extendReceipt moves the hold only for a live, connected session of a license with grace, and never back', async () => {
    const stores = await nodes(2);
    const license = await newLicense(stores[0]!, { seats: 3, idleTimeoutSec: 2, offlineGraceSec: 10 });
    const a = await grant(stores[0]!, license, claimant('a', 1, { userId: 'alice', deviceId: 'pc-1' }), 1000, 'sock-a');
    const hold = await stores[1]!.extendReceipt(a.session.id, 6000);
    expect(hold).toEqual({
      sessionId: a.session.id,
      licenseId: license.id,
      sessionRef: 'a',
      userId: 'alice',
      deviceId: 'pc-1',
      instanceId: null,
      receiptUntil: 16_000,
      offlineGraceSec: 10,
    });
    expect((await stores[0]!.getSession(a.session.id))?.receiptUntil).toBe(16_000);
    // An older clock never moves it back.
    expect((await stores[0]!.extendReceipt(a.session.id, 2000))?.receiptUntil).toBe(16_000);

    // The license's grace as it is now: a larger grace moves it further, none stops it.
    await stores[0]!.updateLicense(license.id, { offlineGraceSec: 30 }, 7000);
    expect((await stores[1]!.extendReceipt(a.session.id, 7000))?.receiptUntil).toBe(37_000);
    await stores[0]!.updateLicense(license.id, { offlineGraceSec: 0 }, 8000);
    expect(await stores[1]!.extendReceipt(a.session.id, 8000)).toBeUndefined();
    expect((await stores[0]!.getSession(a.session.id))?.receiptUntil).toBe(37_000);
    await stores[0]!.updateLicense(license.id, { offlineGraceSec: 10 }, 8000);

    // Idle (no connection left): no receipt, the hold stays as the idle deadline took it.
    await stores[0]!.detach('sock-a', 9000);
    expect(await stores[1]!.extendReceipt(a.session.id, 9000)).toBeUndefined();
    expect(await stores[0]!.getSession(a.session.id)).toMatchObject({ state: 'idle', receiptUntil: 37_000, expiresAt: 37_000 });

    // Ended (an admin action ends it at once, whatever its hold): gone, nothing to extend.
    await stores[0]!.endSession(a.session.id, 'kicked', 10_000);
    expect(await stores[1]!.extendReceipt(a.session.id, 10_000)).toBeUndefined();
    expect(await stores[1]!.extendReceipt('no-such-session', 10_000)).toBeUndefined();
    expect(await held(stores[0]!, license.id)).toBe(0);
  });
});
