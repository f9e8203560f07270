// Reads across many licenses on every store, one query each (the admin snapshot's): the live
// sessions of these licenses, and the newest denials of each.
import { expect, it } from 'vitest';
import type { Denial } from '../../server/seats/types';
import { claimant, forEachStore, grant, newLicense } from './store-dialects';

forEachStore('snapshot reads', (nodes) => {
  it('lists the sessions of many licenses, in their order, each oldest first, with their sockets', async () => {
    const [store] = await nodes(1);
    const [l1, l2, l3] = [await newLicense(store!), await newLicense(store!), await newLicense(store!)];
    await grant(store!, l1, claimant('b'), 20);
    await grant(store!, l1, claimant('a', 1, { app: 'x' }), 10);
    await grant(store!, l2, claimant('c', 1, { app: 'x' }), 15);
    await grant(store!, l2, claimant('c', 1, { app: 'y' }), 16);

    const sessions = await store!.listSessionsOf([l2.id, l1.id, l3.id]);
    expect(sessions.map((s) => [s.licenseId, s.sessionRef, s.sockets])).toEqual([
      [l2.id, 'c', 2],
      [l1.id, 'a', 1],
      [l1.id, 'b', 1],
    ]);
    expect(sessions[0]!.apps.sort()).toEqual(['x', 'y']);
    // The same sessions as one license at a time.
    expect(sessions).toEqual([...(await store!.listSessions(l2.id)), ...(await store!.listSessions(l1.id))]);
    expect(await store!.listSessionsOf([])).toEqual([]);
  });

  it('lists the newest denials of each of many licenses, newest first', async () => {
    const [store] = await nodes(1);
    const [l1, l2, l3] = [await newLicense(store!), await newLicense(store!), await newLicense(store!)];
    const deny = (licenseId: string, at: number, ref: string): Denial => ({
      licenseId, at, reason: 'no_free_seats', sessionRef: ref, userId: null, deviceId: null, instanceId: null,
    });
    for (let i = 0; i < 5; i++) await store!.recordDenial(deny(l1.id, 100 + i, `l1-${i}`));
    // Two at the same time: the later recorded is the newer.
    for (const [at, ref] of [[200, 'l2-0'], [201, 'l2-1'], [201, 'l2-2']] as const) await store!.recordDenial(deny(l2.id, at, ref));

    const latest = await store!.listLatestDenials([l1.id, l2.id, l3.id], 3);
    expect(latest.map((d) => d.sessionRef)).toEqual(['l1-4', 'l1-3', 'l1-2', 'l2-2', 'l2-1', 'l2-0']);
    expect(latest).toEqual([...(await store!.listDenials(l1.id, { limit: 3 })), ...(await store!.listDenials(l2.id, { limit: 3 }))]);
    expect((await store!.listLatestDenials([l2.id, l1.id], 1)).map((d) => d.sessionRef)).toEqual(['l2-2', 'l1-4']);
    expect(await store!.listLatestDenials([], 3)).toEqual([]);
  });
});
