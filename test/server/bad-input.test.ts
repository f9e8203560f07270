// Invariant 7: bad input gets a clear coded error and changes nothing; no crash, no leak.
import { SignJWT, UnsecuredJWT } from 'jose';
import { io } from 'socket.io-client';
import { describe, expect, it, onTestFinished } from 'vitest';
import { admission, connectAndAdmit, granted, nextEvent, sign, sleep, startServer } from '../support/harness';

async function refused(url: string, token: unknown) {
  const socket = io(url, { auth: { token } as any, transports: ['websocket'], reconnection: false, forceNew: true });
  onTestFinished(() => void socket.disconnect());
  return admission(socket as any);
}

describe('bad tokens', () => {
  it('each token failure gets its reason code, and no seat is taken', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1, seatKey: ['user', 'device'] });
    const key = new TextEncoder().encode(license.secret);
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[string, unknown, string]> = [
      ['no token', undefined, 'invalid_token'],
      ['not a string', 42, 'invalid_token'],
      ['not a JWT', 'hello', 'invalid_token'],
      ['bad signature', await sign({ ...license, secret: 'wrong' }, { sub: 'u', dev: 'd' }), 'invalid_token'],
      ['alg none', new UnsecuredJWT({ lic: license.id, sub: 'u', dev: 'd' }).setExpirationTime('5m').encode(), 'invalid_token'],
      ['HS512', await new SignJWT({ lic: license.id, sub: 'u', dev: 'd' }).setProtectedHeader({ alg: 'HS512' }).setExpirationTime('5m').sign(key), 'invalid_token'],
      ['expired', await sign(license, { sub: 'u', dev: 'd' }, { exp: now - 60 }), 'token_expired'],
      ['no exp', await new SignJWT({ lic: license.id, sub: 'u', dev: 'd' }).setProtectedHeader({ alg: 'HS256' }).sign(key), 'missing_claim'],
      ['no lic', await new SignJWT({ sub: 'u', dev: 'd' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(key), 'missing_claim'],
      ['no dev for a user+device license', await sign(license, { sub: 'u' }), 'missing_claim'],
      ['sub of the wrong type', await sign(license, { sub: 7, dev: 'd' }), 'invalid_token'],
      ['weight 0', await sign(license, { sub: 'u', dev: 'd', weight: 0 }), 'invalid_token'],
      ['weight 1.5', await sign(license, { sub: 'u', dev: 'd', weight: 1.5 }), 'invalid_token'],
      ['unknown license', await sign({ id: 'no-such-license', secret: license.secret }, { sub: 'u', dev: 'd' }), 'license_not_found'],
    ];
    for (const [why, token, reason] of cases) {
      const r = await refused(url, token);
      expect(r, why).toMatchObject({ kind: 'connect_error', message: reason, data: { reason } });
      expect(typeof (r as any).data.message, why).toBe('string');
    }
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(0);
    expect((await admin.ok('GET', `/licenses/${license.id}/denials`)).denials).toHaveLength(0);
    // Still serving.
    await granted(url, await sign(license, { sub: 'u', dev: 'd' }));
  });
});

describe('bad socket traffic', () => {
  it('unknown events and oversized payloads get errors or a disconnect, never a crash or lost seat', async () => {
    const { url, api } = await startServer({ config: { maxPayloadBytes: 4096 } });
    const { license, admin } = await api.setup({ seats: 2 });
    const a = await granted(url, await sign(license, { sid: 'a' }));
    const err = nextEvent(a.socket, 'seat:error');
    (a.socket as any).emit('steal:seat', { licenseId: 'other' });
    expect(await err).toMatchObject({ code: 'unknown_event' });
    // session:end without an ack function changes nothing visible but must not crash either.
    const b = await granted(url, await sign(license, { sid: 'b' }));
    (b.socket as any).emit('session:end', 'not-a-function');
    await sleep(200);

    const c = await granted(url, await sign(license, { sid: 'a' }));
    const closed = nextEvent(c.socket, 'disconnect');
    (c.socket as any).emit('x', 'y'.repeat(10_000));
    expect(await closed).toBeDefined();
    await sleep(200);
    // The oversized sender lost its socket, not the session's seat (a still holds it).
    const { sessions } = await admin.ok('GET', `/licenses/${license.id}/sessions`);
    expect(sessions.find((s: any) => s.sessionRef === 'a')).toMatchObject({ state: 'active', sockets: 1 });
    expect(a.socket.connected).toBe(true);
  });

  it('a flood of connects from one address is rate-limited with a code', async () => {
    const { url, api } = await startServer({ config: { connectRatePerSec: 5, connectBurst: 10 } });
    const { license, admin } = await api.setup({ seats: 100 });
    const tokens = await Promise.all(Array.from({ length: 30 }, (_, i) => sign(license, { sid: `s${i}` })));
    const results = await Promise.all(tokens.map((t) => connectAndAdmit(url, t)));
    const limited = results.filter((r) => r.result.kind === 'connect_error' && (r.result as any).data.reason === 'rate_limited');
    const grantedCount = results.filter((r) => r.result.kind === 'granted').length;
    expect(grantedCount).toBe(10);
    expect(limited).toHaveLength(20);
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(10);
  });
});

describe('bad REST input', () => {
  it('answers malformed, oversized, unauthorised and out-of-range requests with coded errors', async () => {
    const { api } = await startServer({ config: { maxPayloadBytes: 2048 } });
    const { license, admin } = await api.setup({ seats: 2 });
    const expectError = (r: { status: number; body: any }, status: number, code: string) => {
      expect(r.status).toBe(status);
      expect(r.body.error.code).toBe(code);
      expect(typeof r.body.error.message).toBe('string');
    };
    expectError(await api.as('').call('GET', '/licenses'), 401, 'unauthorized');
    expectError(await api.as('nope-nope-nope').call('GET', '/licenses'), 401, 'unauthorized');
    expectError(await admin.call('POST', '/licenses', '{"seats": 1,'), 400, 'bad_request');
    expectError(await admin.call('POST', '/licenses', { seats: 'many' }), 400, 'bad_request');
    expectError(await admin.call('POST', '/licenses', { seats: 1, extra: true }), 400, 'bad_request');
    expectError(await admin.call('POST', '/licenses', { seats: -1 }), 422, 'out_of_range');
    expectError(await admin.call('POST', '/licenses', { seats: 1, name: 'x'.repeat(5000) }), 413, 'payload_too_large');
    expectError(await admin.call('POST', '/licenses', { seats: 1, seatKey: ['session', 'session'] }), 400, 'bad_request');
    expectError(await admin.call('POST', '/licenses', { seats: 1, seatKey: ['galaxy'] }), 400, 'bad_request');
    expectError(await admin.call('PATCH', `/licenses/${license.id}`, {}), 400, 'bad_request');
    expectError(await admin.call('PATCH', `/licenses/${license.id}`, { status: 'deleted' }), 400, 'bad_request');
    expectError(await admin.call('GET', '/licenses/nope'), 404, 'not_found');
    expectError(await admin.call('DELETE', '/sessions/nope'), 404, 'not_found');
    expectError(await admin.call('POST', '/tenants', { name: 'x' }), 403, 'forbidden');
    expectError(await admin.call('GET', '/nowhere'), 404, 'not_found');
    expectError(await api.call('POST', '/licenses', { seats: 1, tenantId: 'no-such-tenant' }), 404, 'not_found');
    expectError(await admin.call('POST', '/licenses', { id: license.id, seats: 1 }), 409, 'conflict');
    expect(await admin.ok('GET', `/licenses/${license.id}`)).toMatchObject({ seats: 2, status: 'active', name: license.name });
  });
});
