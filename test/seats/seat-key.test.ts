// Seat keys (docs/contract.md section 2): the value connections of one seat share, from the claims.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SeatKey } from '../../shared';
import { missingClaimMessage, rekeyedValues, seatKeyValue } from '../../server/seats/decisions/seat-key';

const claims = { sessionRef: 'p1', userId: 'amy', deviceId: 'laptop', instanceId: 'tab-3' };

describe('seatKeyValue', () => {
  it.each<[SeatKey, Partial<typeof claims>, ReturnType<typeof seatKeyValue>]>([
    [['session'], claims, { value: '["p1"]' }],
    [['user', 'device'], claims, { value: '["amy","laptop"]' }],
    [['device', 'user'], claims, { value: '["laptop","amy"]' }],
    [['instance'], claims, { value: '["tab-3"]' }],
    [['user'], { ...claims, deviceId: undefined }, { value: '["amy"]' }],
    [['user', 'device'], { ...claims, deviceId: undefined }, { missing: 'device', claim: 'dev' }],
    [['session'], { userId: 'amy' }, { missing: 'session', claim: 'sid' }],
    [['instance', 'user'], {}, { missing: 'instance', claim: 'ins' }],
  ])('%j of %j', (seatKey, given, expected) => {
    const claimant = { sessionRef: null, userId: null, deviceId: null, instanceId: null, ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) };
    expect(seatKeyValue(seatKey, claimant)).toEqual(expected);
  });

  it('names the claim a refused token lacks', () => {
    expect(missingClaimMessage({ missing: 'device', claim: 'dev' })).toBe('this license counts seats by device: the token needs a "dev" claim');
  });

  it('two claimants share a seat exactly when they agree on every part of the seat key', () => {
    const id = fc.option(fc.constantFrom('a', 'b', '"', ',', '["a"]'), { nil: null });
    const claimant = fc.record({ sessionRef: id, userId: id, deviceId: id, instanceId: id });
    const seatKey = fc.uniqueArray(fc.constantFrom('session', 'user', 'device', 'instance') as fc.Arbitrary<SeatKey[number]>, { minLength: 1, maxLength: 4 });
    const field = { session: 'sessionRef', user: 'userId', device: 'deviceId', instance: 'instanceId' } as const;
    fc.assert(
      fc.property(seatKey, claimant, claimant, (key, x, y) => {
        const a = seatKeyValue(key, x);
        const b = seatKeyValue(key, y);
        if (!('value' in a) || !('value' in b)) return;
        expect(a.value === b.value).toBe(key.every((part) => x[field[part]] === y[field[part]]));
      }),
    );
  });
});

describe('rekeyedValues', () => {
  const session = (id: string, claims: { sessionRef?: string; userId?: string; deviceId?: string }) => ({
    id,
    sessionRef: claims.sessionRef ?? null,
    userId: claims.userId ?? null,
    deviceId: claims.deviceId ?? null,
    instanceId: null,
  });

  it('gives each session its claims\' value under the new key; the oldest of one value keeps it, one lacking a claim is left out', () => {
    const oldestFirst = [session('s1', { sessionRef: 'alpha', userId: 'amy' }), session('s2', { sessionRef: 'beta', userId: 'amy' }), session('s3', { sessionRef: 'gamma' }), session('s4', { sessionRef: 'amy', userId: 'bob' })];
    expect(rekeyedValues(['user'], oldestFirst)).toEqual(new Map([['s1', '["amy"]'], ['s4', '["bob"]']]));
    expect(rekeyedValues(['session'], oldestFirst)).toEqual(new Map([['s1', '["alpha"]'], ['s2', '["beta"]'], ['s3', '["gamma"]'], ['s4', '["amy"]']]));
  });

  it('never gives two sessions one value, and gives each the value a claimant with its claims would have', () => {
    const id = fc.constantFrom('a', 'b', 'c');
    const claims = fc.record({ sessionRef: fc.option(id, { nil: undefined }), userId: fc.option(id, { nil: undefined }), deviceId: fc.option(id, { nil: undefined }) });
    const key = fc.subarray(['session', 'user', 'device'] as const, { minLength: 1 });
    fc.assert(
      fc.property(fc.array(claims, { maxLength: 8 }), key, (all, seatKey) => {
        const sessions = all.map((c, i) => session(`s${i}`, c));
        const values = rekeyedValues(seatKey as SeatKey, sessions);
        expect(new Set(values.values()).size).toBe(values.size);
        for (const [sid, value] of values) expect(seatKeyValue(seatKey as SeatKey, sessions.find((s) => s.id === sid)!)).toEqual({ value });
        // Left out only for a missing claim or a value an older session took.
        for (const [i, s] of sessions.entries()) {
          if (values.has(s.id)) continue;
          const v = seatKeyValue(seatKey as SeatKey, s);
          if ('value' in v) expect(sessions.slice(0, i).some((o) => values.get(o.id) === v.value)).toBe(true);
        }
      }),
    );
  });
});
