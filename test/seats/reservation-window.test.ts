// Reservation windows on their own: weekdays and local times in an IANA zone, windows past
// midnight, and daylight-saving changes (Europe/Amsterdam moves from +01:00 to +02:00 on
// 2026-03-29 and back on 2026-10-25; America/New_York on 2026-03-08 and 2026-11-01).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTimeZone, type ReservationWindow, wallClock, windowHolds, windowsOverlap } from '../../server/seats/decisions/reservation-window';

const at = (iso: string) => Date.parse(iso);
const weekdays9to17 = (tz: string): ReservationWindow => ({ days: [1, 2, 3, 4, 5], from: '09:00', to: '17:00', tz });

describe('reservation windows', () => {
  // [window, instant (UTC), holds]
  const table: Array<[string, ReservationWindow, string, boolean]> = [
    ['a Monday 09:00 local in winter (08:00Z)', weekdays9to17('Europe/Amsterdam'), '2026-01-05T08:00:00Z', true],
    ['a minute before it', weekdays9to17('Europe/Amsterdam'), '2026-01-05T07:59:00Z', false],
    ['17:00 is out', weekdays9to17('Europe/Amsterdam'), '2026-01-05T16:00:00Z', false],
    ['a Saturday is out', weekdays9to17('Europe/Amsterdam'), '2026-01-10T10:00:00Z', false],
    // The Monday after the spring change: 09:00 local is 07:00Z now, not 08:00Z.
    ['09:00 local after the spring change (07:00Z)', weekdays9to17('Europe/Amsterdam'), '2026-03-30T07:00:00Z', true],
    ['08:00Z after the spring change is 10:00 local', weekdays9to17('Europe/Amsterdam'), '2026-03-30T06:59:00Z', false],
    // Back in autumn: Monday 2026-10-26 09:00 local is 08:00Z again.
    ['09:00 local after the autumn change (08:00Z)', weekdays9to17('Europe/Amsterdam'), '2026-10-26T08:00:00Z', true],
    ['07:59Z after the autumn change is 08:59 local', weekdays9to17('Europe/Amsterdam'), '2026-10-26T07:59:00Z', false],
    // A night shift past midnight, Friday 22:00 to 06:00: Saturday 05:59 holds, Saturday 22:00 does not.
    ['a night shift, its start', { days: [5], from: '22:00', to: '06:00', tz: 'UTC' }, '2026-01-09T22:00:00Z', true],
    ['a night shift, past midnight', { days: [5], from: '22:00', to: '06:00', tz: 'UTC' }, '2026-01-10T05:59:00Z', true],
    ['a night shift, its end', { days: [5], from: '22:00', to: '06:00', tz: 'UTC' }, '2026-01-10T06:00:00Z', false],
    ['a night shift, the next evening', { days: [5], from: '22:00', to: '06:00', tz: 'UTC' }, '2026-01-10T22:00:00Z', false],
    // Sunday night into Monday wraps the week.
    ['Sunday 23:00 to Monday 01:00', { days: [7], from: '23:00', to: '01:00', tz: 'UTC' }, '2026-01-05T00:30:00Z', true],
    // From equal to to: the whole day.
    ['a whole Wednesday', { days: [3], from: '00:00', to: '00:00', tz: 'America/New_York' }, '2026-01-08T04:59:00Z', true],
    ['the Thursday after it', { days: [3], from: '00:00', to: '00:00', tz: 'America/New_York' }, '2026-01-08T05:00:00Z', false],
    // The night of the spring change in New York: 02:00 to 03:00 local does not exist.
    ['a night shift over the spring change', { days: [6], from: '22:00', to: '06:00', tz: 'America/New_York' }, '2026-03-08T09:59:00Z', true],
    ['its end, in summer time', { days: [6], from: '22:00', to: '06:00', tz: 'America/New_York' }, '2026-03-08T10:00:00Z', false],
  ];
  it.each(table)('%s', (_name, window, instant, holds) => {
    expect(windowHolds(window, at(instant))).toBe(holds);
  });

  it('knows IANA zones and refuses made-up ones', () => {
    expect(isTimeZone('Europe/Amsterdam')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Mars/Olympus_Mons')).toBe(false);
  });

  it('overlap: windows on the same days and hours overlap; a night shift overlaps the next morning', () => {
    const nine = weekdays9to17('UTC');
    expect(windowsOverlap(nine, { days: [1], from: '16:00', to: '18:00', tz: 'UTC' })).toBe(true);
    expect(windowsOverlap(nine, { days: [1], from: '17:00', to: '18:00', tz: 'UTC' })).toBe(false);
    expect(windowsOverlap(nine, { days: [6, 7], from: '00:00', to: '00:00', tz: 'UTC' })).toBe(false);
    expect(windowsOverlap({ days: [7], from: '22:00', to: '10:00', tz: 'UTC' }, nine)).toBe(true);
    expect(windowsOverlap(undefined, nine)).toBe(true);
  });

  it('holds exactly when the local wall clock is inside it, at every instant of a year, in zones with and without DST', () => {
    const zones = ['Europe/Amsterdam', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'UTC'];
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2027-01-01T00:00:00Z') }),
        fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 7 }),
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 23 }),
        (tz, t, days, fromH, toH) => {
          const pad = (h: number) => `${String(h).padStart(2, '0')}:00`;
          const w: ReservationWindow = { days, from: pad(fromH), to: pad(toH), tz };
          const { day, minute } = wallClock(t, tz);
          const prev = day === 1 ? 7 : day - 1;
          const from = fromH * 60;
          const to = toH * 60;
          const expected =
            from === to ? days.includes(day) : from < to ? days.includes(day) && minute >= from && minute < to : (days.includes(day) && minute >= from) || (days.includes(prev) && minute < to);
          expect(windowHolds(w, t)).toBe(expected);
          // The wall clock agrees with Intl's own formatting of the instant.
          const hour = new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', hourCycle: 'h23' }).format(t);
          expect(Math.floor(minute / 60)).toBe(Number(hour));
        },
      ),
      { numRuns: 300 },
    );
  });
});
