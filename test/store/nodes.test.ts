// Node liveness on every store: a dead node's connection rows go (its sessions idle and expire as
// usual), once, however many survivors reap; a graceful stop lets go of the node's own.
import { expect, it } from 'vitest';
import { claimant, forEachStore, grant, held, newLicense } from './store-dialects';

forEachStore('node liveness', (nodes) => {
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
    // The dead node's only session idles; the one with a tab on b lives on with one tab fewer.
    const told = reaps.flat().map((o) => [o.session.id, o.session.state, o.session.sockets]);
    expect(told).toEqual(expect.arrayContaining([[onDead.session.id, 'idle', 0], [shared.session.id, 'active', 1]]));
    expect(told).toHaveLength(2);
    const idle = (await store.getSession(onDead.session.id))!;
    expect(idle).toMatchObject({ state: 'idle', sockets: 0, idleSince: 5000, expiresAt: 7000 });
    expect(await store.getSession(shared.session.id)).toMatchObject({ state: 'active', sockets: 1 });
    expect(await store.getSession(onB.session.id)).toMatchObject({ state: 'active', sockets: 1 });
    // The dead node's seat is held for the idle timeout, then goes as usual.
    expect(await held(store, license.id)).toBe(4);
    // (with the ghost's, idle since the early reap at 4000)
    const expired = await stores[2]!.expireLicense(license.id, 7000);
    expect(expired.map((e) => e.session.id).sort()).toEqual([onDead.session.id, ghost.session.id].sort());
    expect(expired.every((e) => e.reason === 'idle_timeout')).toBe(true);

    // A graceful stop of b: its sockets go, its sessions idle, its node row is removed.
    const released = await stores[1]!.releaseNode('b', 8000);
    expect(released.map((o) => o.session.id).sort()).toEqual([shared.session.id, onB.session.id].sort());
    expect(released.every((o) => o.session.state === 'idle' && o.session.expiresAt === 10_000)).toBe(true);
    // allOthers (a single node starting): every node but `keep` is let go.
    await grant(store, license, claimant('on-c'), 9000, 's6', 'c');
    const all = await store.reapNodes({ deadBefore: 0, now: 9500, keep: 'a', allOthers: true });
    expect(all).toHaveLength(1);
  });

  it('a node that beats again while it is being reaped keeps its sockets: nothing more of it is let go', async () => {
    const [store] = await nodes(1);
    const license = await newLicense(store!, { seats: 10, idleTimeoutSec: 2 });
    await store!.heartbeat('slow', 1000);
    const onSlow = await grant(store!, license, claimant('on-slow'), 1000, 's1', 'slow');
    // Listed as dead at 5000 (no beat since 1000), it beats again before its rows go.
    await store!.heartbeat('slow', 5200);
    const released = await store!.releaseNode('slow', 5000, { aliveSince: 2000 });
    expect(released).toEqual([]);
    expect(await store!.getSession(onSlow.session.id)).toMatchObject({ state: 'active', sockets: 1 });
    // Its node row stays: the node is alive.
    expect(await store!.heartbeat('slow', 5400)).toBe(true);
  });

  it('a reaped session is held for its idle timeout from the moment its rows go, not from when the pass began', async () => {
    const [store] = await nodes(1);
    const license = await newLicense(store!, { seats: 10, idleTimeoutSec: 2 });
    await store!.heartbeat('dead', 1000);
    const onDead = await grant(store!, license, claimant('on-dead'), 1000, 's1', 'dead');
    // The pass began at 5000; the store was slow and let the rows go at 9000.
    const idled = await store!.reapNodes({ deadBefore: 2000, now: 5000, keep: 'b', clock: () => 9000 });
    expect(idled.map((o) => o.session.id)).toEqual([onDead.session.id]);
    expect(await store!.getSession(onDead.session.id)).toMatchObject({ state: 'idle', idleSince: 9000, expiresAt: 11_000 });
    // The dead node finds itself declared dead on its next beat.
    expect(await store!.heartbeat('dead', 9500)).toBe(false);
  });
});
