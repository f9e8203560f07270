// A license's seat key (CONTRACT section 2) changes only while it holds no session and nobody waits
// in its queue: a session's seat key value is its claims' values under the key it was granted by,
// and under another key they would match other claimants (a `sid` read as a `sub`: another user
// joining someone's session, or one user holding two seats). While any is held or waits, the PATCH
// and its preview are 409 `conflict`, saying what to end first, and nothing changes; once none is,
// the change goes, and the places kept for a reconnect and the kick cool-downs of the old key go
// with it.
import { io } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import { granted, nextEvent, sign, startServer } from '../support/harness';

describe('changing a license\'s seat key', () => {
  it('is refused (409, preview too) while a session is held, changing nothing; goes once none is, and counts by the new key', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 3, seatKey: ['session'], idleTimeoutSec: 2 });
    const alpha = await granted(url, await sign(license, { sid: 'alpha', sub: 'u1' }));

    for (const method of ['PATCH', 'POST'] as const) {
      const path = method === 'PATCH' ? `/licenses/${license.id}` : `/licenses/${license.id}/preview`;
      const refused = await admin.call(method, path, { seatKey: ['user'], name: 'renamed' });
      expect(refused).toMatchObject({ status: 409, body: { error: { code: 'conflict', message: expect.stringContaining('holds 1 session') } } });
      expect(refused.body.error.message).toContain('change its seat key');
    }
    expect(await admin.ok('GET', `/licenses/${license.id}`)).toMatchObject({ seatKey: ['session'], name: license.name, seatsInUse: 1 });
    // The same key again is no change, and other fields go.
    expect((await admin.call('PATCH', `/licenses/${license.id}`, { seatKey: ['session'], name: 'same key' })).status).toBe(200);

    // With the session ended (kicked) nothing is held: the change goes, and is audited.
    await admin.ok('DELETE', `/sessions/${alpha.grant.sessionId}`);
    expect(await admin.ok('POST', `/licenses/${license.id}/preview`, { seatKey: ['user'] })).toEqual({ wouldEnd: [] });
    expect(await admin.ok('PATCH', `/licenses/${license.id}`, { seatKey: ['user'] })).toMatchObject({ seatKey: ['user'] });
    expect((await admin.ok('GET', '/audit')).audit).toEqual(
      expect.arrayContaining([expect.objectContaining({ action: 'license.update', detail: expect.objectContaining({ seatKey: ['user'], before: expect.objectContaining({ seatKey: ['session'] }) }) })]),
    );
    // The kick's cool-down was a value of the old key (`["alpha"]`): a user named "alpha" is not refused by it.
    const named = await granted(url, await sign(license, { sid: 'gamma', sub: 'alpha' }));
    expect(named.grant).toMatchObject({ resumed: false, seatsInUse: 1 });
    // By the new key: the same user in another portal session shares the seat.
    const sameUser = await granted(url, await sign(license, { sid: 'delta', sub: 'alpha' }));
    expect(sameUser.grant).toMatchObject({ sessionId: named.grant.sessionId, resumed: true, seatsInUse: 1 });
    named.socket.disconnect();
    sameUser.socket.disconnect();
  });

  it('is refused while a client waits in the license\'s queue', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1, queue: true, seatKey: ['session'] });
    const holder = await granted(url, await sign(license, { sid: 'holder' }));
    const waiter = io(url, { auth: { token: await sign(license, { sid: 'waiter' }), queue: true }, transports: ['websocket'], reconnection: false, forceNew: true });
    expect(await nextEvent(waiter, 'seat:queued')).toEqual({ position: 1, queueLength: 1 });
    expect(await admin.call('PATCH', `/licenses/${license.id}`, { seatKey: ['instance'] })).toMatchObject({
      status: 409,
      body: { error: { code: 'conflict', message: expect.stringContaining('holds 1 session') } },
    });
    // Suspending ends the holder's session; the waiter still waits: still refused, now for the queue.
    const ended = nextEvent(holder.socket, 'session:ended');
    await admin.ok('PATCH', `/licenses/${license.id}`, { status: 'suspended' });
    expect(await ended).toMatchObject({ reason: 'license_suspended' });
    for (const method of ['PATCH', 'POST'] as const) {
      const path = method === 'PATCH' ? `/licenses/${license.id}` : `/licenses/${license.id}/preview`;
      expect(await admin.call(method, path, { seatKey: ['instance'] })).toMatchObject({
        status: 409,
        body: { error: { code: 'conflict', message: expect.stringContaining('wait in its queue') } },
      });
    }
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatKey).toEqual(['session']);
    waiter.disconnect();
  });
});
