// The seat history on every store: denials and the peak of seats in use per time bucket, as the
// dashboard's charts read them. Several events share a bucket (on SQLite, too: a JS number binds
// as a REAL there, and the bucket must still be an integer).
import { expect, it } from 'vitest';
import { evenBounds } from '../../server/seats/time-buckets';
import type { Denial } from '../../server/seats/types';
import { admit, claimant, forEachStore, grant, newLicense } from './store-dialects';

forEachStore('history', (nodes) => {
  it('counts the denials and the peak of seats in use of several events in one bucket', async () => {
    const [store] = await nodes(1);
    const license = await newLicense(store!, { seats: 2 });
    // No queue here: nothing granted from it, no unmet demand.
    const of2 = { seats: 2, queuedGranted: 0, unmetDemand: 0, unmetAvgWaitSec: null };
    // [1000, 2000): two grants, two denials, both ended again.
    const a = await grant(store!, license, claimant('a'), 1000);
    const b = await grant(store!, license, claimant('b'), 1100);
    expect((await admit(store!, license, claimant('c'), 1150)).kind).toBe('denied');
    expect((await admit(store!, license, claimant('d'), 1160)).kind).toBe('denied');
    await store!.endSession(b.session.id, 'ended_by_app', 1200);
    await store!.endSession(a.session.id, 'ended_by_app', 1300);
    // [2000, 3000): one grant and a hook's refusal. [3000, 4000): nothing moves.
    await grant(store!, license, claimant('e'), 2500);
    const refusal: Denial = { licenseId: license.id, at: 2600, reason: 'denied_by_app', sessionRef: 'f', userId: null, deviceId: null, instanceId: null };
    await store!.recordDenial(refusal);

    expect(await store!.history(license.id, evenBounds(1000, 4000, 1000))).toEqual([
      { at: 1000, denials: 2, peakSeatsInUse: 2, ...of2, full: true, denialsByReason: { no_free_seats: 2 } },
      { at: 2000, denials: 1, peakSeatsInUse: 1, ...of2, full: false, denialsByReason: { denied_by_app: 1 } },
      // Held since the last move before it.
      { at: 3000, denials: 0, peakSeatsInUse: 1, ...of2, full: false, denialsByReason: {} },
    ]);
    // Buckets that do not divide the times evenly, and seats carried in from before `since`.
    expect(await store!.history(license.id, evenBounds(1000, 4000, 1500))).toEqual([
      { at: 1000, denials: 2, peakSeatsInUse: 2, ...of2, full: true, denialsByReason: { no_free_seats: 2 } },
      { at: 2500, denials: 1, peakSeatsInUse: 1, ...of2, full: false, denialsByReason: { denied_by_app: 1 } },
    ]);
    expect(await store!.history(license.id, evenBounds(1250, 2250, 500))).toEqual([
      { at: 1250, denials: 0, peakSeatsInUse: 1, ...of2, full: false, denialsByReason: {} },
      { at: 1750, denials: 0, peakSeatsInUse: 0, ...of2, full: false, denialsByReason: {} },
    ]);
    expect(await store!.history(license.id, evenBounds(3000, 5000, 1000))).toEqual([
      { at: 3000, denials: 0, peakSeatsInUse: 1, ...of2, full: false, denialsByReason: {} },
      { at: 4000, denials: 0, peakSeatsInUse: 1, ...of2, full: false, denialsByReason: {} },
    ]);
  });

  it('counts the denials of every license by reason since a time, in one grouped read', async () => {
    const [store] = await nodes(1);
    const a = await newLicense(store!, { seats: 1 });
    const b = await newLicense(store!, { seats: 0 });
    const quiet = await newLicense(store!, { seats: 1 });
    await grant(store!, a, claimant('a1'), 1000);
    for (const [key, at] of [['a2', 1100], ['a3', 1200], ['a4', 500]] as const) expect((await admit(store!, a, claimant(key), at)).kind).toBe('denied');
    expect((await admit(store!, b, claimant('b1'), 1300)).kind).toBe('denied');
    const refusal: Denial = { licenseId: a.id, at: 1400, reason: 'denied_by_app', sessionRef: 'x', userId: null, deviceId: null, instanceId: null };
    await store!.recordDenial(refusal);

    const counts = await store!.countDenials(1000);
    const mine = counts.filter((c) => [a.id, b.id, quiet.id].includes(c.licenseId));
    expect(mine).toEqual(
      expect.arrayContaining([
        { licenseId: a.id, reason: 'no_free_seats', count: 2 },
        { licenseId: a.id, reason: 'denied_by_app', count: 1 },
        { licenseId: b.id, reason: 'no_free_seats', count: 1 },
      ]),
    );
    expect(mine).toHaveLength(3);
    expect(await store!.countDenials(0)).toContainEqual({ licenseId: a.id, reason: 'no_free_seats', count: 3 });
    expect(await store!.countDenials(2000)).toEqual([]);
  });
});
