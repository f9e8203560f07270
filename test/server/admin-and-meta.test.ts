// The /admin namespace (snapshot, then live changes from sockets and REST), the operator token,
// /healthz, /metrics and the OpenAPI document.
import { io } from 'socket.io-client';
import { describe, expect, expectTypeOf, it, onTestFinished } from 'vitest';
import type { AdminServerToClientEvents, ServerToClientEvents, SeatGrantedPayload } from '../../shared';
import { DenyReason, EndReason } from '../../shared';
import { connectAndAdmit, granted, nextEvent, OPERATOR_TOKEN, sign, startServer } from '../support/harness';

function adminSocket(url: string, token: string) {
  const s = io(`${url}/admin`, { auth: { token }, transports: ['websocket'], forceNew: true, reconnection: false });
  onTestFinished(() => void s.disconnect());
  return s;
}

describe('/admin namespace', () => {
  it('sends a snapshot, then every change live', async () => {
    const { url, api } = await startServer();
    const { license, admin, tenant } = await api.setup({ seats: 1 });
    await granted(url, await sign(license, { sid: 'p0', name: 'Zed' }));
    const watcher = adminSocket(url, tenant.adminToken);
    const snapshot: any = await nextEvent(watcher, 'admin:snapshot');
    expect(snapshot.actor).toEqual({ kind: 'tenant', tenantId: tenant.id, tenantName: expect.any(String) });
    expect(snapshot.licenses).toMatchObject([{ id: license.id, seatsInUse: 1, seats: 1 }]);
    expect(snapshot.licenses[0].secret).toBeUndefined();
    expect(snapshot.sessions).toMatchObject([{ sessionRef: 'p0', name: 'Zed', sockets: 1, state: 'active' }]);

    const denial = nextEvent(watcher, 'admin:denial');
    await connectAndAdmit(url, await sign(license, { sid: 'p1' }));
    expect(await denial).toMatchObject({ licenseId: license.id, reason: 'no_free_seats', sessionRef: 'p1', seatsInUse: 1 });

    const changed = nextEvent(watcher, 'admin:license');
    const audit = nextEvent(watcher, 'admin:audit');
    await admin.ok('PATCH', `/licenses/${license.id}`, { seats: 3 });
    expect(await changed).toMatchObject({ id: license.id, seats: 3 });
    expect(await audit).toMatchObject({ action: 'license.update', licenseId: license.id });

    const started = nextEvent(watcher, 'admin:session');
    const s = await granted(url, await sign(license, { sid: 'p2' }));
    expect(await started).toMatchObject({ licenseId: license.id, event: 'granted', seatsInUse: 2, session: { sessionRef: 'p2' } });
    const removed = nextEvent(watcher, 'admin:session-removed');
    await admin.ok('DELETE', `/sessions/${s.grant.sessionId}`);
    expect(await removed).toMatchObject({ sessionId: s.grant.sessionId, reason: 'kicked', seatsInUse: 1 });
  });

  it('refuses a bad admin token with a coded connect_error; the operator sees every tenant', async () => {
    const { url, api } = await startServer();
    const bad = adminSocket(url, 'wrong-token-wrong-token');
    const err: any = await nextEvent(bad, 'connect_error');
    expect(err.message).toBe('unauthorized');
    const a = await api.setup();
    const b = await api.setup();
    const op = adminSocket(url, OPERATOR_TOKEN);
    const snapshot: any = await nextEvent(op, 'admin:snapshot');
    expect(snapshot.actor).toEqual({ kind: 'operator' });
    expect(snapshot.licenses.map((l: any) => l.id).sort()).toEqual([a.license.id, b.license.id].sort());
  });
});

describe('meta endpoints', () => {
  it('serves /healthz, /metrics and the OpenAPI document', async () => {
    const { url, api } = await startServer();
    const { license } = await api.setup();
    await granted(url, await sign(license, { sid: 'p' }));
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/seat_admissions_total\{outcome="granted"\} 1/);
    const doc: any = await (await fetch(`${url}/api/openapi.json`)).json();
    expect(doc.openapi).toMatch(/^3\./);
    for (const p of ['/tenants', '/licenses', '/licenses/{id}', '/licenses/{id}/sessions', '/licenses/{id}/denials', '/sessions/{id}']) {
      expect(doc.paths[p], p).toBeDefined();
    }
    expect(doc.components.schemas.CreateLicense.properties.seats).toMatchObject({ type: 'integer', minimum: 0 });
  });

  it("puts the operator's licenses without a tenantId in the operator tenant", async () => {
    const { api } = await startServer();
    const a = await api.ok('POST', '/licenses', { seats: 2 });
    const b = await api.ok('POST', '/licenses', { seats: 3 });
    expect(a.tenantId).toBe('operator');
    expect(b.tenantId).toBe('operator');
    expect((await api.ok('GET', '/licenses')).licenses.map((l: any) => l.id)).toEqual([a.id, b.id]);
  });

  it('generates and stores an operator token on first start when ADMIN_TOKEN is unset', async () => {
    const { createSeatServer } = await import('../../server/seat-server');
    const server = createSeatServer({ env: {}, config: { databaseUrl: ':memory:', logLevel: 'silent' } });
    const { url, generatedAdminToken } = await server.listen(0);
    onTestFinished(() => server.close());
    expect(generatedAdminToken).toMatch(/^op_/);
    const ok = await fetch(`${url}/api/v1/licenses`, { headers: { authorization: `Bearer ${generatedAdminToken}` } });
    expect(ok.status).toBe(200);
  });
});

describe('wire contract types', () => {
  it('pins the event names and payloads', () => {
    expectTypeOf<Parameters<ServerToClientEvents['seat:granted']>[0]>().toEqualTypeOf<SeatGrantedPayload>();
    expectTypeOf<keyof ServerToClientEvents>().toEqualTypeOf<'seat:granted' | 'seat:denied' | 'session:ended' | 'seat:error'>();
    expectTypeOf<SeatGrantedPayload>().toHaveProperty('idleTimeoutSec');
    expectTypeOf<keyof AdminServerToClientEvents>().toMatchTypeOf<string>();
    expect(Object.values(DenyReason)).toEqual(expect.arrayContaining(['no_free_seats', 'license_suspended', 'kicked']));
    expect(Object.values(EndReason)).toEqual(expect.arrayContaining(['kicked', 'ended_by_app', 'license_suspended', 'seats_reduced']));
  });
});
