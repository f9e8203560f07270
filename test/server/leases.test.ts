// HTTP leases end to end (docs/contract.md 8.4, "HTTP leases"): a real server, REST calls with the
// client's own token and real sockets. A lease is one more connection of a session: it shares the
// seat of its seat key with sockets, is denied and logged as they are, lapses when not renewed (the
// seat then idles for the idle timeout), and a renewal after the seat ended says why (410).
import { describe, expect, it } from 'vitest';
import type { SessionView } from '../../shared';
import type { SessionPayload } from '../../server/seats/hooks';
import { connectAndAdmit, granted, nextEvent, sign, sleep, startServer, until } from '../support/harness';
import { acquire, leaseCall, release, renew, shortLeases } from './leases-support';

const sessionsOf = async (admin: { ok: (m: string, p: string) => Promise<any> }, licenseId: string) =>
  (await admin.ok('GET', `/licenses/${licenseId}/sessions`)).sessions as SessionView[];

describe('HTTP leases', () => {
  it('POST grants a lease: 201 with the seat, counted as a lease (no socket) in the sessions', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 2, seatKey: ['device'], idleTimeoutSec: 7 });
    const before = Date.now();
    const r = await acquire(url, await sign(license, { dev: 'till-1', app: 'POS' }));
    expect(r.status).toBe(201);
    expect(r.body).toEqual({
      leaseId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      sessionId: expect.any(String),
      licenseId: license.id,
      resumed: false,
      seatsInUse: 1,
      seats: 2,
      overage: false,
      renewBy: expect.any(String),
      leaseIntervalSec: 3600,
      idleTimeoutSec: 7,
    });
    const renewBy = Date.parse(r.body.renewBy);
    expect(renewBy).toBeGreaterThanOrEqual(before + 3600_000);
    expect(renewBy).toBeLessThanOrEqual(Date.now() + 3600_000);
    const [session] = await sessionsOf(admin, license.id);
    expect(session).toMatchObject({ id: r.body.sessionId, state: 'active', deviceId: 'till-1', leases: 1, sockets: 0, apps: ['POS'] });
  });

  it('a leaseIntervalSec out of its bounds is refused 422 naming them, as idleTimeoutSec is; another type 400; nothing changes', async () => {
    const { api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1, leaseIntervalSec: 60 });
    const said = { code: 'out_of_range', message: 'leaseIntervalSec must be between 10 and 2592000 seconds' };
    for (const [method, path, body] of [
      ['POST', '/licenses', { seats: 1, leaseIntervalSec: 9 }],
      ['PATCH', `/licenses/${license.id}`, { leaseIntervalSec: 9 }],
      ['PATCH', `/licenses/${license.id}`, { leaseIntervalSec: 2_592_001 }],
    ] as const) {
      const r = await admin.call(method, path, body);
      expect([r.status, r.body.error], `${method} ${JSON.stringify(body)}`).toEqual([422, { ...said, details: expect.objectContaining({ field: 'leaseIntervalSec', min: 10, max: 2_592_000 }) }]);
    }
    const typed = await admin.call('PATCH', `/licenses/${license.id}`, { leaseIntervalSec: 10.5 });
    expect([typed.status, typed.body.error.code, typed.body.error.details.field]).toEqual([400, 'bad_request', 'leaseIntervalSec']);
    expect((await admin.ok('GET', `/licenses/${license.id}`)).leaseIntervalSec).toBe(60);
    expect((await admin.ok('GET', '/licenses')).licenses).toHaveLength(1);
  });

  it('a lease granted above seats (overage) says so, as a socket grant does', async () => {
    const { url, api } = await startServer();
    const { license } = await api.setup({ seats: 1, overage: 2, seatKey: ['device'] });
    expect((await acquire(url, await sign(license, { dev: 'till-1' }))).body).toMatchObject({ seatsInUse: 1, seats: 1, overage: false });
    expect((await acquire(url, await sign(license, { dev: 'till-2' }))).body).toMatchObject({ seatsInUse: 2, seats: 1, overage: true });
    expect((await acquire(url, await sign(license, { dev: 'till-3' }))).status).toBe(409);
  });

  it('a lease and a socket of the same seat key share one seat; another seat key is denied 409 and logged', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1, seatKey: ['device'] });
    const till = await sign(license, { dev: 'till-1' });
    const tab = await granted(url, till);
    const r = await acquire(url, till);
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ resumed: true, sessionId: tab.grant.sessionId, seatsInUse: 1 });
    expect(await sessionsOf(admin, license.id)).toMatchObject([{ id: tab.grant.sessionId, sockets: 1, leases: 1 }]);

    const denied = await acquire(url, await sign(license, { dev: 'till-2' }));
    expect(denied).toEqual({
      status: 409,
      body: { error: { code: 'no_free_seats', message: 'There are no free seats available', details: { seatsInUse: 1, seats: 1 } } },
    });
    const { denials } = await admin.ok('GET', `/licenses/${license.id}/denials`);
    expect(denials).toMatchObject([{ reason: 'no_free_seats', deviceId: 'till-2' }]);
    // The lease alone holds the seat once the socket goes.
    tab.socket.disconnect();
    await until(async () => (await sessionsOf(admin, license.id))[0]?.sockets === 0);
    expect(await sessionsOf(admin, license.id)).toMatchObject([{ state: 'active', sockets: 0, leases: 1 }]);
    expect((await connectAndAdmit(url, await sign(license, { dev: 'till-2' }))).result).toMatchObject({ kind: 'denied' });
  });

  it('PUT renews: 200 with a later renewBy; a lease not renewed lapses, idles for the idle timeout, and a renewal within it resumes', async () => {
    const idle: SessionPayload[] = [];
    const { url, api, server } = await startServer({ hooks: { onSessionIdle: (p) => void idle.push(p) } });
    const { license, admin } = await api.setup({ seats: 1, seatKey: ['device'], idleTimeoutSec: 2 });
    await shortLeases(server, license.id, 1);
    const token = await sign(license, { dev: 'till-1' });
    const first = (await acquire(url, token)).body;
    await sleep(500);
    const renewed = await renew(url, token, first.leaseId);
    expect(renewed.status).toBe(200);
    expect(renewed.body).toMatchObject({ leaseId: first.leaseId, sessionId: first.sessionId, resumed: false, seatsInUse: 1, leaseIntervalSec: 1 });
    expect(Date.parse(renewed.body.renewBy)).toBeGreaterThan(Date.parse(first.renewBy) + 400);

    // Not renewed: it lapses after its interval (swept every 200 ms); the seat idles, still held.
    await until(async () => (await sessionsOf(admin, license.id))[0]?.state === 'idle', 3000);
    const lapsedAt = Date.now();
    expect(lapsedAt).toBeGreaterThanOrEqual(Date.parse(renewed.body.renewBy));
    expect(await sessionsOf(admin, license.id)).toMatchObject([{ id: first.sessionId, state: 'idle', leases: 0, sockets: 0 }]);
    expect(idle.map((p) => p.session.id)).toEqual([first.sessionId]);
    expect((await acquire(url, await sign(license, { dev: 'till-2' }))).status).toBe(409);

    // Within the idle hold the same lease comes back to the same session.
    const back = await renew(url, token, first.leaseId);
    expect(back.body).toMatchObject({ resumed: true, sessionId: first.sessionId, seatsInUse: 1 });
    expect(await sessionsOf(admin, license.id)).toMatchObject([{ id: first.sessionId, state: 'active', leases: 1 }]);

    // Lapsed again and past the idle timeout: the seat is free, and the lease says why.
    await until(async () => (await sessionsOf(admin, license.id)).length === 0, 6000);
    expect(Date.now() - lapsedAt).toBeGreaterThanOrEqual(2000);
    expect(await renew(url, token, first.leaseId)).toEqual({
      status: 410,
      body: { error: { code: 'idle_timeout', message: 'The seat was released after the idle timeout' } },
    });
    expect((await acquire(url, await sign(license, { dev: 'till-2' }))).status).toBe(201);
  });

  it('DELETE frees the seat at once (204); a second DELETE is 404; with a socket left it only detaches', async () => {
    const seen: string[] = [];
    const hooks = {
      onAdmission: (p: { socketId: string }) => void seen.push(`admission ${p.socketId.replace(/[0-9a-f-]{36}$/, '<id>')}`),
      onSessionStarted: () => void seen.push('started'),
      onSessionEnded: (p: { reason: string }) => void seen.push(`ended ${p.reason}`),
    };
    const { url, api } = await startServer({ hooks });
    const { license, admin } = await api.setup({ seats: 1, seatKey: ['device'] });
    const token = await sign(license, { dev: 'till-1' });
    const l = (await acquire(url, token)).body;
    expect(await release(url, token, l.leaseId)).toEqual({ status: 204, body: undefined });
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(0);
    // The same hooks as a socket's admission and app end.
    await until(() => seen.length === 3);
    expect(seen).toEqual(['admission lease:<id>', 'started', 'ended ended_by_app']);
    expect(await release(url, token, l.leaseId)).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect(await renew(url, token, l.leaseId)).toMatchObject({ status: 404 });

    const tab = await granted(url, token);
    const shared = (await acquire(url, token)).body;
    expect((await release(url, token, shared.leaseId)).status).toBe(204);
    expect(await sessionsOf(admin, license.id)).toMatchObject([{ id: tab.grant.sessionId, state: 'active', sockets: 1, leases: 0 }]);
    expect(tab.socket.connected).toBe(true);
  });

  it('a kick, a suspension, lowered seats and an app end: the next PUT answers 410 with the reason', async () => {
    const { url, api } = await startServer({ config: { kickCooldownSec: 60 } });
    const { license, admin } = await api.setup({ seats: 3, seatKey: ['device'] });
    const tok = (dev: string) => sign(license, { dev });
    const lease = async (dev: string) => ({ token: await tok(dev), ...(await acquire(url, await tok(dev))).body });

    const kicked = await lease('kicked');
    await admin.ok('DELETE', `/sessions/${kicked.sessionId}`);
    expect(await renew(url, kicked.token, kicked.leaseId)).toEqual({
      status: 410,
      body: { error: { code: 'kicked', message: 'Your session was ended by an administrator' } },
    });
    // The kicked device is in its cool-down: denied and logged.
    expect((await acquire(url, kicked.token)).body.error.code).toBe('kicked');

    const byApp = await lease('by-app');
    const tab = await granted(url, byApp.token);
    await new Promise((resolve) => tab.socket.emit('session:end', resolve));
    expect((await renew(url, byApp.token, byApp.leaseId)).body.error.code).toBe('ended_by_app');

    const kept = await lease('kept');
    const newest = await lease('newest');
    await admin.ok('PATCH', `/licenses/${license.id}`, { seats: 1 });
    expect((await renew(url, newest.token, newest.leaseId)).body.error.code).toBe('seats_reduced');
    expect((await renew(url, kept.token, kept.leaseId)).status).toBe(200);
    await admin.ok('PATCH', `/licenses/${license.id}`, { status: 'suspended' });
    expect(await renew(url, kept.token, kept.leaseId)).toMatchObject({ status: 410, body: { error: { code: 'license_suspended' } } });
    expect((await acquire(url, kept.token)).body.error.code).toBe('license_suspended');
  });

  it('bad, expired and other tokens are refused with the REST error shape and change nothing', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1, seatKey: ['device'] });
    const other = (await api.setup({ seats: 1, seatKey: ['device'] })).license;
    const token = await sign(license, { dev: 'till-1' });
    const l = (await acquire(url, token)).body;
    const before = await sessionsOf(admin, license.id);

    const refusals: Array<[string, string, string | undefined, number, string]> = [
      ['POST', '/leases', undefined, 401, 'unauthorized'],
      ['POST', '/leases', 'not-a-jwt', 401, 'invalid_token'],
      ['POST', '/leases', await sign(license, { dev: 'x' }, { exp: Math.floor(Date.now() / 1000) - 5 }), 401, 'token_expired'],
      ['POST', '/leases', await sign({ id: license.id, secret: 'wrong-secret' }, { dev: 'x' }), 401, 'invalid_token'],
      ['POST', '/leases', await sign(license, { sub: 'no-device' }), 401, 'missing_claim'],
      ['POST', '/leases', await sign({ id: 'no-such-license', secret: 's' }, { dev: 'x' }), 401, 'license_not_found'],
      ['PUT', `/leases/${l.leaseId}`, undefined, 401, 'unauthorized'],
      ['PUT', `/leases/${l.leaseId}`, await sign(license, { dev: 'till-1' }, { exp: Math.floor(Date.now() / 1000) - 5 }), 401, 'token_expired'],
      ['PUT', `/leases/${l.leaseId}`, await sign(other, { dev: 'till-1' }), 403, 'forbidden'],
      ['PUT', `/leases/${l.leaseId}`, await sign(license, { dev: 'till-2' }), 403, 'forbidden'],
      ['DELETE', `/leases/${l.leaseId}`, await sign(other, { dev: 'till-1' }), 403, 'forbidden'],
      ['DELETE', `/leases/${l.leaseId}`, await sign(license, { dev: 'till-2' }), 403, 'forbidden'],
      ['DELETE', `/leases/${l.leaseId}`, 'not-a-jwt', 401, 'invalid_token'],
      ['PUT', '/leases/no-such-lease', token, 404, 'not_found'],
      ['DELETE', '/leases/no-such-lease', token, 404, 'not_found'],
    ];
    for (const [method, path, tok, status, code] of refusals) {
      const r = await leaseCall(url, method, path, tok);
      expect(r.status, `${method} ${path} ${code}`).toBe(status);
      expect(r.body).toEqual({ error: { code, message: expect.any(String) } });
    }
    // Bodies and methods as for the rest of the API.
    expect(await leaseCall(url, 'POST', '/leases', token, { seats: 3 })).toMatchObject({ status: 400, body: { error: { code: 'bad_request' } } });
    expect(await leaseCall(url, 'DELETE', `/leases/${l.leaseId}`, token, {})).toMatchObject({ status: 400, body: { error: { code: 'bad_request' } } });
    const get = await fetch(`${url}/api/v1/leases`);
    expect([get.status, get.headers.get('allow'), (await get.json()).error.code]).toEqual([405, 'POST', 'method_not_allowed']);
    expect((await leaseCall(url, 'GET', `/leases/${l.leaseId}`, token)).status).toBe(405);
    expect((await leaseCall(url, 'POST', `/leases/${l.leaseId}/more`, token)).body.error.code).toBe('not_found');

    expect(await sessionsOf(admin, license.id)).toEqual(before);
    expect((await admin.ok('GET', `/licenses/${license.id}/denials`)).denials).toEqual([]);
    expect((await renew(url, token, l.leaseId)).body).toMatchObject({ resumed: false, sessionId: l.sessionId });
  });

  it('the OpenAPI document describes the lease endpoints and their client-token security', async () => {
    const { url } = await startServer();
    const doc: any = await (await fetch(`${url}/api/openapi.json`)).json();
    expect(Object.keys(doc.paths['/leases'])).toEqual(['post']);
    expect(Object.keys(doc.paths['/leases/{leaseId}']).sort()).toEqual(['delete', 'parameters', 'put']);
    expect(doc.paths['/leases/{leaseId}'].put.responses['410']).toBeDefined();
    expect(doc.paths['/leases'].post.security).toEqual([{ clientToken: [] }]);
    expect(Object.keys(doc.components.schemas.Lease.properties)).toEqual(
      expect.arrayContaining(['leaseId', 'sessionId', 'licenseId', 'resumed', 'seatsInUse', 'seats', 'overage', 'renewBy']),
    );
  });

  it('a renewal is activity: it ends a pending inactivity warning, and the sockets of the session hear so', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1, seatKey: ['device'], inactivityTimeoutSec: 3, inactivityWarningSec: 2 });
    const token = await sign(license, { dev: 'till-1' });
    const tab = await granted(url, token);
    const l = (await acquire(url, token)).body;
    const warning = await nextEvent(tab.socket, 'seat:warning', 5000);
    expect(warning).toMatchObject({ reason: 'inactive' });
    expect((await sessionsOf(admin, license.id))[0]?.warnedAt).not.toBeNull();
    const cleared = nextEvent(tab.socket, 'seat:warning-cleared', 2000);
    expect((await renew(url, token, l.leaseId)).status).toBe(200);
    expect(await cleared).toEqual({ reason: 'inactive' });
    expect(await sessionsOf(admin, license.id)).toMatchObject([{ state: 'active', warnedAt: null }]);
  });

  it("POST is a connect: the per-address connect limit applies (429 rate_limited), and a refused one takes nothing", async () => {
    const { url, api } = await startServer({ config: { connectRatePerSec: 1, connectBurst: 2 } });
    const { license, admin } = await api.setup({ seats: 5, seatKey: ['device'] });
    const codes = [];
    for (const dev of ['a', 'b', 'c']) codes.push((await acquire(url, await sign(license, { dev }))).status);
    expect(codes).toEqual([201, 201, 429]);
    const refused = await acquire(url, await sign(license, { dev: 'd' }));
    expect(refused.body).toEqual({ error: { code: 'rate_limited', message: 'too many leases taken from this address; retry shortly' } });
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(2);
  });

  it('a lease that lapses while a socket of its seat key is connected only detaches; the socket keeps the seat', async () => {
    const { url, api, server } = await startServer();
    const { license, admin } = await api.setup({ seats: 1, seatKey: ['device'] });
    await shortLeases(server, license.id, 1);
    const token = await sign(license, { dev: 'till-1' });
    const tab = await granted(url, token);
    const ended = nextEvent(tab.socket, 'session:ended', 3000).then(
      () => 'ended',
      () => 'not ended',
    );
    await acquire(url, token);
    await until(async () => (await sessionsOf(admin, license.id))[0]?.leases === 0, 3000);
    expect(await sessionsOf(admin, license.id)).toMatchObject([{ id: tab.grant.sessionId, state: 'active', sockets: 1 }]);
    expect(await ended).toBe('not ended');
    expect(tab.socket.connected).toBe(true);
  });
});
