// Invariant 7, tokens: each token failure gets its reason code in connect_error, and no seat is taken.
import { SignJWT, UnsecuredJWT } from 'jose';
import { io } from 'socket.io-client';
import { describe, expect, it, onTestFinished } from 'vitest';
import { admission, granted, sign, startServer } from '../support/harness';

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
    // A token too long to be one says so, with its length (it still fits in the handshake).
    const long = await refused(url, `${await sign(license, { sub: 'u', dev: 'd' })}${'x'.repeat(9000)}`);
    expect(long).toMatchObject({ kind: 'connect_error', data: { reason: 'invalid_token', message: expect.stringMatching(/^the token is \d+ characters long; at most 8192 are read$/) } });
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(0);
    expect((await admin.ok('GET', `/licenses/${license.id}/denials`)).denials).toHaveLength(0);
    // Still serving.
    await granted(url, await sign(license, { sub: 'u', dev: 'd' }));
  });
});
