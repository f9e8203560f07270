// Overage, reservations, group limits and seat requests on every store, under concurrent
// admissions from two nodes (two pools on PostgreSQL): the limits hold however the admissions
// interleave, because each is decided under the license's lock.
import { expect, it } from 'vitest';
import { admit, claimant, forEachStore, held, newLicense, seatsInUse } from './store-dialects';

forEachStore('seat pools', (nodes) => {
  it('concurrent admissions from two nodes never pass floor(seats × overage), and mark the grants past seats', async () => {
    const [n1, n2] = await nodes(2);
    const license = await newLicense(n1!, { seats: 4, overage: 1.5 });
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => admit(i % 2 ? n1! : n2!, license, claimant(`k${i}`), 10)));
    const granted = outcomes.filter((o) => o.kind === 'granted');
    expect(granted).toHaveLength(6);
    expect(granted.filter((o) => o.kind === 'granted' && o.overage)).toHaveLength(2);
    expect(await seatsInUse(n1!, license.id)).toBe(6);
    expect(await held(n1!, license.id)).toBe(6);
  });

  it('a reservation is kept for its group and a group limit holds, whatever the interleaving', async () => {
    const [n1, n2] = await nodes(2);
    const license = await newLicense(n1!, { seats: 6, reservations: [{ group: 'night', seats: 2 }], groupLimits: [{ group: 'temps', max: 2 }] });
    const claims = [
      ...Array.from({ length: 6 }, (_, i) => claimant(`day-${i}`)),
      ...Array.from({ length: 4 }, (_, i) => claimant(`temp-${i}`, 1, { group: 'temps' })),
    ];
    const first = await Promise.all(claims.map((c, i) => admit(i % 2 ? n1! : n2!, license, c, 10)));
    const grantedTo = (o: typeof first) => o.flatMap((x, i) => (x.kind === 'granted' ? [claims[i]!] : []));
    // Four unreserved seats for everyone else; temps at most two of them.
    expect(grantedTo(first)).toHaveLength(4);
    expect(grantedTo(first).filter((c) => c.group === 'temps').length).toBeLessThanOrEqual(2);
    const reasons = first.flatMap((o) => (o.kind === 'denied' ? [o.denial.reason] : []));
    expect(new Set(reasons)).toEqual(new Set(reasons.filter((r) => r === 'no_free_seats' || r === 'group_limit')));
    // The night shift still finds its two seats, and nobody a third.
    const night = await Promise.all(Array.from({ length: 3 }, (_, i) => admit(i % 2 ? n1! : n2!, license, claimant(`night-${i}`, 1, { group: 'night' }), 11)));
    expect(night.filter((o) => o.kind === 'granted')).toHaveLength(2);
    expect(await seatsInUse(n1!, license.id)).toBe(6);
    const groups = (await n1!.listSessions(license.id)).map((s) => s.group);
    expect(groups.filter((g) => g === 'night')).toHaveLength(2);
  });

  it('seat requests: at most perHour a requester, counted in the transaction across two nodes', async () => {
    const [n1, n2] = await nodes(2);
    const license = await newLicense(n1!, { seats: 1 });
    const ask = (store: typeof n1, at: number) =>
      store!.recordRequest({ licenseId: license.id, at, sessionRef: 's', userId: 'bob', deviceId: null, name: 'Bob', message: null, requester: 'bob' }, 3);
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => ask(i % 2 ? n1 : n2, 1000 + i)));
    expect(results.filter((r) => 'request' in r)).toHaveLength(3);
    // Refused until the oldest counted request leaves the hour.
    for (const r of results) {
      if (!('retryAt' in r)) continue;
      expect(r.retryAt).toBeGreaterThanOrEqual(1000 + 3_600_000);
      expect(r.retryAt).toBeLessThanOrEqual(1005 + 3_600_000);
    }
    expect(await n1!.listRequests(license.id)).toHaveLength(3);
    expect(await n1!.countRequests(license.id, 1003)).toBeLessThanOrEqual(3);
    // An hour after the last, the requester may ask again.
    expect(await ask(n1, 1005 + 3_600_001)).toHaveProperty('request');
    // The history's retention prunes requests as it prunes the seat history.
    await n2!.pruneHistory(1005 + 3_600_001);
    expect((await n1!.listRequests(license.id)).map((r) => r.at)).toEqual([1005 + 3_600_001]);
  });
});
