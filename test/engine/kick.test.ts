// Kick in the engine: an admin ends a session, and its seat key cools down (a kick of no session is 404).
import { describe, expect, it } from 'vitest';
import { engineWithLicense, operator } from '../support/engine';

describe('kick', () => {
  it('kicks with a cool-down: the kicked seat key is refused with kicked', async () => {
    const { engine, admit } = await engineWithLicense({ seats: 3, seatCap: 5 });
    const a = await admit({ sid: 'a' });
    if (!('granted' in a.result)) throw new Error('expected a grant');
    await engine.kick(operator, a.result.granted.sessionId, 'sorry');
    const again = await admit({ sid: 'a' });
    expect('denied' in again.result && again.result.denied.reason).toBe('kicked');
  });

  it('a kick of a session that does not exist is not_found', async () => {
    const { engine } = await engineWithLicense();
    await expect(engine.kick(operator, 'no-such-session')).rejects.toMatchObject({ code: 'not_found' });
  });
});
