// The engine's admission on its own: a grant, a resume by seat key, and a denial past the seats.
import { describe, expect, it } from 'vitest';
import { engineWithLicense } from '../support/engine';

describe('admission', () => {
  it('grants, resumes by seat key, and denies past the seats with the license message', async () => {
    const { admit, events, lic } = await engineWithLicense({ seats: 2, seatKey: ['user'], deniedMessage: 'Full' });
    const a = await admit({ sub: 'amy', dev: 'x' });
    const a2 = await admit({ sub: 'amy', dev: 'y' });
    const b = await admit({ sub: 'bob' });
    const c = await admit({ sub: 'cy' });
    expect('granted' in a.result && a.result.granted).toMatchObject({ resumed: false, seatsInUse: 1, licenseId: lic.id });
    expect('granted' in a2.result && a2.result.granted).toMatchObject({ resumed: true, seatsInUse: 1 });
    expect('granted' in b.result && b.result.granted.seatsInUse).toBe(2);
    expect('denied' in c.result && c.result.denied).toEqual({ reason: 'no_free_seats', message: 'Full', seatsInUse: 2, seats: 2 });
    expect(events.map((e) => e.type)).toEqual(['license.changed', 'audit', 'session.started', 'session.resumed', 'session.started', 'denied']);
  });
});
