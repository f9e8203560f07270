// A license's seat key (CONTRACT section 2) may change while it is in use: its live sessions and
// waiting clients take the new key, so a session's claims under the new key resume it and nobody
// else's do. A session's seat key value is its claims' values under the key it was granted by;
// kept as they were, they would match other claimants under the new key (a `sid` read as a `sub`:
// another user joining someone's session) and miss their own (one user taking two seats). A session
// that cannot take the new key (it lacks the claim, or an older session of the same claimant took
// the value) keeps its seat until it ends, joined by nobody. Kick cool-downs of the old key go.
import { io } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import { granted, nextEvent, sign, startServer } from '../support/harness';

describe('changing a license\'s seat key', () => {
  it('re-keys the live sessions: the same user resumes, another whose id was an old value does not join', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 4, seatKey: ['session'], idleTimeoutSec: 60 });
    const alpha = await granted(url, await sign(license, { sid: 'alpha', sub: 'u1' }));
    const kicked = await granted(url, await sign(license, { sid: 'k1', sub: 'u2' }));
    await admin.ok('DELETE', `/sessions/${kicked.grant.sessionId}`);

    expect(await admin.ok('POST', `/licenses/${license.id}/preview`, { seatKey: ['user'] })).toEqual({ wouldEnd: [] });
    expect(await admin.ok('PATCH', `/licenses/${license.id}`, { seatKey: ['user'] })).toMatchObject({ seatKey: ['user'], seatsInUse: 1 });

    // u1 in another portal session: the same seat under the new key.
    const beta = await granted(url, await sign(license, { sid: 'beta', sub: 'u1' }));
    expect(beta.grant).toMatchObject({ sessionId: alpha.grant.sessionId, resumed: true, seatsInUse: 1 });
    // A user named "alpha" (the old session's value) gets a seat of its own.
    const mallory = await granted(url, await sign(license, { sid: 'gamma', sub: 'alpha', name: 'Mallory' }));
    expect(mallory.grant).toMatchObject({ resumed: false, seatsInUse: 2 });
    expect(mallory.grant.sessionId).not.toBe(alpha.grant.sessionId);
    // The kick's cool-down was a value of the old key (`["k1"]`): the user "k1" is not refused by it.
    const k1 = await granted(url, await sign(license, { sid: 'other', sub: 'k1' }));
    expect(k1.grant).toMatchObject({ resumed: false, seatsInUse: 3 });

    const sessions = (await admin.ok('GET', `/licenses/${license.id}/sessions`)).sessions;
    expect(sessions.find((s: { id: string }) => s.id === alpha.grant.sessionId)).toMatchObject({ userId: 'u1', sockets: 2 });
    for (const s of [alpha, beta, mallory, k1]) s.socket.disconnect();
  });

  it('a session that cannot take the new key keeps its seat until it ends, and nobody joins it', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 2, seatKey: ['session'], idleTimeoutSec: 60 });
    const anon = await granted(url, await sign(license, { sid: 'no-device' }));
    await admin.ok('PATCH', `/licenses/${license.id}`, { seatKey: ['device'] });
    // Its tab stays, holding its seat; a token without `dev` is refused; a device takes the other seat.
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(1);
    const refused = io(url, { auth: { token: await sign(license, { sid: 'no-device' }) }, transports: ['websocket'], reconnection: false, forceNew: true });
    expect(await nextEvent(refused, 'connect_error')).toMatchObject({ message: 'missing_claim' });
    const device = await granted(url, await sign(license, { sid: 'x', dev: 'no-device' }));
    expect(device.grant).toMatchObject({ resumed: false, seatsInUse: 2 });
    // Ended, its seat is free.
    const ended = nextEvent(anon.socket, 'session:ended');
    await admin.ok('DELETE', `/sessions/${anon.grant.sessionId}`);
    expect(await ended).toMatchObject({ reason: 'kicked' });
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(1);
    device.socket.disconnect();
    refused.close();
  });

  it('re-keys the clients waiting in its queue: the head is still granted the next free seat', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1, queue: true, seatKey: ['session'] });
    const holder = await granted(url, await sign(license, { sid: 'holder', sub: 'h' }));
    const waiter = io(url, { auth: { token: await sign(license, { sid: 'waiter', sub: 'w' }), queue: true }, transports: ['websocket'], reconnection: false, forceNew: true });
    expect(await nextEvent(waiter, 'seat:queued')).toEqual({ position: 1, queueLength: 1 });
    await admin.ok('PATCH', `/licenses/${license.id}`, { seatKey: ['user'] });
    const grant = nextEvent(waiter, 'seat:granted');
    await admin.ok('DELETE', `/sessions/${holder.grant.sessionId}`);
    expect(await grant).toMatchObject({ resumed: false, seatsInUse: 1 });
    const sessions = (await admin.ok('GET', `/licenses/${license.id}/sessions`)).sessions;
    expect(sessions).toMatchObject([{ userId: 'w', sessionRef: 'waiter' }]);
    // Under the new key, the same user in another portal session shares that seat.
    const again = await granted(url, await sign(license, { sid: 'elsewhere', sub: 'w' }));
    expect(again.grant).toMatchObject({ resumed: true, seatsInUse: 1 });
    waiter.disconnect();
    again.socket.disconnect();
  });
});
