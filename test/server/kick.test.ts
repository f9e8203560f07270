// Kick: an admin ends a session (DELETE /sessions/:id); every tab is told, the seat is free at
// once, and the kicked seat key is refused for KICK_COOLDOWN_SEC (AIMMS PRO).
import { describe, expect, it } from 'vitest';
import { admission, connect, connectAndAdmit, granted, nextEvent, sign, sleep, startServer } from '../support/harness';

describe('kick', () => {
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

  it("the operator's kick (no read of the license first) and a tenant admin's: audited as theirs; a session no longer live is 404 to both and changes nothing", async () => {
    const { url, api } = await startServer();
    const { license, admin, tenant } = await api.setup({ seats: 3 });
    const a = await granted(url, await sign(license, { sid: 'portal-a' }));
    const b = await granted(url, await sign(license, { sid: 'portal-b' }));
    const keep = await granted(url, await sign(license, { sid: 'portal-c' }));
    expect(await api.ok('DELETE', `/sessions/${a.grant.sessionId}`)).toMatchObject({ reason: 'kicked', seatsInUse: 2 });
    expect(await admin.ok('DELETE', `/sessions/${b.grant.sessionId}`)).toMatchObject({ reason: 'kicked', seatsInUse: 1 });
    for (const who of [api, admin]) {
      for (const id of [a.grant.sessionId, b.grant.sessionId, '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b']) {
        const r = await who.call('DELETE', `/sessions/${id}`);
        expect(r.status).toBe(404);
        expect(r.body.error).toMatchObject({ code: 'not_found', message: `no live session "${id}"` });
      }
    }
    expect((await api.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(1);
    expect(keep.socket.connected).toBe(true);
    const kicks = (await api.ok('GET', '/audit')).audit.filter((e: any) => e.action === 'session.kick');
    expect(kicks.map((e: any) => [e.detail.sessionId, e.actor])).toEqual(
      expect.arrayContaining([
        [a.grant.sessionId, 'operator'],
        [b.grant.sessionId, `tenant-admin:${tenant.name}`],
      ]),
    );
    expect(kicks).toHaveLength(2);
  });

  it('a kicked seat key is refused during the cool-down, then admitted', async () => {
    const { url, api } = await startServer({ config: { kickCooldownSec: 2 } });
    const { license, admin } = await api.setup({ seats: 3 });
    const token = await sign(license, { sid: 'portal-a' });
    const a = await granted(url, token);
    const ended = nextEvent(a.socket, 'session:ended');
    await admin.ok('DELETE', `/sessions/${a.grant.sessionId}`);
    expect(await ended).toMatchObject({ reason: 'kicked', message: 'Your session was ended by an administrator' });
    const refused = await connectAndAdmit(url, token);
    // The denial says when the seat key may come back (the demo shows "try again in N s").
    expect(refused.result).toMatchObject({ kind: 'denied', payload: { reason: 'kicked', retryAfterSec: 2 } });
    // A full license's denial carries no such time.
    await admin.ok('PATCH', `/licenses/${license.id}`, { seats: 0 });
    expect((await connectAndAdmit(url, await sign(license, { sid: 'other' }))).result).not.toHaveProperty('payload.retryAfterSec');
    await admin.ok('PATCH', `/licenses/${license.id}`, { seats: 3 });
    await sleep(2100);
    const s = connect(url, token);
    expect((await admission(s)).kind).toBe('granted');
  });
});
