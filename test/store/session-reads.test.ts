// The admin snapshot's sessions on every store: each license's newest N sessions (ties on the
// start time by id), oldest first in the order of the licenses asked, with their sockets and apps,
// and every license's count; licenses with none are left out of the counts.
import { expect, it } from 'vitest';
import { pageSessions } from '../../server/seats/session-page';
import { claimant, forEachStore, grant, newLicense } from './store-dialects';

forEachStore('newest sessions of many licenses', (nodes) => {
  it('reads only the newest N of each license, with every license’s count', async () => {
    const [store] = await nodes(1);
    const [big, small, none] = [await newLicense(store!, { seats: 20 }), await newLicense(store!, { seats: 20 }), await newLicense(store!)];
    for (let i = 0; i < 7; i++) await grant(store!, big, claimant(`b${i}`, 1, { app: `app${i}` }), 100 + i);
    // Two more at one start time: both newest, whatever their ids.
    await grant(store!, big, claimant('b7'), 200);
    await grant(store!, big, claimant('b8'), 200);
    const s0 = await grant(store!, small, claimant('s0', 1, { app: 'x' }), 50);
    await store!.admit({ licenseId: small.id, socketId: 'second-tab', nodeId: 'node-a', claimant: claimant('s0', 1, { app: 'y' }), now: 51 });

    const { sessions, totals } = await store!.listNewestSessionsOf([small.id, big.id, none.id], 3);
    expect(Object.fromEntries(totals)).toEqual({ [big.id]: 9, [small.id]: 1 });
    expect(sessions.map((s) => s.licenseId)).toEqual([small.id, big.id, big.id, big.id]);
    // Oldest first within the license: b6, then b7 and b8 (one start time, in id order).
    expect(sessions.map((s) => s.sessionRef).slice(0, 2)).toEqual(['s0', 'b6']);
    expect(sessions.slice(2).map((s) => s.sessionRef).sort()).toEqual(['b7', 'b8']);
    expect(sessions[2]!.id < sessions[3]!.id).toBe(true);
    expect(sessions[0]).toMatchObject({ id: s0.session.id, sockets: 2 });
    expect(sessions[0]!.apps.sort()).toEqual(['x', 'y']);
    expect(sessions[1]!.apps).toEqual(['app6']);
    // The same rows as the full read, cut.
    const all = await store!.listSessionsOf([small.id, big.id]);
    expect(sessions).toEqual(all.filter((s) => sessions.some((n) => n.id === s.id)));
    expect(all).toHaveLength(10);

    expect(await store!.listNewestSessionsOf([], 3)).toEqual({ sessions: [], totals: new Map() });
    expect((await store!.listNewestSessionsOf([none.id], 3)).sessions).toEqual([]);
  });

  it('pages one license by start time in the store, as the whole-license page orders it', async () => {
    const [store] = await nodes(1);
    const license = await newLicense(store!, { seats: 50 });
    const other = await newLicense(store!, { seats: 5 });
    await grant(store!, other, claimant('elsewhere'), 1);
    // 30 sessions, three to a start time (ties by id), users u0..u4 in turn; every fourth goes
    // idle (its socket closed), every seventh ends.
    for (let i = 0; i < 30; i++) await grant(store!, license, claimant(`k${i}`, 1, { userId: `u${i % 5}` }), 100 + Math.floor(i / 3), `sock-${i}`);
    for (let i = 0; i < 30; i += 4) await store!.detach(`sock-${i}`, 400);
    for (const s of (await store!.listSessions(license.id)).filter((s) => Number(s.sessionRef!.slice(1)) % 7 === 3)) await store!.endSession(s.id, 'ended_by_app', 500);
    const live = await store!.listSessions(license.id);
    expect(live.length).toBeLessThan(30);
    expect(live.filter((s) => s.state === 'idle').length).toBeGreaterThan(1);
    for (const query of [
      { order: 'asc', limit: 7, offset: 0 },
      { order: 'asc', limit: 7, offset: 7 },
      { order: 'desc', limit: 5, offset: 3 },
      { order: 'desc', limit: 50, offset: 0 },
      { order: 'asc', limit: 3, offset: 1, user: 'u2' },
      { order: 'desc', limit: 10, offset: 0, state: 'active' },
      { order: 'asc', limit: 10, offset: 0, state: 'idle' },
      { order: 'asc', limit: 10, offset: 100 },
    ] as const) {
      const got = await store!.pageSessionsByStart(license.id, query);
      const want = pageSessions(live, { ...query, sort: 'startedAt' });
      expect([query, got]).toEqual([query, want]);
    }
    expect((await store!.pageSessionsByStart(license.id, { order: 'asc', limit: 100, offset: 0 })).total).toBe(live.length);
  });
});
