// The seat count in force per history bucket on every store (docs/contract.md, history `seats`
// and `full`), time-zone buckets across daylight-saving changes, and pruning that keeps the seat
// count the oldest kept bucket needs.
import { expect, it } from 'vitest';
import { bucketBounds, evenBounds } from '../../server/seats/time-buckets';
import { admit, claimant, forEachStore, grant, newLicense } from './store-dialects';

const pick = (buckets: { at: number; seats: number; full: boolean; peakSeatsInUse: number; denials: number }[]) =>
  buckets.map(({ at, seats, full, peakSeatsInUse, denials }) => ({ at, seats, full, peak: peakSeatsInUse, denials }));

forEachStore('history seats', (nodes) => {
  it('gives each bucket the seats in force then: raising the seats leaves past full buckets full', async () => {
    const [store] = await nodes(1);
    const license = await newLicense(store!, { seats: 1, createdAt: 1000 });
    // [1000, 2000): full for a while, at one seat.
    const a = await grant(store!, license, claimant('a'), 1500);
    expect((await admit(store!, license, claimant('x'), 1600)).kind).toBe('denied');
    await store!.endSession(a.session.id, 'ended_by_app', 1800);
    // [2000, 3000): full at one seat, then raised to three.
    await grant(store!, license, claimant('c'), 2100);
    await store!.updateLicense(license.id, { seats: 3 }, 2500);
    // [3000, 4000): two of three, never full.
    await grant(store!, license, claimant('b'), 3200);
    // [4000, 5000): lowered to the two in use, which fills it with no seat event; [5000, 6000) full all along.
    const lowered = await store!.updateLicense(license.id, { seats: 2 }, 4500);
    expect(lowered!.ended).toEqual([]);
    // A change that leaves the seats alone is not a change of the seat count.
    await store!.updateLicense(license.id, { name: 'renamed' }, 5500);

    expect(pick(await store!.history(license.id, evenBounds(1000, 6000, 1000)))).toEqual([
      { at: 1000, seats: 1, full: true, peak: 1, denials: 1 },
      { at: 2000, seats: 3, full: true, peak: 1, denials: 0 },
      { at: 3000, seats: 3, full: false, peak: 2, denials: 0 },
      { at: 4000, seats: 3, full: true, peak: 2, denials: 0 },
      { at: 5000, seats: 2, full: true, peak: 2, denials: 0 },
    ]);
    // Before the license existed: its first seat count, nothing in use.
    expect(pick(await store!.history(license.id, evenBounds(0, 1000, 1000)))).toEqual([{ at: 0, seats: 1, full: false, peak: 0, denials: 0 }]);
    // A bucket that starts at a change has only the new count; one that starts later carries it.
    expect(pick(await store!.history(license.id, [2500, 3000, 3100]))).toEqual([
      { at: 2500, seats: 3, full: false, peak: 1, denials: 0 },
      { at: 3000, seats: 3, full: false, peak: 1, denials: 0 },
    ]);
  });

  it('pruning keeps the seat count in force at the retention start', async () => {
    const [store] = await nodes(1);
    const license = await newLicense(store!, { seats: 1, createdAt: 1000 });
    const other = await newLicense(store!, { seats: 5, createdAt: 1000 });
    await store!.updateLicense(license.id, { seats: 3 }, 2500);
    await store!.updateLicense(license.id, { seats: 4 }, 3500);
    await store!.pruneHistory(3000);
    // 2500's change is what was in force at 3000: it stays, so [3000, 4000) still starts at 3.
    expect(pick(await store!.history(license.id, evenBounds(3000, 5000, 1000))).map((b) => b.seats)).toEqual([4, 4]);
    expect(pick(await store!.history(license.id, [3000, 3400, 3600])).map((b) => b.seats)).toEqual([3, 4]);
    expect(pick(await store!.history(other.id, [3000, 4000])).map((b) => b.seats)).toEqual([5]);
    // Nothing older is needed: the 1000 one went. (Asked for, its range now starts at 3.)
    expect(pick(await store!.history(license.id, [1000, 2000])).map((b) => b.seats)).toEqual([3]);
    await store!.pruneHistory(10_000);
    expect(pick(await store!.history(license.id, [10_000, 11_000])).map((b) => b.seats)).toEqual([4]);
    expect(pick(await store!.history(other.id, [10_000, 11_000])).map((b) => b.seats)).toEqual([5]);
  });

  it('counts events into the days of Europe/Amsterdam across both daylight-saving changes of 2026', async () => {
    const [store] = await nodes(1);
    const T = Date.parse;
    const license = await newLicense(store!, { seats: 1, createdAt: T('2026-03-01T00:00:00Z') });
    // 29 March (23 h): 00:30 local is the 28th in UTC; 23:30 local the 29th; 00:30 on the 30th.
    await grant(store!, license, claimant('a'), T('2026-03-28T23:30:00Z'));
    expect((await admit(store!, license, claimant('x1'), T('2026-03-29T21:30:00Z'))).kind).toBe('denied');
    expect((await admit(store!, license, claimant('x2'), T('2026-03-29T22:30:00Z'))).kind).toBe('denied');
    const spring = bucketBounds('day', 'Europe/Amsterdam', T('2026-03-28T12:00:00Z'), T('2026-03-30T12:00:00Z'));
    expect((await store!.history(license.id, spring)).map((b) => [new Date(b.at).toISOString(), b.denials, b.peakSeatsInUse])).toEqual([
      ['2026-03-27T23:00:00.000Z', 0, 0],
      ['2026-03-28T23:00:00.000Z', 1, 1],
      ['2026-03-29T22:00:00.000Z', 1, 1],
    ]);
    // 25 October (25 h): 00:30 local is the 24th in UTC; 23:30 local is 22:30 UTC, still the 25th.
    expect((await admit(store!, license, claimant('y1'), T('2026-10-24T22:30:00Z'))).kind).toBe('denied');
    expect((await admit(store!, license, claimant('y2'), T('2026-10-25T22:30:00Z'))).kind).toBe('denied');
    expect((await admit(store!, license, claimant('y3'), T('2026-10-25T23:30:00Z'))).kind).toBe('denied');
    const autumn = bucketBounds('day', 'Europe/Amsterdam', T('2026-10-24T12:00:00Z'), T('2026-10-26T12:00:00Z'));
    const days = await store!.history(license.id, autumn);
    expect(days.map((b) => [new Date(b.at).toISOString(), b.denials])).toEqual([
      ['2026-10-23T22:00:00.000Z', 0],
      ['2026-10-24T22:00:00.000Z', 2],
      ['2026-10-25T23:00:00.000Z', 1],
    ]);
    expect(days.every((b) => b.full && b.seats === 1)).toBe(true);
    // The same events in UTC days: the 24th gets one, the 25th two.
    const utc = await store!.history(license.id, bucketBounds('day', 'UTC', T('2026-10-24T12:00:00Z'), T('2026-10-25T12:00:00Z')));
    expect(utc.map((b) => b.denials)).toEqual([1, 2]);
  });
});
