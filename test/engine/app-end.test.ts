// The app ends its own session in the engine: the seat is free at once, with no cool-down.
import { describe, expect, it } from 'vitest';
import { engineWithLicense } from '../support/engine';

describe('app end', () => {
  it('ends by app without a cool-down: the same seat key is admitted again', async () => {
    const { engine, admit } = await engineWithLicense({ seats: 3, seatCap: 5 });
    const b = await admit({ sid: 'b' });
    if (!('granted' in b.result)) throw new Error('expected a grant');
    await engine.endSession(b.result.granted.sessionId);
    const back = await admit({ sid: 'b' });
    expect('granted' in back.result).toBe(true);
  });
});
