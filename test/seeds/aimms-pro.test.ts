// Seed: AIMMS PRO WebUI. One seat per portal session however many tabs; the same user in two
// browsers is two seats; "There are no free seats available"; a 5-minute idle hold (seconds here);
// an admin kick; the app's own logic ending its session.
import { describe, expect, it } from 'vitest';
import { admission, closeSocket, connect, connectAndAdmit, granted, nextEvent, sign, sleep, startServer } from '../support/harness';

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

  it('an admin kick frees the seat live and tells every tab', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1 });
    const token = await sign(license, { sid: 'portal-a' });
    const tabs = [await granted(url, token), await granted(url, token)];
    const ended = tabs.map((t) => nextEvent(t.socket, 'session:ended'));
    const disconnected = tabs.map((t) => nextEvent(t.socket, 'disconnect'));
    const reply = await admin.ok('DELETE', `/sessions/${tabs[0]!.grant.sessionId}`, { message: 'Freeing a seat for the night shift' });
    expect(reply).toMatchObject({ reason: 'kicked', seatsInUse: 0 });
    for (const e of await Promise.all(ended)) expect(e).toEqual({ reason: 'kicked', message: 'Freeing a seat for the night shift' });
    await Promise.all(disconnected);
    const next = await granted(url, await sign(license, { sid: 'portal-b' }));
    expect(next.grant.seatsInUse).toBe(1);
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(1);
  });

  it("the app's own logic ends its session and frees the seat at once", async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1 });
    const token = await sign(license, { sid: 'portal-a' });
    const a = await granted(url, token);
    const b = await granted(url, token);
    const endedOnB = nextEvent(b.socket, 'session:ended');
    const ack = await a.socket.timeout(5000).emitWithAck('session:end');
    expect(ack).toEqual({ ok: true });
    expect(await endedOnB).toMatchObject({ reason: 'ended_by_app' });
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(0);
    // Not a kick: the same portal session may take a seat again straight away.
    const again = await granted(url, token);
    expect(again.grant.resumed).toBe(false);
  });

  it('a kicked seat key is refused during the cool-down, then admitted', async () => {
    const { url, api } = await startServer({ config: { kickCooldownSec: 1 } });
    const { license, admin } = await api.setup({ seats: 3 });
    const token = await sign(license, { sid: 'portal-a' });
    const a = await granted(url, token);
    const ended = nextEvent(a.socket, 'session:ended');
    await admin.ok('DELETE', `/sessions/${a.grant.sessionId}`);
    expect(await ended).toMatchObject({ reason: 'kicked', message: 'Your session was ended by an administrator' });
    const refused = await connectAndAdmit(url, token);
    expect(refused.result).toMatchObject({ kind: 'denied', payload: { reason: 'kicked' } });
    await sleep(1100);
    const s = connect(url, token);
    expect((await admission(s)).kind).toBe('granted');
  });
});
