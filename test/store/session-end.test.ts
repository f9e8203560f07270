// Ending a session on every store: once, whoever asks; a kick cools the seat key down; a node
// asks which of its sockets' sessions ended elsewhere, and why.
import { expect, it } from 'vitest';
import { OTHER_TENANT } from '../../server/seats/seat-store';
import { admit, claimant, forEachStore, grant, held, newLicense } from './store-dialects';

forEachStore('ending sessions', (nodes) => {
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

  it("a tenant's ending (its admin's kick) ends only sessions of its own licenses: another tenant's is answered as such, changing nothing", async () => {
    const [store, other] = await nodes(2);
    const license = await newLicense(store!, { seats: 2 });
    const foreign = await newLicense(store!, { seats: 2 });
    const mine = await grant(store!, license, claimant('a'), 100, 'y1');
    const theirs = await grant(store!, foreign, claimant('b'), 100, 'y2');
    expect(await other!.endSession(theirs.session.id, 'kicked', 200, 1200, license.tenantId)).toBe(OTHER_TENANT);
    expect(await held(store!, foreign.id)).toBe(1);
    expect(await store!.detach('y2', 300)).toMatchObject({ session: { id: theirs.session.id, state: 'idle' } });
    // Not refused for the cool-down: the other tenant's kick did not happen.
    expect((await admit(store!, foreign, claimant('b'), 400)).kind).toBe('granted');
    expect(await other!.endSession(mine.session.id, 'kicked', 500, 1500, license.tenantId)).toMatchObject({ reason: 'kicked', session: { id: mine.session.id } });
    expect(await held(store!, license.id)).toBe(0);
    // Gone: undefined to a tenant, as to anyone.
    expect(await other!.endSession(mine.session.id, 'kicked', 600, 1600, license.tenantId)).toBeUndefined();
  });
}, { fullTransactions: true });
