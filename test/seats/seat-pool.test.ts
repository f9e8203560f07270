// Overage, reservations and group limits on their own (seat-pool.ts): table rows of what is held
// and who asks, and properties over random sequences of grants and releases.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { capacity, decideSeat, fitBound, type PoolSettings } from '../../server/seats/decisions/seat-pool';
import { poolProblem } from '../../server/seats/decisions/pool-settings';

const NOW = Date.parse('2026-01-05T10:00:00Z'); // a Monday, 10:00 UTC
const pool = (over: Partial<PoolSettings> = {}): PoolSettings => ({ seats: 4, overage: 1, reservations: [], groupLimits: [], ...over });
const held = (total: number, groups: Record<string, number> = {}) => ({ total, byGroup: new Map(Object.entries(groups)) });
const ask = (group: string | null, weight = 1) => ({ weight, group });

describe('decideSeat', () => {
  // [name, settings, held, claimant, expected]
  const table: Array<[string, PoolSettings, ReturnType<typeof held>, ReturnType<typeof ask>, string]> = [
    ['a free seat', pool(), held(3), ask(null), 'fits'],
    ['full', pool(), held(4), ask(null), 'no_free_seats'],
    ['overage 1.5 on 4 seats: up to 6', pool({ overage: 1.5 }), held(5), ask(null), 'fits+overage'],
    ['overage 1.5 on 4 seats: not 7', pool({ overage: 1.5 }), held(6), ask(null), 'no_free_seats'],
    ['overage 1.25 on 3 seats: floor(3.75) = 3, none extra', pool({ seats: 3, overage: 1.25 }), held(3), ask(null), 'no_free_seats'],
    ['within seats with overage allowed: not marked', pool({ overage: 2 }), held(2), ask(null), 'fits'],
    // Two of four seats reserved for "night".
    ['an outsider takes an unreserved seat', pool({ reservations: [{ group: 'night', seats: 2 }] }), held(1), ask(null), 'fits'],
    ['an outsider never takes a reserved seat', pool({ reservations: [{ group: 'night', seats: 2 }] }), held(2), ask('day'), 'no_free_seats'],
    ['a member takes its reserved seat when the rest is full', pool({ reservations: [{ group: 'night', seats: 2 }] }), held(2), ask('night'), 'fits'],
    ['a member spills into unreserved seats', pool({ reservations: [{ group: 'night', seats: 2 }] }), held(2, { night: 2 }), ask('night'), 'fits'],
    ['a member with its reservation used and the rest full', pool({ reservations: [{ group: 'night', seats: 2 }] }), held(4, { night: 2 }), ask('night'), 'no_free_seats'],
    ['a member whose group spilled over: the outsider waits', pool({ reservations: [{ group: 'night', seats: 2 }] }), held(3, { night: 3 }), ask(null), 'fits'],
    ['a weight of 2 split over reserved and unreserved', pool({ reservations: [{ group: 'night', seats: 2 }] }), held(2, { night: 1 }), ask('night', 2), 'fits'],
    ['a weight of 2 whose unreserved half finds no room', pool({ reservations: [{ group: 'night', seats: 2 }] }), held(3, { night: 1 }), ask('night', 2), 'no_free_seats'],
    // A window: held on weekdays 09:00 to 17:00 UTC, so at 10:00 on a Monday; not on a Sunday.
    ['a reservation in its window binds', pool({ reservations: [{ group: 'ops', seats: 3, window: { days: [1, 2, 3, 4, 5], from: '09:00', to: '17:00', tz: 'UTC' } }] }), held(1), ask(null), 'no_free_seats'],
    ['the same reservation outside its window frees its seats', pool({ reservations: [{ group: 'ops', seats: 3, window: { days: [7], from: '09:00', to: '17:00', tz: 'UTC' } }] }), held(1), ask(null), 'fits'],
    // Group limits.
    ['a group at its limit', pool({ groupLimits: [{ group: 'contractors', max: 2 }] }), held(2, { contractors: 2 }), ask('contractors'), 'group_limit'],
    ['another group is not limited by it', pool({ groupLimits: [{ group: 'contractors', max: 2 }] }), held(2, { contractors: 2 }), ask('staff'), 'fits'],
    ['a weight that would pass the limit', pool({ groupLimits: [{ group: 'contractors', max: 2 }] }), held(1, { contractors: 1 }), ask('contractors', 2), 'group_limit'],
    ['a limit of 0 bars the group', pool({ groupLimits: [{ group: 'guests', max: 0 }] }), held(0), ask('guests'), 'group_limit'],
  ];
  it.each(table)('%s', (_name, settings, h, claimant, expected) => {
    const v = decideSeat(settings, claimant, h, NOW);
    expect(v.kind === 'fits' ? (v.overage ? 'fits+overage' : 'fits') : v.reason).toBe(expected);
  });

  it('random grants and releases: never past the capacity, reserved seats kept for their group, group limits kept', () => {
    const groups = ['a', 'b', null] as const;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 8 }),
        fc.constantFrom(1, 1.25, 1.5, 2),
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 0, max: 6 }),
        fc.array(fc.record({ group: fc.constantFrom(...groups), weight: fc.integer({ min: 1, max: 3 }), release: fc.boolean() }), { maxLength: 60 }),
        (seats, overage, ra, rb, limitB, steps) => {
          if (ra + rb > seats) return;
          const settings = pool({ seats, overage, reservations: [...(ra ? [{ group: 'a', seats: ra }] : []), ...(rb ? [{ group: 'b', seats: rb }] : [])], groupLimits: [{ group: 'b', max: limitB }] });
          expect(poolProblem(settings)).toBeUndefined();
          const live: Array<{ group: string | null; weight: number }> = [];
          const state = () => {
            const byGroup = new Map<string, number>();
            for (const s of live) if (s.group) byGroup.set(s.group, (byGroup.get(s.group) ?? 0) + s.weight);
            return { total: live.reduce((n, s) => n + s.weight, 0), byGroup };
          };
          for (const step of steps) {
            if (step.release && live.length > 0) {
              live.splice(0, 1);
              continue;
            }
            const before = state();
            const v = decideSeat(settings, step, before, NOW);
            // A member within its group's free reserved seats (and its limit) always gets in.
            const reservedFor = step.group === 'a' ? ra : step.group === 'b' ? rb : 0;
            const withinLimit = step.group !== 'b' || (before.byGroup.get('b') ?? 0) + step.weight <= limitB;
            if (step.group && withinLimit && (before.byGroup.get(step.group) ?? 0) + step.weight <= reservedFor) expect(v.kind).toBe('fits');
            if (v.kind === 'fits') live.push(step);
            const after = state();
            expect(after.total).toBeLessThanOrEqual(capacity(settings));
            expect(after.byGroup.get('b') ?? 0).toBeLessThanOrEqual(Math.max(limitB, before.byGroup.get('b') ?? 0));
            // What others hold never eats into a group's reservation.
            const othersOfA = after.total - Math.min(after.byGroup.get('a') ?? 0, ra);
            expect(othersOfA).toBeLessThanOrEqual(capacity(settings) - ra);
            const othersOfB = after.total - Math.min(after.byGroup.get('b') ?? 0, rb);
            expect(othersOfB).toBeLessThanOrEqual(capacity(settings) - rb);
            if (v.kind === 'fits') expect(v.overage).toBe(after.total > seats);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('fitBound', () => {
  it('is exactly the most seats held at which decideSeat still fits the claim, where no group matters', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 50 }),
        fc.constantFrom(1, 1.1, 1.25, 1.5, 2),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 120 }),
        fc.constantFrom(null, 'night', 'day'),
        (seats, overage, weight, total, group) => {
          const p = pool({ seats, overage });
          const bound = fitBound(p, weight)!;
          const verdict = decideSeat(p, { weight, group }, held(total), NOW);
          expect(verdict.kind === 'fits').toBe(total <= bound);
        },
      ),
    );
  });

  it('is null where reservations or group limits make groups matter', () => {
    expect(fitBound(pool({ reservations: [{ group: 'night', seats: 1 }] }), 1)).toBeNull();
    expect(fitBound(pool({ groupLimits: [{ group: 'night', max: 1 }] }), 1)).toBeNull();
  });
});

describe('poolProblem', () => {
  const nine = { days: [1, 2, 3, 4, 5], from: '09:00', to: '17:00', tz: 'Europe/Amsterdam' };
  it.each([
    ['reservations over the seats', { seats: 3, reservations: [{ group: 'a', seats: 2 }, { group: 'b', seats: 2 }], groupLimits: [] }, 'reservations'],
    ['an unknown time zone', { seats: 3, reservations: [{ group: 'a', seats: 1, window: { ...nine, tz: 'Europe/Atlantis' } }], groupLimits: [] }, 'reservations.0.window.tz'],
    ['overlapping windows for one group', { seats: 3, reservations: [{ group: 'a', seats: 1, window: nine }, { group: 'a', seats: 1, window: { ...nine, days: [5], from: '16:00', to: '20:00' } }], groupLimits: [] }, 'reservations.1.window'],
    ['one group in two zones', { seats: 3, reservations: [{ group: 'a', seats: 1, window: nine }, { group: 'a', seats: 1, window: { ...nine, days: [6], tz: 'UTC' } }], groupLimits: [] }, 'reservations.1.window.tz'],
    ['two limits for one group', { seats: 3, reservations: [], groupLimits: [{ group: 'a', max: 1 }, { group: 'a', max: 2 }] }, 'groupLimits.1.group'],
  ] as const)('%s', (_name, settings, field) => {
    expect(poolProblem(settings as never)?.field).toBe(field);
  });
  it('accepts windows of one group that follow each other, and reservations up to the seats', () => {
    expect(poolProblem({ seats: 2, reservations: [{ group: 'a', seats: 1, window: nine }, { group: 'a', seats: 1, window: { ...nine, from: '17:00', to: '09:00' } }], groupLimits: [] })).toBeUndefined();
  });
});
