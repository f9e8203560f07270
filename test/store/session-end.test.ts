// Ending a session on every store: once, whoever asks; a kick cools the seat key down; a node
// asks which of its sockets' sessions ended elsewhere, and why.
import { expect, it } from 'vitest';
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
}, { fullTransactions: true });
