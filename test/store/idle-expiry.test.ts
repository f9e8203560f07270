// Idle seats on every store: a session goes idle with its last connection, is held for the idle
// timeout, and is released exactly once, by whichever node's timer, sweep or admission gets there.
import { expect, it } from 'vitest';
import { admit, claimant, forEachStore, grant, held, newLicense, seatsInUse } from './store-dialects';

forEachStore('idle expiry', (nodes) => {
  it('sockets leaving together each hear what they would alone, and each session idles once, from its last socket', async () => {
    const [store] = await nodes(1);
    const one = await newLicense(store!, { seats: 5, idleTimeoutSec: 2 });
    const two = await newLicense(store!, { seats: 5, idleTimeoutSec: 3 });
    for (const s of ['a1', 'a2', 'a3']) await grant(store!, one, claimant('a'), 1000, s);
    await grant(store!, one, claimant('b'), 1000, 'b1');
    await grant(store!, one, claimant('b'), 1000, 'b2');
    await grant(store!, two, claimant('c'), 1000, 'c1');
    // All in the same turn: a3 stays; b's and c's last sockets go, each session's deadline from its own moment.
    const left = await Promise.all([
      store!.detach('a1', 1100),
      store!.detach('b1', 1200),
      store!.detach('c1', 1150),
      store!.detach('a2', 1100),
      store!.detach('b2', 1200),
      store!.detach('gone', 1100),
      store!.detach('b2', 1200),
    ]);
    // Whatever order the store ran them in (PostgreSQL's pool runs them side by side): the sockets
    // counted down, the last one idled the session, the two named twice or never held nothing.
    const heard = left.map((o) => (o ? `${o.session.sessionRef} ${o.session.state} ${o.session.sockets} ${o.session.expiresAt}` : 'nothing'));
    expect(heard.sort()).toEqual(['a active 1 null', 'a active 2 null', 'b active 1 null', 'b idle 0 3200', 'c idle 0 4150', 'nothing', 'nothing']);
    expect((await store!.listExpiring(99_999)).map((s) => s.expiresAt).sort()).toEqual([3200, 4150]);
    expect(await seatsInUse(store!, one.id)).toBe(2);
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
    // Active again: no deadline, however late the expiry runs.
    expect(await store.expireLicense(license.id, 99_999)).toEqual([]);
    await store.detach('sock-3', 3000);

    expect(await store.expireLicense(license.id, 4999)).toEqual([]);
    // Every node's timer and sweep fire at the deadline: exactly one releases the seat.
    const tries = await Promise.all(Array.from({ length: 12 }, (_, i) => stores[i % 3]!.expireLicense(license.id, 5000 + i)));
    const released = tries.flat();
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
        stores[2]!.expireLicense(license.id, 1000),
        stores[0]!.expireLicense(license.id, 1000),
      ]);
      expect(x.kind).toBe('granted');
      const byAdmit = x.kind === 'granted' ? x.expired.length : 0;
      expect([...y, ...z].every((e) => e.session.id === a.session.id)).toBe(true);
      expect(byAdmit + y.length + z.length).toBe(1);
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
      ...ids.map((_, i) => stores[i % 3]!.expireLicense(license.id, 1000)),
    ]);
    const released = passes.flat();
    expect(released.map((e) => e.session.id).sort()).toEqual(ids.slice(0, 6).sort());
    expect(released.every((e) => e.reason === 'idle_timeout')).toBe(true);
    expect(await held(stores[0]!, license.id)).toBe(2);
    expect((await stores[1]!.expireLicense(license.id, 1500)).map((e) => e.session.id).sort()).toEqual(ids.slice(6).sort());
    expect(await seatsInUse(stores[2]!, license.id)).toBe(0);
  });
}, { fullTransactions: true });
