// Offline grace (CONTRACT 8.1 offlineGraceSec, 8.2 seat:receipt, 8.5): a grant carries a receipt
// signed with EdDSA that verifies against GET /.well-known/jwks.json, fresh ones arrive every
// grace / 2, the seat is held until the newest one expires, and the operator rotates the key.
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type AppSocket, closeSocket, connectAndAdmit, granted, sign, sleep, startServer, until } from '../support/harness';
import { acquire, renew, shortLeases } from './leases-support';

async function jwks(url: string) {
  const res = await fetch(`${url}/.well-known/jwks.json`);
  expect(res.status).toBe(200);
  return { body: (await res.json()) as { keys: Array<Record<string, string>> }, cacheControl: res.headers.get('cache-control'), cors: res.headers.get('access-control-allow-origin') };
}

/** Verifies a receipt the way an app does offline: against the published keys only. */
async function verify(url: string, receipt: string): Promise<JWTPayload> {
  const { body } = await jwks(url);
  return (await jwtVerify(receipt, createLocalJWKSet(body as never), { algorithms: ['EdDSA'] })).payload;
}

function receipts(socket: AppSocket): string[] {
  const seen: string[] = [];
  socket.on('seat:receipt', ({ receipt }) => seen.push(receipt));
  return seen;
}

describe('offline grace', () => {
  it('a grant carries a receipt that verifies against the published keys, with the claimant and the hold in its claims', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 2, seatKey: ['user', 'device'], idleTimeoutSec: 1, offlineGraceSec: 30 });
    const { grant } = await granted(url, await sign(license, { sub: 'alice', dev: 'pc-1', ins: 'tab-1' }));
    expect(typeof grant.receipt).toBe('string');

    const { body, cacheControl, cors } = await jwks(url);
    expect(body.keys).toHaveLength(1);
    expect(body.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: expect.any(String), x: expect.any(String) });
    expect(body.keys[0]).not.toHaveProperty('d');
    expect(cacheControl).toMatch(/max-age=\d+/);
    expect(cors).toBe('*');

    const claims = await verify(url, grant.receipt!);
    expect(claims).toMatchObject({ lic: license.id, sid: grant.sessionId, sub: 'alice', dev: 'pc-1', ins: 'tab-1' });
    expect(claims.exp! - claims.iat!).toBe(30);
    expect(decodeProtectedHeader(grant.receipt!)).toMatchObject({ alg: 'EdDSA', kid: body.keys[0]!.kid });
    // Never later than the hold on record.
    const [session] = (await admin.ok('GET', `/licenses/${license.id}/sessions`)).sessions;
    expect(claims.exp! * 1000).toBeLessThanOrEqual(Date.parse(session.receiptUntil));
    expect(Date.parse(session.receiptUntil) - claims.exp! * 1000).toBeLessThan(1000);

    // Not a receipt of this server: another key, or a changed claim, does not verify.
    const [header, , signature] = grant.receipt!.split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, lic: 'other' })).toString('base64url')}.${signature}`;
    await expect(verify(url, forged)).rejects.toThrow(/signature verification failed/);
  });

  it('holds the seat past the idle timeout until the receipt expires: a newcomer is denied meanwhile, then the seat is free', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1, idleTimeoutSec: 1, offlineGraceSec: 3 });
    const first = await granted(url, await sign(license, { sid: 'offline-pos' }));
    const { exp } = await verify(url, first.grant.receipt!);
    await closeSocket(first.socket);
    await sleep(1600);

    // Past the idle timeout: still held, idle until the receipt's expiry.
    const { sessions } = await admin.ok('GET', `/licenses/${license.id}/sessions`);
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({ state: 'idle', id: first.grant.sessionId });
    expect(Date.parse(sessions[0].expiresAt)).toBe(Date.parse(sessions[0].receiptUntil));
    expect(Math.floor(Date.parse(sessions[0].expiresAt) / 1000)).toBe(exp);
    const newcomer = await connectAndAdmit(url, await sign(license, { sid: 'someone-else' }));
    expect(newcomer.result).toMatchObject({ kind: 'denied', payload: { reason: 'no_free_seats' } });

    // Released once the receipt has expired (the sweep runs every 200 ms here).
    await until(async () => (await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse === 0, 5000);
    expect(Date.now()).toBeGreaterThanOrEqual(exp! * 1000);
    const later = await granted(url, await sign(license, { sid: 'someone-else' }));
    expect(later.grant.resumed).toBe(false);
  });

  it('sends a fresh receipt every grace / 2 while the seat is held, each moving the hold on', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1, idleTimeoutSec: 1, offlineGraceSec: 2 });
    const token = await sign(license, { sid: 'renewing' });
    const { socket, grant } = await granted(url, token);
    // Another tab of the session hears each fresh receipt too, until it closes.
    const tab = await granted(url, token);
    const tabReceipts = receipts(tab.socket);
    const { body } = await jwks(url);
    const keys = createLocalJWKSet(body as never);
    // Each verified as it arrives (with a 2 s grace, the first has expired by the third).
    const claims: Array<Promise<JWTPayload>> = [];
    socket.on('seat:receipt', ({ receipt }) => claims.push(jwtVerify(receipt, keys).then((v) => v.payload)));
    const start = Date.now();
    await until(() => claims.length >= 3, 5000, 20);
    // 1 s apart: three within about 3 s of the grant.
    expect(Date.now() - start).toBeLessThan(3600);
    const exps: number[] = [];
    for (const c of await Promise.all(claims)) {
      expect(c).toMatchObject({ lic: license.id, sid: grant.sessionId });
      expect(c.exp! - c.iat!).toBe(2);
      exps.push(c.exp!);
    }
    expect(exps[2]).toBeGreaterThan(exps[0]!);
    expect(tabReceipts.length).toBeGreaterThanOrEqual(2);
    await closeSocket(tab.socket);
    // Connected for longer than the grant's own receipt: the hold on record followed the renewals.
    const [session] = (await admin.ok('GET', `/licenses/${license.id}/sessions`)).sessions;
    expect(Date.parse(session.receiptUntil)).toBeGreaterThanOrEqual(exps.at(-1)! * 1000);

    // Closed: held until the newest receipt's expiry, not the first one's.
    await closeSocket(socket);
    await sleep(150);
    const newest = Math.max(...(await Promise.all(claims)).map((c) => c.exp!));
    const [idle] = (await admin.ok('GET', `/licenses/${license.id}/sessions`)).sessions;
    expect(idle.state).toBe('idle');
    expect(Date.parse(idle.expiresAt)).toBeGreaterThanOrEqual(newest * 1000);
    // Nothing renews it once the socket is gone: the hold stays where the last receipt left it.
    await sleep(1300);
    const [still] = (await admin.ok('GET', `/licenses/${license.id}/sessions`)).sessions;
    expect(still).toMatchObject({ receiptUntil: idle.receiptUntil, expiresAt: idle.expiresAt });
  });

  it('without offline grace: no receipt, and the idle timeout alone holds the seat', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1, idleTimeoutSec: 1 });
    expect(license.offlineGraceSec).toBe(0);
    const { socket, grant } = await granted(url, await sign(license, { sid: 'no-grace' }));
    expect(grant).not.toHaveProperty('receipt');
    const seen = receipts(socket);
    await sleep(1200);
    await closeSocket(socket);
    const [idle] = (await admin.ok('GET', `/licenses/${license.id}/sessions`)).sessions;
    expect(idle.receiptUntil).toBeNull();
    expect(Date.parse(idle.expiresAt) - Date.parse(idle.idleSince)).toBe(1000);
    await until(async () => (await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse === 0, 3000);
    expect(seen).toEqual([]);
  });

  it('an admin action ends a held seat at once, whatever its receipt says', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1, idleTimeoutSec: 1, offlineGraceSec: 600 });
    const first = await granted(url, await sign(license, { sid: 'held' }));
    await closeSocket(first.socket);
    await sleep(100);
    expect((await admin.call('DELETE', `/sessions/${first.grant.sessionId}`)).status).toBe(200);
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(0);
    expect((await granted(url, await sign(license, { sid: 'next' }))).grant.resumed).toBe(false);
  });

  it('the operator rotates the signing key: the new kid signs, receipts signed before still verify', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 3, offlineGraceSec: 60 });
    const before = await granted(url, await sign(license, { sid: 'before' }));
    const oldKid = decodeProtectedHeader(before.grant.receipt!).kid;

    // Only the operator, with a token, and no fields.
    expect((await admin.call('POST', '/receipt-keys')).status).toBe(403);
    expect((await api.as('not-a-token-at-all-0123').call('POST', '/receipt-keys')).status).toBe(401);
    const bad = await api.call('POST', '/receipt-keys', { kid: 'mine' });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'bad_request' } } });
    expect((await api.call('GET', '/receipt-keys')).body.keys).toHaveLength(1);
    expect((await api.call('PUT', '/receipt-keys')).status).toBe(405);

    const rotated = await api.call<{ kid: string }>('POST', '/receipt-keys');
    expect(rotated.status).toBe(201);
    expect(rotated.body.kid).not.toBe(oldKid);
    const { body } = await jwks(url);
    expect(body.keys.map((k) => k.kid)).toEqual([oldKid, rotated.body.kid]);
    const listed = (await api.ok('GET', '/receipt-keys')).keys;
    expect(listed.map((k: { kid: string; current: boolean }) => [k.kid, k.current])).toEqual([
      [oldKid, false],
      [rotated.body.kid, true],
    ]);

    const after = await granted(url, await sign(license, { sid: 'after' }));
    expect(decodeProtectedHeader(after.grant.receipt!).kid).toBe(rotated.body.kid);
    expect((await verify(url, after.grant.receipt!)).sid).toBe(after.grant.sessionId);
    expect((await verify(url, before.grant.receipt!)).sid).toBe(before.grant.sessionId);
    // Audited as the operator's.
    const { audit } = await api.ok('GET', '/audit');
    expect(audit[0]).toMatchObject({ action: 'receipt-key.rotate', actor: 'operator', detail: { kid: rotated.body.kid } });
  });

  it('HTTP leases: a lease and each renewal carry a receipt for the hold they move on; a lapsed lease is held by it', async () => {
    const { url, api, server } = await startServer();
    const { license, admin } = await api.setup({ seats: 1, seatKey: ['device'], idleTimeoutSec: 1, offlineGraceSec: 4 });
    await shortLeases(server, license.id, 1);
    const token = await sign(license, { sub: 'kiosk-user', dev: 'kiosk-1' });
    const lease = await acquire(url, token);
    expect(lease.status).toBe(201);
    const first = await verify(url, lease.body.receipt);
    expect(first).toMatchObject({ lic: license.id, sid: lease.body.sessionId, sub: 'kiosk-user', dev: 'kiosk-1' });
    expect(first.exp! - first.iat!).toBe(4);

    await sleep(1100);
    const renewed = await renew(url, token, lease.body.leaseId);
    expect(renewed.status).toBe(200);
    const second = await verify(url, renewed.body.receipt);
    expect(second.sid).toBe(lease.body.sessionId);
    expect(second.exp!).toBeGreaterThan(first.exp!);
    const [session] = (await admin.ok('GET', `/licenses/${license.id}/sessions`)).sessions;
    expect(Date.parse(session.receiptUntil)).toBeGreaterThanOrEqual(second.exp! * 1000);

    // Not renewed again: the lease lapses after 1 s, and the seat is held until the receipt expires.
    await until(async () => (await admin.ok('GET', `/licenses/${license.id}/sessions`)).sessions[0]?.state === 'idle', 5000);
    await sleep(1200);
    const [held] = (await admin.ok('GET', `/licenses/${license.id}/sessions`)).sessions;
    expect(held).toMatchObject({ id: lease.body.sessionId, state: 'idle' });
    expect(Math.floor(Date.parse(held.expiresAt) / 1000)).toBe(second.exp);
    expect((await acquire(url, await sign(license, { sub: 'other', dev: 'kiosk-2' }))).status).toBe(409);

    // Without grace, no receipt.
    await admin.ok('PATCH', `/licenses/${license.id}`, { offlineGraceSec: 0 });
    const plain = await renew(url, token, lease.body.leaseId);
    expect(plain.status).toBe(200);
    expect(plain.body).not.toHaveProperty('receipt');
  });

  it('the longest grace (30 days) holds an idle seat without a timer firing early (a timer waits at most about 24.8 days)', async () => {
    const overflow: string[] = [];
    const onWarning = (w: Error) => w.name === 'TimeoutOverflowWarning' && overflow.push(w.message);
    process.on('warning', onWarning);
    onTestFinished(() => void process.off('warning', onWarning));
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1, idleTimeoutSec: 1, offlineGraceSec: 2_592_000 });
    const { socket, grant } = await granted(url, await sign(license, { sid: 'month-offline' }));
    expect((await verify(url, grant.receipt!)).exp! - Math.floor(Date.now() / 1000)).toBeGreaterThan(2_591_990);
    await closeSocket(socket);
    await sleep(1500);
    const [held] = (await admin.ok('GET', `/licenses/${license.id}/sessions`)).sessions;
    expect(held).toMatchObject({ id: grant.sessionId, state: 'idle' });
    expect(Date.parse(held.expiresAt) - Date.now()).toBeGreaterThan(2_591_000_000);
    expect(overflow).toEqual([]);
  });

  it('a bad offlineGraceSec is refused and changes nothing', async () => {
    const { api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1, offlineGraceSec: 120 });
    for (const [value, status] of [
      [-1, 422],
      [2_592_001, 422],
      [1.5, 400],
      ['60', 400],
      [null, 400],
    ] as const) {
      const r = await admin.call('PATCH', `/licenses/${license.id}`, { offlineGraceSec: value });
      expect(r.status, `offlineGraceSec ${JSON.stringify(value)}`).toBe(status);
      expect(r.body.error.message).toMatch(/offlineGraceSec/);
      // Out of range is said as the server's own bounds are (idleTimeoutSec), naming both.
      if (status === 422) {
        expect(r.body.error.message).toBe('offlineGraceSec must be between 0 and 2592000 seconds');
        expect(r.body.error.details).toMatchObject({ field: 'offlineGraceSec', min: 0, max: 2_592_000 });
      }
    }
    expect((await admin.ok('GET', `/licenses/${license.id}`)).offlineGraceSec).toBe(120);
    const created = await admin.call('POST', '/licenses', { seats: 1, offlineGraceSec: -5 });
    expect([created.status, created.body.error.code, created.body.error.message]).toEqual([422, 'out_of_range', 'offlineGraceSec must be between 0 and 2592000 seconds']);
    expect(created.body.error.details).toMatchObject({ field: 'offlineGraceSec', min: 0, max: 2_592_000 });
  });
});
