// Where history buckets start in a time zone (server/seats/time-buckets.ts), without a database:
// table rows for the daylight-saving changes of 2026 and a property over zones and instants.
// test/store/history-seats.test.ts checks that the stores count events into these buckets.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketBounds, bucketStart, evenBounds, isTimeZone, nextBucketStart, wallClock } from '../../server/seats/time-buckets';

const H = 3_600_000;
const iso = (t: number) => new Date(t).toISOString();

describe('day buckets in a time zone', () => {
  // zone, a local date's first day, the UTC instants of the next local midnights, the lengths in hours
  const table: Array<[string, string, string[], number[]]> = [
    // Summer time starts: 29 March has 23 hours, 25 October 25.
    ['Europe/Amsterdam', '2026-03-28T12:00:00Z', ['2026-03-27T23:00:00.000Z', '2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z', '2026-03-30T22:00:00.000Z'], [24, 23, 24]],
    ['Europe/Amsterdam', '2026-10-24T12:00:00Z', ['2026-10-23T22:00:00.000Z', '2026-10-24T22:00:00.000Z', '2026-10-25T23:00:00.000Z', '2026-10-26T23:00:00.000Z'], [24, 25, 24]],
    ['America/New_York', '2026-03-07T12:00:00Z', ['2026-03-07T05:00:00.000Z', '2026-03-08T05:00:00.000Z', '2026-03-09T04:00:00.000Z', '2026-03-10T04:00:00.000Z'], [24, 23, 24]],
    // Cuba changes its clocks at midnight: 8 March starts at 01:00, when the clocks jump.
    ['America/Havana', '2026-03-07T12:00:00Z', ['2026-03-07T05:00:00.000Z', '2026-03-08T05:00:00.000Z', '2026-03-09T04:00:00.000Z', '2026-03-10T04:00:00.000Z'], [24, 23, 24]],
    // A quarter-hour offset and no daylight saving.
    ['Asia/Kathmandu', '2026-03-28T12:00:00Z', ['2026-03-27T18:15:00.000Z', '2026-03-28T18:15:00.000Z', '2026-03-29T18:15:00.000Z', '2026-03-30T18:15:00.000Z'], [24, 24, 24]],
    ['UTC', '2026-03-28T12:00:00Z', ['2026-03-28T00:00:00.000Z', '2026-03-29T00:00:00.000Z', '2026-03-30T00:00:00.000Z', '2026-03-31T00:00:00.000Z'], [24, 24, 24]],
  ];
  it.each(table)('%s from %s', (tz, from, starts, hours) => {
    const t = Date.parse(from);
    const bounds = bucketBounds('day', tz, t, Date.parse(starts.at(-1)!) - 1);
    expect(bounds.map(iso)).toEqual(starts);
    expect(bounds.slice(1).map((b, i) => (b - bounds[i]!) / H)).toEqual(hours);
  });

  it('hour buckets follow half-hour changes of offset (Lord Howe Island, 5 April 2026)', () => {
    const bounds = bucketBounds('hour', 'Australia/Lord_Howe', Date.parse('2026-04-04T14:10:00Z'), Date.parse('2026-04-04T16:40:00Z'));
    // 02:00 local (+11) becomes 01:30 (+10:30): a half-hour bucket, then full local hours again.
    expect(bounds.map(iso)).toEqual(['2026-04-04T14:00:00.000Z', '2026-04-04T15:00:00.000Z', '2026-04-04T15:30:00.000Z', '2026-04-04T16:30:00.000Z', '2026-04-04T17:30:00.000Z']);
  });

  it('knows IANA zones and UTC, and nothing else', () => {
    expect(['UTC', 'Europe/Amsterdam', 'America/Argentina/Buenos_Aires', 'Asia/Kathmandu'].every(isTimeZone)).toBe(true);
    expect(['', 'Mars/Olympus_Mons', 'Europe/Amsterdam ', 'x'.repeat(65), '../../etc/passwd'].some(isTimeZone)).toBe(false);
  });

  it('gives no buckets for an empty range, and even ones for the stores\' tests', () => {
    expect(bucketBounds('day', 'UTC', 86_400_000 + 5000, 86_400_000)).toEqual([]);
    // A range inside one bucket is that bucket, as a `since` later than now is the current one.
    expect(bucketBounds('day', 'UTC', 5000, 5000)).toEqual([0, 86_400_000]);
    expect(evenBounds(1000, 4000, 1500)).toEqual([1000, 2500, 4000]);
  });

  const ZONES = ['Europe/Amsterdam', 'America/New_York', 'America/Havana', 'America/Santiago', 'Australia/Lord_Howe', 'Pacific/Chatham', 'Asia/Kathmandu', 'Pacific/Kiritimati', 'Pacific/Pago_Pago', 'UTC'];
  const instant = fc.integer({ min: Date.parse('2020-01-01'), max: Date.parse('2035-01-01') });

  it('property: day boundaries strictly increase, each the first instant of its local date, one date apart', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), instant, fc.integer({ min: 1, max: 40 }), (tz, t, days) => {
        const bounds = bucketBounds('day', tz, t, t + days * 24 * H);
        expect(bounds[0]!).toBeLessThanOrEqual(t);
        expect(bounds.at(-1)!).toBeGreaterThanOrEqual(t + days * 24 * H);
        for (let i = 0; i < bounds.length; i++) {
          const b = bounds[i]!;
          const here = wallClock(tz, b);
          const before = wallClock(tz, b - 1000);
          // At local midnight, or where the clocks skip it, the first second of the date.
          expect([here.year, here.month, here.day]).not.toEqual([before.year, before.month, before.day]);
          if (i > 0) {
            expect(b).toBeGreaterThan(bounds[i - 1]!);
            expect(b - bounds[i - 1]!).toBeGreaterThanOrEqual(22 * H);
            expect(b - bounds[i - 1]!).toBeLessThanOrEqual(26 * H);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('property: every instant lies in the bucket that holds it, hours and days', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), instant, fc.constantFrom('hour' as const, 'day' as const), (tz, t, unit) => {
        const start = bucketStart(unit, tz, t);
        const next = nextBucketStart(unit, tz, start);
        expect(start).toBeLessThanOrEqual(t);
        expect(next).toBeGreaterThan(t);
        if (unit === 'hour') expect(wallClock(tz, start).second).toBe(0);
      }),
      { numRuns: 500 },
    );
  });
});
