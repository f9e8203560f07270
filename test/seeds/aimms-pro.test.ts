// Seed: AIMMS PRO WebUI, the acceptance index. What the seed asks for, and where it is tested:
// - one seat per portal session however many tabs; the same user in two browsers is two seats;
//   "There are no free seats available": here
// - a 5-minute idle hold (seconds here): test/server/idle-hold.test.ts
// - an admin kick, and the kicked seat key's cool-down: test/server/kick.test.ts
// - the app's own logic ending its session: test/server/app-end.test.ts
import { describe, expect, it } from 'vitest';
import { connectAndAdmit, granted, sign, sleep, startServer } from '../support/harness';

describe('AIMMS PRO: one seat per portal session', () => {
  it('counts tabs of one portal session as one seat and a second browser as another', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 2 });
    const alice1 = await sign(license, { sid: 'portal-a', sub: 'alice', name: 'Alice' });
    const tab1 = await granted(url, alice1);
    const tab2 = await granted(url, alice1);
    const tab3 = await granted(url, await sign(license, { sid: 'portal-a', sub: 'alice', app: 'Planner' }));
    expect(tab1.grant).toMatchObject({ resumed: false, seatsInUse: 1, seats: 2, licenseId: license.id });
    expect(tab2.grant).toMatchObject({ resumed: true, sessionId: tab1.grant.sessionId, seatsInUse: 1 });
    expect(tab3.grant.sessionId).toBe(tab1.grant.sessionId);

    // Same user, another browser: another portal session, another seat.
    const otherBrowser = await granted(url, await sign(license, { sid: 'portal-b', sub: 'alice' }));
    expect(otherBrowser.grant).toMatchObject({ resumed: false, seatsInUse: 2 });

    const denied = await connectAndAdmit(url, await sign(license, { sid: 'portal-c', sub: 'carol' }));
    expect(denied.result).toEqual({
      kind: 'denied',
      payload: { reason: 'no_free_seats', message: 'There are no free seats available', seatsInUse: 2, seats: 2 },
    });
    await sleep(50);
    expect(denied.socket.connected).toBe(false);

    const { sessions } = await admin.ok('GET', `/licenses/${license.id}/sessions`);
    const a = sessions.find((s: any) => s.sessionRef === 'portal-a');
    expect(a).toMatchObject({ state: 'active', sockets: 3, userId: 'alice', name: 'Alice', weight: 1, idleSince: null, expiresAt: null });
    expect(a.apps).toContain('Planner');
    expect(sessions).toHaveLength(2);
  });
});
