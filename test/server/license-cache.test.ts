// Tokens are verified against a license read at most once a second per license; the admission's
// transaction still decides, with the license as it is then.
import { describe, expect, it } from 'vitest';
import { SqliteSeatStore } from '../../server/store/sqlite-store';
import { granted, sign, startServer } from '../support/harness';

describe('the license tokens are verified against', () => {
  it('may be a second old, yet a seat key changed meanwhile (on another node) counts from the next connect', async () => {
    const store = SqliteSeatStore.open(':memory:');
    const { url, api } = await startServer({ store });
    const { license } = await api.setup({ seats: 5, seatKey: ['session'] });
    const a1 = await granted(url, await sign(license, { sid: 'a1', sub: 'amy' })); // the license is now cached
    // Its session ended (a seat key changes only while none is held), another node changes the
    // seat key: straight in the store, so this node's cache knows nothing.
    await store.endSession(a1.grant.sessionId, 'ended_by_app', Date.now());
    await store.updateLicense(license.id, { seatKey: ['user'] }, Date.now());
    const b1 = await granted(url, await sign(license, { sid: 'b1', sub: 'bob' }));
    const b2 = await granted(url, await sign(license, { sid: 'b2', sub: 'bob' }));
    // One seat per user now: bob's second tab resumes his first seat.
    expect(b2.grant).toMatchObject({ sessionId: b1.grant.sessionId, resumed: true, seatsInUse: 1 });
    const sessions = await store.listSessions(license.id);
    expect(sessions.map((s) => s.seatKeyValue)).toEqual(['["bob"]']);
  });
});
