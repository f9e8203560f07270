// Invariant 4: after the last tab closes a seat is held for the idle timeout, resumes within it,
// and is released on time after it (AIMMS PRO's 5-minute hold, in seconds here).
import { describe, expect, it } from 'vitest';
import { closeSocket, connectAndAdmit, granted, sign, sleep, startServer } from '../support/harness';

describe('idle hold', () => {
  it('holds the seat for the idle timeout after the last tab closes, resumes within it, frees it after', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1, idleTimeoutSec: 2 });
    const token = await sign(license, { sid: 'portal-a' });
    const t1 = await granted(url, token);
    const t2 = await granted(url, token);
    await closeSocket(t1.socket);
    await closeSocket(t2.socket);
    await sleep(150);
    const { sessions } = await admin.ok('GET', `/licenses/${license.id}/sessions`);
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({ state: 'idle', sockets: 0 });
    expect(Date.parse(sessions[0].expiresAt) - Date.parse(sessions[0].idleSince)).toBe(2000);

    // Held: another portal session is refused while the seat is idle.
    const other = await connectAndAdmit(url, await sign(license, { sid: 'portal-b' }));
    expect(other.result.kind).toBe('denied');

    // Reopened within the timeout: the same session resumes.
    const back = await granted(url, token);
    expect(back.grant).toMatchObject({ resumed: true, sessionId: t1.grant.sessionId, seatsInUse: 1 });
    await closeSocket(back.socket);

    const idleAt = Date.now();
    while ((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse > 0) {
      if (Date.now() - idleAt > 5000) throw new Error('the idle seat was not released');
      await sleep(50);
    }
    const releasedAfter = Date.now() - idleAt;
    expect(releasedAfter).toBeGreaterThanOrEqual(1900);
    expect(releasedAfter).toBeLessThan(3200);
    const fresh = await granted(url, await sign(license, { sid: 'portal-b' }));
    expect(fresh.grant.resumed).toBe(false);
  });
});
