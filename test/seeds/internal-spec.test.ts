// Seed: the internal requirement specification, the acceptance index. What it asks for, and where
// it is tested:
// - an admin can log a user out so a waiting one gets in; the message "No available licenses,
//   please contact IT": here (kicks in general: test/server/kick.test.ts)
// - an idle timeout settable within 5-60 minutes: test/server/idle-timeout-bounds.test.ts
// - every "no licence available" recorded with its time and kept on a rolling sixty days:
//   test/server/denial-log.test.ts
// - "after a period of inactivity, the license will become available to others", seamless for the
//   user, and the message when they come back to no free licence: here, test/server/inactivity.test.ts,
//   test/client/inactivity.test.ts, test/cluster/inactivity.test.ts
import { SeatClient } from '../../client/sdk';
import { describe, expect, it, onTestFinished } from 'vitest';
import { connectAndAdmit, granted, nextEvent, sign, startServer, until } from '../support/harness';

describe('Internal specification: logout, message', () => {

  it('an admin logs a user out so a waiting user gets in, and the custom message reaches the client', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1, deniedMessage: 'No available licenses, please contact IT' });
    const holder = await granted(url, await sign(license, { sid: 's-day', sub: 'dana' }));
    const waiting = await connectAndAdmit(url, await sign(license, { sid: 's-night', sub: 'nico' }));
    expect(waiting.result).toMatchObject({
      kind: 'denied',
      payload: { reason: 'no_free_seats', message: 'No available licenses, please contact IT' },
    });
    const ended = nextEvent(holder.socket, 'session:ended');
    await admin.ok('DELETE', `/sessions/${holder.grant.sessionId}`);
    expect(await ended).toMatchObject({ reason: 'kicked' });
    await granted(url, await sign(license, { sid: 's-night', sub: 'nico' }));
    const audit = await admin.ok('GET', '/audit');
    expect(audit.audit.map((a: any) => a.action)).toContain('session.kick');
  });

  it('an inactive user loses the licence to a colleague, and coming back sees the message', async () => {
    const { url, api } = await startServer();
    const { license } = await api.setup({ seats: 1, inactivityTimeoutSec: 2, inactivityWarningSec: 1, deniedMessage: 'No available licenses, please contact IT' });
    const dana = new SeatClient({ url, token: await sign(license, { sid: 's-day', sub: 'dana' }) });
    onTestFinished(() => dana.close());
    await until(() => dana.state === 'granted');
    await until(() => dana.state === 'ended', 6000);
    expect(dana.ended?.reason).toBe('inactive');
    await granted(url, await sign(license, { sid: 's-night', sub: 'nico' }));
    dana.activity();
    await until(() => dana.state === 'denied');
    expect(dana.denial?.message).toBe('No available licenses, please contact IT');
  });
});
