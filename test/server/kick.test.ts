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
