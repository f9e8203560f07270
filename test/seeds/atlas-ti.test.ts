// Seed: ATLAS.ti desktop, the acceptance index. One seat per user per device: a crash and restart
// on the same device resumes the seat; the same user on another computer takes another; two users
// on one terminal server take two: all here (the seat key's rule: test/seats/seat-key.test.ts;
// a whole-server restart: test/server/crash-restart.test.ts).
import { describe, expect, it } from 'vitest';
import { granted, sign, sleep, startServer } from '../support/harness';

describe('ATLAS.ti: one seat per user and device', () => {
  it('a crash and restart on the same device resumes the same seat', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 15, seatKey: ['user', 'device'], idleTimeoutSec: 30 });
    const first = await granted(url, await sign(license, { sub: 'ana', dev: 'laptop-1', app: 'ATLAS.ti for Windows' }));
    // A crash: the socket is gone without a goodbye (the process died).
    first.socket.io.engine.close();
    await sleep(200);
    const idle = (await admin.ok('GET', `/licenses/${license.id}/sessions`)).sessions;
    expect(idle).toMatchObject([{ state: 'idle', userId: 'ana', deviceId: 'laptop-1' }]);
    // A new instance on the same device, even with a fresh token and another session id.
    const restart = await granted(url, await sign(license, { sub: 'ana', dev: 'laptop-1', sid: 'new-run' }));
    expect(restart.grant).toMatchObject({ resumed: true, sessionId: first.grant.sessionId, seatsInUse: 1, seats: 15 });
  });

  it('the same user on another computer takes a second seat; two users on one device take two', async () => {
    const { url, api } = await startServer();
    const { license } = await api.setup({ seats: 15, seatKey: ['user', 'device'] });
    const a = await granted(url, await sign(license, { sub: 'ana', dev: 'laptop-1' }));
    const b = await granted(url, await sign(license, { sub: 'ana', dev: 'desktop-2' }));
    expect(b.grant).toMatchObject({ resumed: false, seatsInUse: 2 });
    expect(b.grant.sessionId).not.toBe(a.grant.sessionId);
    const c = await granted(url, await sign(license, { sub: 'ben', dev: 'terminal-server' }));
    const d = await granted(url, await sign(license, { sub: 'cleo', dev: 'terminal-server' }));
    expect(c.grant.resumed).toBe(false);
    expect(d.grant).toMatchObject({ resumed: false, seatsInUse: 4 });
  });
});
