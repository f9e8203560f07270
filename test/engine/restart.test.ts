// Invariant 6 in the engine: a node's next life finds its past connections stale; their sessions go idle and resume.
import { describe, expect, it, onTestFinished } from 'vitest';
import { parseConfig } from '../../server/config';
import { wireSeats } from '../../server/seat-server';
import { engineWithLicense } from '../support/engine';
import { sign } from '../support/harness';

describe('restart', () => {
  it('on start, releases connections of a previous life so their sessions go idle and can resume', async () => {
    const { parts, admit, store, lic } = await engineWithLicense({ seats: 1, idleTimeoutSec: 30 });
    const a = await admit({ sid: 'p' });
    if (!('granted' in a.result)) throw new Error('expected a grant');
    await parts.stop();
    // A second node life on the same store, as after a crash: the old connection row is stale.
    const next = wireSeats(store, parseConfig({}, { adminToken: 'operator-token-for-tests', logLevel: 'silent' }));
    await next.start();
    onTestFinished(() => next.stop());
    const [session] = await store.listSessions(lic.id);
    expect(session).toMatchObject({ id: a.result.granted.sessionId, state: 'idle', sockets: 0 });
    const verified = await next.auth.authenticate(await sign(lic, { sid: 'p' }));
    const resumed = await next.engine.admit(verified, 'new-socket');
    expect('granted' in resumed && resumed.granted).toMatchObject({ resumed: true, sessionId: a.result.granted.sessionId });
  });
});
