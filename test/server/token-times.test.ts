// Client tokens' `iat` and `nbf` against the server's clock, with the TOKEN_CLOCK_SKEW_SEC leeway
// (default 60 s): a token issued in the future, or before its `nbf`, is refused with invalid_token.
import { SignJWT } from 'jose';
import { io } from 'socket.io-client';
import { describe, expect, it, onTestFinished } from 'vitest';
import { admission, type AppSocket, startServer } from '../support/harness';

/** A token with the given `iat`/`nbf` offsets (seconds from now; `undefined` leaves the claim out). */
function tokenAt(license: { id: string; secret: string }, sub: string, times: { iat?: number; nbf?: number }): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ lic: license.id, sub, dev: `dev-${sub}` }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(now + 600);
  if (times.iat !== undefined) jwt.setIssuedAt(now + times.iat);
  if (times.nbf !== undefined) jwt.setNotBefore(now + times.nbf);
  return jwt.sign(new TextEncoder().encode(license.secret));
}

async function outcome(url: string, token: string) {
  const socket = io(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true }) as AppSocket;
  onTestFinished(() => void socket.disconnect());
  return admission(socket);
}

describe('token times', () => {
  it('refuses a token issued beyond the leeway in the future, and one before its nbf; accepts both within the leeway', async () => {
    const { url, api } = await startServer();
    const { license } = await api.setup({ seats: 10, seatKey: ['user', 'device'] });

    const future = await outcome(url, await tokenAt(license, 'a', { iat: 300 }));
    expect(future).toMatchObject({ kind: 'connect_error', message: 'invalid_token', data: { reason: 'invalid_token' } });
    expect((future as { data: { message: string } }).data.message).toMatch(/issued in the future/);

    const early = await outcome(url, await tokenAt(license, 'b', { iat: 0, nbf: 300 }));
    expect(early).toMatchObject({ kind: 'connect_error', message: 'invalid_token', data: { reason: 'invalid_token' } });
    expect((early as { data: { message: string } }).data.message).toMatch(/not valid yet/);

    // A portal clock 30 s ahead of the server's is within the default 60 s leeway.
    expect((await outcome(url, await tokenAt(license, 'c', { iat: 30 }))).kind).toBe('granted');
    expect((await outcome(url, await tokenAt(license, 'd', { iat: 30, nbf: 30 }))).kind).toBe('granted');
    expect((await outcome(url, await tokenAt(license, 'e', { iat: -5, nbf: -5 }))).kind).toBe('granted');

    const badType = await outcome(url, await new SignJWT({ lic: license.id, sub: 'f', dev: 'f', iat: 'yesterday' as unknown as number })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(license.secret)));
    expect(badType).toMatchObject({ kind: 'connect_error', message: 'invalid_token' });
  });

  it('TOKEN_CLOCK_SKEW_SEC sets the leeway', async () => {
    const { url, api } = await startServer({ env: { TOKEN_CLOCK_SKEW_SEC: '5' } });
    const { license } = await api.setup({ seats: 10, seatKey: ['user', 'device'] });
    expect(await outcome(url, await tokenAt(license, 'a', { iat: 30 }))).toMatchObject({ kind: 'connect_error', message: 'invalid_token' });
    expect(await outcome(url, await tokenAt(license, 'b', { nbf: 30 }))).toMatchObject({ kind: 'connect_error', message: 'invalid_token' });
    expect((await outcome(url, await tokenAt(license, 'c', { iat: 3, nbf: 3 }))).kind).toBe('granted');
  });
});
