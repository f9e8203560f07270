// Invariant 7, tenants: a tenant's admin reads and changes its own tenant's licenses only. Every
// read of another tenant's license is 403 (REST), and the audit log and the /admin snapshot and
// live changes hold nothing of another tenant.
import { io } from 'socket.io-client';
import { describe, expect, it, onTestFinished } from 'vitest';
import { connectAndAdmit, granted, nextEvent, sign, sleep, startServer } from '../support/harness';

describe('tenant isolation', () => {
  it("never shows one tenant another tenant's licenses, sessions, denials, history, audit or snapshot", async () => {
    const { url, api } = await startServer();
    const a = await api.setup({ seats: 1 });
    const b = await api.setup({ seats: 1 });
    const held = await granted(url, await sign(a.license, { sid: 's' }));
    await connectAndAdmit(url, await sign(a.license, { sid: 't' }));
    for (const [method, path] of [
      ['GET', `/licenses/${a.license.id}`],
      ['GET', `/licenses/${a.license.id}/sessions`],
      ['GET', `/licenses/${a.license.id}/denials`],
      ['GET', `/licenses/${a.license.id}/history`],
      ['PATCH', `/licenses/${a.license.id}`],
      ['DELETE', `/sessions/${held.grant.sessionId}`],
    ] as const) {
      const r = await b.admin.call(method, path, method === 'PATCH' ? { seats: 0 } : undefined);
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(JSON.stringify(r.body)).not.toContain(a.license.secret);
      expect(JSON.stringify(r.body)).not.toContain('"sessions"');
    }
    expect((await b.admin.ok('GET', '/licenses')).licenses.map((l: any) => l.id)).toEqual([b.license.id]);
    // The audit log: tenant A's entries (its license's creation and changes) are not in B's.
    const audit = (await b.admin.ok('GET', '/audit')).audit;
    expect(audit.length).toBeGreaterThan(0);
    expect(audit.every((e: any) => e.tenantId === b.tenant.id)).toBe(true);
    expect(JSON.stringify(audit)).not.toContain(a.license.id);
    expect((await b.admin.call('POST', '/licenses', { seats: 1, tenantId: a.tenant.id })).status).toBe(403);
    expect(held.socket.connected).toBe(true);
    expect((await a.admin.ok('GET', `/licenses/${a.license.id}`)).seats).toBe(1);
    // Another tenant's dashboard socket hears nothing of tenant A.
    const watcher = io(`${url}/admin`, { auth: { token: b.tenant.adminToken }, transports: ['websocket'], forceNew: true });
    onTestFinished(() => void watcher.disconnect());
    const snapshot: any = await nextEvent(watcher, 'admin:snapshot');
    expect(snapshot.licenses.map((l: any) => l.id)).toEqual([b.license.id]);
    expect(JSON.stringify(snapshot)).not.toContain(a.license.id);
    expect(JSON.stringify(snapshot)).not.toContain(a.tenant.id);
    let leaked = false;
    watcher.onAny((_e, payload) => JSON.stringify(payload ?? '').includes(a.license.id) && (leaked = true));
    await connectAndAdmit(url, await sign(a.license, { sid: 'u' }));
    await a.admin.ok('PATCH', `/licenses/${a.license.id}`, { seats: 2 });
    await sleep(300);
    expect(leaked).toBe(false);
  });
});
