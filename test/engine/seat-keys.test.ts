// The five seat keys (docs/contract.md section 2) through the engine: claimants that agree on every
// part of the license's seat key share one seat (the later one resumes the session); a claimant
// that differs from them in any single part takes a seat of its own.
import { describe, expect, it } from 'vitest';
import type { SeatKey } from '../../shared';
import { engineWithLicense } from '../support/engine';

/** The token claim that carries each seat-key part. */
const CLAIM = { session: 'sid', user: 'sub', device: 'dev', instance: 'ins' } as const;
const BASE = { sid: 'portal-1', sub: 'amy', dev: 'laptop', ins: 'tab-1' };

describe('seat keys', () => {
  it.each<[SeatKey]>([[['session']], [['user', 'device']], [['instance']], [['device']], [['user']]])('%j: one seat when the key agrees, another when it differs', async (seatKey) => {
    const { admit, store, lic } = await engineWithLicense({ seats: 10, seatKey });
    const inKey = new Set<string>(seatKey.map((part) => CLAIM[part]));
    // Agrees on every part of the seat key, differs in every other claim.
    const sharer = Object.fromEntries(Object.entries(BASE).map(([claim, v]) => [claim, inKey.has(claim) ? v : `${v}-other`]));
    // One claimant per part of the seat key, each differing from BASE in that part alone.
    const strangers = seatKey.map((part) => ({ ...BASE, [CLAIM[part]]: `${BASE[CLAIM[part]]}-other` }));

    const first = await admit(BASE);
    const same = await admit(sharer);
    if (!('granted' in first.result) || !('granted' in same.result)) throw new Error(`expected grants: ${JSON.stringify([first.result, same.result])}`);
    expect(first.result.granted).toMatchObject({ resumed: false, seatsInUse: 1 });
    expect(same.result.granted).toMatchObject({ resumed: true, sessionId: first.result.granted.sessionId, seatsInUse: 1 });

    const ids = new Set([first.result.granted.sessionId]);
    for (const [i, claims] of strangers.entries()) {
      const other = await admit(claims);
      expect('granted' in other.result && other.result.granted, JSON.stringify(claims)).toMatchObject({ resumed: false, seatsInUse: 2 + i });
      if ('granted' in other.result) ids.add(other.result.granted.sessionId);
    }
    expect(ids.size).toBe(1 + strangers.length);
    expect((await store.listSessions(lic.id)).map((s) => s.sockets).sort()).toEqual([2, ...strangers.map(() => 1)].sort());
    expect((await store.getLicense(lic.id))?.seatsInUse).toBe(1 + strangers.length);
  });
});
