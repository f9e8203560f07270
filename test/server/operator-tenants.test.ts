// GET /tenants (names for the board's cards: the operator sees every tenant, a tenant admin its
// own only) and POST /tenants/:id/admin-token (a new token; the old one fails at once; audited).
import { io } from 'socket.io-client';
import { describe, expect, it, onTestFinished } from 'vitest';
import { nextEvent, startServer } from '../support/harness';

describe('tenants, as the operator and a tenant admin see them', () => {
  it('lists every tenant with its name and license count for the operator, and only its own for a tenant admin', async () => {
    const { api } = await startServer();
    const a = await api.setup({ name: 'A1' });
    await a.admin.ok('POST', '/licenses', { seats: 1, name: 'A2' });
    const b = await api.setup({ name: 'B1' });

    const all = (await api.ok('GET', '/tenants')).tenants;
    expect(all).toEqual([
      { id: a.tenant.id, name: a.tenant.name, createdAt: expect.stringMatching(/Z$/), licenses: 2 },
      { id: b.tenant.id, name: b.tenant.name, createdAt: expect.stringMatching(/Z$/), licenses: 1 },
    ]);
    expect((await a.admin.ok('GET', '/tenants')).tenants).toEqual([expect.objectContaining({ id: a.tenant.id, name: a.tenant.name, licenses: 2 })]);
    expect((await b.admin.ok('GET', '/tenants')).tenants.map((t: any) => t.id)).toEqual([b.tenant.id]);
    expect((await api.as('nope').call('GET', '/tenants')).status).toBe(401);
  });

  it("rotates a tenant's admin token: the new one works, the old one is 401 at once, and the rotation is audited", async () => {
    const { api } = await startServer();
    const { tenant, admin, license, url } = { ...(await api.setup()), url: api.url };
    // A board open with the old token is let go, and cannot connect again with it.
    const board = io(`${url}/admin`, { auth: { token: tenant.adminToken }, transports: ['websocket'], forceNew: true, reconnection: false });
    onTestFinished(() => void board.disconnect());
    await nextEvent(board, 'admin:snapshot');
    const letGo = nextEvent(board, 'disconnect');
    const r = await api.call('POST', `/tenants/${tenant.id}/admin-token`);
    expect(r.status).toBe(201);
    expect(r.body.adminToken).toMatch(/^tat_/);
    expect(r.body.adminToken).not.toBe(tenant.adminToken);

    const old = await admin.call('GET', '/licenses');
    expect(old.status).toBe(401);
    expect(old.body.error.code).toBe('unauthorized');
    expect(await letGo).toBe('io server disconnect');
    const refused = nextEvent<Error & { data?: { reason: string } }>(board, 'connect_error');
    board.connect();
    expect((await refused).message).toBe('unauthorized');
    const fresh = api.as(r.body.adminToken);
    expect((await fresh.ok('GET', '/licenses')).licenses.map((l: any) => l.id)).toEqual([license.id]);

    const audit = (await api.ok('GET', '/audit?action=tenant.token-rotate')).audit;
    expect(audit).toEqual([expect.objectContaining({ action: 'tenant.token-rotate', tenantId: tenant.id, actor: 'operator', detail: { tenantId: tenant.id } })]);
    // The token itself is never in the log.
    expect(JSON.stringify((await api.ok('GET', '/audit')).audit)).not.toContain(r.body.adminToken);
  });

  it('refuses a rotation by a tenant admin (403), of an unknown tenant (404) and with a body (400), and the token keeps working', async () => {
    const { api } = await startServer();
    const { tenant, admin } = await api.setup();
    const other = await api.setup();
    expect((await admin.call('POST', `/tenants/${tenant.id}/admin-token`)).status).toBe(403);
    expect((await other.admin.call('POST', `/tenants/${tenant.id}/admin-token`)).status).toBe(403);
    const unknown = await api.call('POST', '/tenants/no-such-tenant/admin-token');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
    expect((await api.call('POST', `/tenants/${tenant.id}/admin-token`, { token: 'mine' })).status).toBe(400);
    expect((await admin.call('GET', '/licenses')).status).toBe(200);
    expect((await other.admin.call('GET', '/licenses')).status).toBe(200);
    expect((await api.ok('GET', '/audit?action=tenant.token-rotate')).audit).toEqual([]);
  });
});
