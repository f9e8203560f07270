// The admission rule on its own: rows of what the store's transaction read, and the decision.
// No database; the store's contract tests (test/store) check that it writes what was decided.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AdmissionInput, decideAdmission, isPastDeadline, type SessionFacts } from '../../server/seats/decisions/admission';

const NOW = 10_000;
type S = SessionFacts;
const active = (id: string, weight = 1): S => ({ id, weight, state: 'active', expiresAt: null });
const idle = (id: string, expiresAt: number, weight = 1): S => ({ id, weight, state: 'idle', expiresAt });

function input(over: Partial<AdmissionInput<S>> & { seats?: number; seatsInUse?: number; suspended?: boolean; weight?: number }): AdmissionInput<S> {
  return {
    license: { status: over.suspended ? 'suspended' : 'active', seats: over.seats ?? 2, seatsInUse: over.seatsInUse ?? 0, overage: 1, reservations: [], groupLimits: [] },
    claimant: { weight: over.weight ?? 1 },
    own: over.own,
    stale: over.stale ?? [],
    cooldownUntil: over.cooldownUntil ?? null,
    now: NOW,
  };
}

/** The decision as a row: kind, reason or resumed session, and the released ids. */
function summary(d: ReturnType<typeof decideAdmission<S>>) {
  const released = d.release.map((s) => s.id);
  if (d.kind === 'deny') return ['deny', d.reason, released];
  if (d.kind === 'resume') return ['resume', d.session.id, released];
  return ['grant', null, released];
}

describe('decideAdmission', () => {
  it.each([
    ['a free seat is granted', input({ seats: 2, seatsInUse: 1 }), ['grant', null, []]],
    ['a grant may fill the license exactly', input({ seats: 3, seatsInUse: 1, weight: 2 }), ['grant', null, []]],
    ['a full license denies', input({ seats: 2, seatsInUse: 2 }), ['deny', 'no_free_seats', []]],
    ['a claim heavier than the free seats is denied', input({ seats: 3, seatsInUse: 2, weight: 2 }), ['deny', 'no_free_seats', []]],
    ['zero seats deny everyone', input({ seats: 0, seatsInUse: 0 }), ['deny', 'no_free_seats', []]],
    ['a suspended license denies, even a live seat key', input({ suspended: true, own: active('mine') }), ['deny', 'license_suspended', []]],
    ['a suspended license releases nothing', input({ suspended: true, seatsInUse: 1, stale: [idle('old', NOW - 1)] }), ['deny', 'license_suspended', []]],
    ['the seat key\'s active session is resumed, full or not', input({ seats: 1, seatsInUse: 1, own: active('mine') }), ['resume', 'mine', []]],
    ['its idle session within the hold is resumed', input({ seats: 1, seatsInUse: 1, own: idle('mine', NOW + 1) }), ['resume', 'mine', []]],
    ['a live seat is resumed in its kick cool-down (it was not kicked)', input({ own: active('mine'), cooldownUntil: NOW + 5 }), ['resume', 'mine', []]],
    [
      'its own session past the deadline is released with every stale one, and the claim asks afresh',
      input({ seats: 2, seatsInUse: 2, own: idle('mine', NOW), stale: [idle('old', NOW - 5)] }),
      ['grant', null, ['mine', 'old']],
    ],
    [
      'a stale own session of a seat key in cool-down is released, then the key is refused',
      input({ seats: 2, seatsInUse: 1, own: idle('mine', NOW - 1), cooldownUntil: NOW + 1 }),
      ['deny', 'kicked', ['mine']],
    ],
    ['a kicked seat key is refused until its cool-down ends', input({ cooldownUntil: NOW + 1 }), ['deny', 'kicked', []]],
    ['the cool-down ends at its instant', input({ cooldownUntil: NOW }), ['grant', null, []]],
    ['stale seats stay while the claim fits without them', input({ seats: 3, seatsInUse: 1, stale: [idle('old', NOW - 1)] }), ['grant', null, []]],
    ['stale seats are released when the claim needs them', input({ seats: 1, seatsInUse: 1, stale: [idle('old', NOW - 1)] }), ['grant', null, ['old']]],
    ['a deadline falling now counts as passed', input({ seats: 1, seatsInUse: 1, stale: [idle('old', NOW)] }), ['grant', null, ['old']]],
    [
      'idle seats not yet past their deadline are held',
      input({ seats: 1, seatsInUse: 1, stale: [idle('young', NOW + 1)] }),
      ['deny', 'no_free_seats', []],
    ],
    [
      'active sessions handed in as stale are never released',
      input({ seats: 1, seatsInUse: 1, stale: [active('busy')] }),
      ['deny', 'no_free_seats', []],
    ],
    [
      'released stale seats that still leave too few deny, and stay released',
      input({ seats: 3, seatsInUse: 3, weight: 2, stale: [idle('old', NOW - 1)] }),
      ['deny', 'no_free_seats', ['old']],
    ],
    [
      'every stale seat goes, not just enough of them',
      input({ seats: 2, seatsInUse: 2, stale: [idle('a', NOW - 1), idle('b', NOW - 2)] }),
      ['grant', null, ['a', 'b']],
    ],
  ])('%s', (_name, given, expected) => {
    expect(summary(decideAdmission(given))).toEqual(expected);
  });

  it('isPastDeadline: only idle sessions at or past their deadline', () => {
    expect(isPastDeadline(idle('x', NOW), NOW)).toBe(true);
    expect(isPastDeadline(idle('x', NOW + 1), NOW)).toBe(false);
    expect(isPastDeadline(active('x'), NOW)).toBe(false);
    expect(isPastDeadline({ state: 'idle', expiresAt: null }, NOW)).toBe(false);
  });
});

// ---- properties ----

const session = (id: string) =>
  fc.record({
    id: fc.constant(id),
    weight: fc.integer({ min: 1, max: 3 }),
    state: fc.constantFrom('active' as const, 'idle' as const),
    // Around now: before, at and after the deadline.
    expiresAt: fc.integer({ min: NOW - 3, max: NOW + 3 }),
  }).map((s): S => ({ ...s, expiresAt: s.state === 'active' ? null : s.expiresAt }));

const admission = fc
  .record({
    seats: fc.nat(6),
    suspended: fc.boolean(),
    weight: fc.integer({ min: 1, max: 3 }),
    own: fc.option(session('own'), { nil: undefined }),
    stale: fc.uniqueArray(fc.nat(20), { maxLength: 5 }).chain((ids) => fc.tuple(...ids.map((i) => session(`s${i}`)))),
    // Seats held by sessions the decision is not shown (active ones, idle ones in their hold).
    others: fc.nat(6),
    cooldownUntil: fc.option(fc.integer({ min: NOW - 2, max: NOW + 2 }), { nil: null }),
  })
  .map(({ seats, suspended, weight, own, stale, others, cooldownUntil }): AdmissionInput<S> => {
    const shown = [...(own ? [own] : []), ...stale].reduce((n, s) => n + s.weight, 0);
    return {
      license: { status: suspended ? 'suspended' : 'active', seats, seatsInUse: shown + others, overage: 1, reservations: [], groupLimits: [] },
      claimant: { weight },
      own,
      stale,
      cooldownUntil,
      now: NOW,
    };
  });

const weightOf = (list: readonly S[]) => list.reduce((n, s) => n + s.weight, 0);

describe('decideAdmission properties', () => {
  it('a grant never takes more seats than are free once the released ones are given back', () => {
    fc.assert(
      fc.property(admission, (a) => {
        const d = decideAdmission(a);
        if (d.kind !== 'grant') return;
        expect(a.license.seatsInUse - weightOf(d.release) + a.claimant.weight).toBeLessThanOrEqual(a.license.seats);
      }),
    );
  });

  it('releases only idle sessions past their deadline, each once, and only where they matter', () => {
    fc.assert(
      fc.property(admission, (a) => {
        const d = decideAdmission(a);
        const ids = d.release.map((s) => s.id);
        expect(new Set(ids).size).toBe(ids.length);
        for (const s of d.release) expect(isPastDeadline(s, a.now)).toBe(true);
        const ownStale = a.own !== undefined && isPastDeadline(a.own, a.now);
        const fitsWithout = a.license.seatsInUse + a.claimant.weight <= a.license.seats;
        if (d.release.length > 0) expect(ownStale || (!fitsWithout && d.kind !== 'resume')).toBe(true);
        if (a.license.status === 'suspended') expect(d.release).toEqual([]);
      }),
    );
  });

  it('no spurious refusal: a claim denied for seats would not fit even with every stale seat released', () => {
    fc.assert(
      fc.property(admission, (a) => {
        const d = decideAdmission(a);
        if (d.kind !== 'deny' || d.reason !== 'no_free_seats') return;
        const stale = [...(a.own ? [a.own] : []), ...a.stale].filter((s) => isPastDeadline(s, a.now));
        expect(a.license.seatsInUse - weightOf(stale) + a.claimant.weight).toBeGreaterThan(a.license.seats);
      }),
    );
  });

  it('the seat key\'s live session is resumed whenever the license is active, and only it', () => {
    fc.assert(
      fc.property(admission, (a) => {
        const d = decideAdmission(a);
        const live = a.own !== undefined && !isPastDeadline(a.own, a.now);
        expect(d.kind === 'resume').toBe(live && a.license.status === 'active');
        if (d.kind === 'resume') expect(d.session).toBe(a.own);
      }),
    );
  });

  it('suspension and cool-downs refuse with their own reasons', () => {
    fc.assert(
      fc.property(admission, (a) => {
        const d = decideAdmission(a);
        if (a.license.status === 'suspended') expect(d).toMatchObject({ kind: 'deny', reason: 'license_suspended' });
        else if (d.kind !== 'resume' && a.cooldownUntil !== null && a.cooldownUntil > a.now) expect(d).toMatchObject({ kind: 'deny', reason: 'kicked' });
        else if (d.kind === 'deny') expect(d.reason).toBe('no_free_seats');
      }),
    );
  });
});
