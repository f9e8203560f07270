// Seat keys (docs/contract.md section 2): the value connections of one seat share, from the claims.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SeatKey } from '../../shared';
import { missingClaimMessage, seatKeyValue } from '../../server/seats/decisions/seat-key';

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
