// Which sessions a changed license ends, on its own: rows of live sessions, no database.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type LicenseFacts, type LiveSession, mayEndSessions, newestFirst, sessionsToEnd } from '../../server/seats/decisions/license-change';

const s = (id: string, startedAt: number, weight = 1): LiveSession => ({ id, startedAt, weight });
const held = (live: LiveSession[]) => live.reduce((n, x) => n + x.weight, 0);
const active = (seats: number, live: LiveSession[]): LicenseFacts => ({ status: 'active', seats, seatsInUse: held(live) });

const LIVE = [s('a', 1), s('b', 2, 2), s('c', 3), s('d', 4)];

describe('sessionsToEnd', () => {
  it.each<[string, LicenseFacts, LiveSession[], Array<[string, string]>]>([
    ['nothing ends while the seats still fit', active(5, LIVE), LIVE, []],
    ['seats lowered to exactly those held end nothing', { status: 'active', seats: 5, seatsInUse: 5 }, LIVE, []],
    ['seats lowered end the newest until the rest fit', active(3, LIVE), LIVE, [['d', 'seats_reduced'], ['c', 'seats_reduced']]],
    ['a heavy session ends whole, even if that frees more than needed', active(2, LIVE), LIVE, [['d', 'seats_reduced'], ['c', 'seats_reduced'], ['b', 'seats_reduced']]],
    ['zero seats end everyone', active(0, LIVE), LIVE, [['d', 'seats_reduced'], ['c', 'seats_reduced'], ['b', 'seats_reduced'], ['a', 'seats_reduced']]],
    ['the order given does not matter', active(4, LIVE), [...LIVE].reverse(), [['d', 'seats_reduced']]],
    ['sessions started together end by the greater id first', active(1, [s('x', 5), s('y', 5)]), [s('x', 5), s('y', 5)], [['y', 'seats_reduced']]],
    ['suspension ends every session, newest first', { status: 'suspended', seats: 10, seatsInUse: 5 }, LIVE, [['d', 'license_suspended'], ['c', 'license_suspended'], ['b', 'license_suspended'], ['a', 'license_suspended']]],
    ['suspension with no sessions ends none', { status: 'suspended', seats: 10, seatsInUse: 0 }, [], []],
  ])('%s', (_name, license, live, expected) => {
    expect(sessionsToEnd(license, live).map((e) => [e.session.id, e.reason])).toEqual(expected);
  });

  it.each<[LicenseFacts, boolean]>([
    [{ status: 'active', seats: 3, seatsInUse: 3 }, false],
    [{ status: 'active', seats: 2, seatsInUse: 3 }, true],
    [{ status: 'suspended', seats: 3, seatsInUse: 0 }, true],
  ])('mayEndSessions(%j) is %s', (license, expected) => {
    expect(mayEndSessions(license)).toBe(expected);
  });
});

const lives = fc
  .uniqueArray(fc.record({ id: fc.string({ minLength: 1, maxLength: 3 }), startedAt: fc.nat(5), weight: fc.integer({ min: 1, max: 3 }) }), {
    selector: (x) => x.id,
    maxLength: 8,
  });
const change = fc.record({ live: lives, seats: fc.nat(10), suspended: fc.boolean() });

describe('sessionsToEnd properties', () => {
  it('what is left fits the seats; a suspended license keeps nothing', () => {
    fc.assert(
      fc.property(change, ({ live, seats, suspended }) => {
        const license: LicenseFacts = { status: suspended ? 'suspended' : 'active', seats, seatsInUse: held(live) };
        const ending = sessionsToEnd(license, live);
        const left = live.filter((x) => !ending.some((e) => e.session === x));
        if (suspended) expect(left).toEqual([]);
        else expect(held(left)).toBeLessThanOrEqual(seats);
        expect(ending.length > 0).toBe(live.length > 0 && mayEndSessions(license));
      }),
    );
  });

  it('only the newest end, and no more than needed: every kept session is older than every ended one, and keeping the last one ended would not fit', () => {
    fc.assert(
      fc.property(change, ({ live, seats }) => {
        const license = active(seats, live);
        const ending = sessionsToEnd(license, live).map((e) => e.session);
        const left = live.filter((x) => !ending.includes(x));
        for (const kept of left) for (const gone of ending) expect(newestFirst(gone, kept)).toBeLessThan(0);
        const last = ending.at(-1);
        if (last) expect(held(left) + last.weight).toBeGreaterThan(seats);
        // In the order they end: newest first.
        expect([...ending].sort(newestFirst)).toEqual(ending);
      }),
    );
  });
});
