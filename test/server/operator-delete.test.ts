// DELETE /licenses/:id: its sessions end (their sockets are told `license_deleted`), its seat
// rows go in one transaction (its seat history stays, as the webhooks' outbox, until the retention
// prunes it, and keeps its id from new licenses until then), later tokens get `license_not_found`, and the admins'
// boards hear `admin:license-removed`. Another tenant's admin can delete nothing.
import { describe, expect, it } from 'vitest';
import { adminSocket, connectAndAdmit, granted, nextEvent, sign, startServer } from '../support/harness';

describe('deleting a license', () => {
  it("ends its sessions with license_deleted, frees its seat, is 404 after, and refuses its later tokens with license_not_found", async () => {
    const { url, api } = await startServer();
    const { license, admin, tenant } = await api.setup({ seats: 2, seatKey: ['device'], maxActivations: 5 });
    const keep = await admin.ok('POST', '/licenses', { name: 'Keep', seats: 1 });
    const a = await granted(url, await sign(license, { dev: 'a' }));
    const tabOfA = await granted(url, await sign(license, { dev: 'a' }));
    const b = await granted(url, await sign(license, { dev: 'b' }));
    const other = await granted(url, await sign(keep, { sid: 'k' }));
    await connectAndAdmit(url, await sign(license, { dev: 'c' })); // a denial on record

    const board = adminSocket(url, tenant.adminToken);
    await nextEvent(board, 'admin:snapshot');
    const removed = new Promise<string[]>((resolve) => {
      const seen: string[] = [];
      board.on('admin:session-removed', (e: any) => seen.push(`session-removed:${e.reason}`));
      board.on('admin:license-removed', (e: any) => resolve([...seen, `license-removed:${e.licenseId}:${e.tenantId}`]));
    });
    const told = Promise.all([a.socket, tabOfA.socket, b.socket].map((s) => nextEvent(s, 'session:ended')));

    const r = await admin.call('DELETE', `/licenses/${license.id}`);
    expect(r.status).toBe(204);
    for (const payload of await told) expect(payload).toEqual({ reason: 'license_deleted', message: 'This license was deleted' });
    expect(await removed).toEqual(['session-removed:license_deleted', 'session-removed:license_deleted', `license-removed:${license.id}:${tenant.id}`]);

    expect((await admin.call('GET', `/licenses/${license.id}`)).status).toBe(404);
    expect((await admin.call('GET', `/licenses/${license.id}/sessions`)).status).toBe(404);
    expect((await admin.call('DELETE', `/licenses/${license.id}`)).status).toBe(404);
    expect((await admin.ok('GET', '/licenses')).licenses.map((l: any) => l.id)).toEqual([keep.id]);
    const late = await connectAndAdmit(url, await sign(license, { dev: 'a' }));
    expect(late.result).toMatchObject({ kind: 'connect_error', message: 'license_not_found' });
    // The other license is untouched.
    expect(other.socket.connected).toBe(true);
    expect((await admin.ok('GET', `/licenses/${keep.id}`)).seatsInUse).toBe(1);

    const [entry] = (await admin.ok('GET', `/audit?licenseId=${license.id}`)).audit;
    expect(entry).toMatchObject({ action: 'license.delete', licenseId: license.id, tenantId: tenant.id, detail: { name: license.name, seats: 2, endedSessions: 2 } });
  });

  it('keeps its id from a new license while its seat history is kept (409), and frees its activations and denials at once', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ id: 'lic-reused', seats: 4, seatKey: ['device'], maxActivations: 1 });
    await granted(url, await sign(license, { dev: 'a' }));
    await connectAndAdmit(url, await sign(license, { dev: 'b' })); // too_many_activations, logged
    await admin.ok('DELETE', `/licenses/${license.id}`);

    const again = await admin.call('POST', '/licenses', { id: 'lic-reused', seats: 1 });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'conflict', message: expect.stringContaining('was a deleted license') });
    expect((await api.call('GET', '/licenses/lic-reused')).status).toBe(404);
    expect((await api.call('GET', '/licenses/lic-reused/denials')).status).toBe(404);
    // Another id is fine.
    expect((await admin.call('POST', '/licenses', { id: 'lic-fresh', seats: 1 })).status).toBe(201);
  });

  it('answers a live license that has seat history as one that exists, not as a deleted one', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ id: 'lic-live', seats: 1 });
    await granted(url, await sign(license, { sid: 'h' }));
    for (const who of [admin, (await api.setup()).admin, api]) {
      const again = await who.call('POST', '/licenses', { id: 'lic-live', seats: 1 });
      expect([again.status, again.body.error.message]).toEqual([409, 'a license "lic-live" exists']);
    }
  });

  it("makes the operator's own tenant only with a license it creates: a refused one makes none", async () => {
    const { api } = await startServer();
    const taken = await api.setup({ id: 'lic-taken', seats: 1 });
    expect((await api.call('POST', '/licenses', { id: 'x2', seats: 5, seatCap: 1 })).status).toBe(422);
    expect((await api.call('POST', '/licenses', { id: 'lic-taken', seats: 1 })).status).toBe(409);
    expect((await api.ok('GET', '/tenants')).tenants.map((t: { id: string }) => t.id)).toEqual([taken.tenant.id]);
    const made = await api.ok('POST', '/licenses', { id: 'lic-op', seats: 1 });
    expect(made.tenantId).toBe('operator');
    expect((await api.ok('POST', '/licenses', { id: 'lic-op-2', seats: 1 })).tenantId).toBe('operator');
    expect((await api.ok('GET', '/tenants')).tenants.map((t: { id: string; licenses: number }) => [t.id, t.licenses]).sort()).toEqual([['operator', 2], [taken.tenant.id, 1]].sort());
  });

  it('keeps the id of a deleted license that never held a seat from another tenant within the retention (409): its tenant still reads its audit entries by it', async () => {
    const { api } = await startServer();
    const b = await api.setup({ id: 'lic-never-used', seats: 1 });
    await b.admin.ok('PATCH', '/licenses/lic-never-used', { seats: 2 });
    await b.admin.ok('DELETE', '/licenses/lic-never-used');
    const a = await api.setup();
    const again = await a.admin.call('POST', '/licenses', { id: 'lic-never-used', seats: 1 });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'conflict', message: expect.stringContaining('was a deleted license') });
    const { audit } = await b.admin.ok('GET', '/audit?licenseId=lic-never-used');
    expect(audit.map((e: { action: string }) => e.action)).toEqual(['license.delete', 'license.update', 'license.create']);
  });

  it("refuses another tenant's admin (403) and an unknown license (404), and nothing changes", async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1 });
    const other = await api.setup();
    const held = await granted(url, await sign(license, { sid: 'p' }));
    let ended = false;
    held.socket.on('session:ended', () => (ended = true));
    const r = await other.admin.call('DELETE', `/licenses/${license.id}`);
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('forbidden');
    expect((await api.call('DELETE', '/licenses/no-such-license')).status).toBe(404);
    expect((await api.call('DELETE', `/licenses/${license.id}`, { force: true })).status).toBe(400);
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(1);
    expect((await admin.ok('GET', `/licenses/${license.id}/sessions`)).sessions).toHaveLength(1);
    expect(ended).toBe(false);
    expect((await api.ok('GET', '/audit?action=license.delete')).audit).toEqual([]);
    // The operator may delete any tenant's license.
    expect((await api.call('DELETE', `/licenses/${license.id}`)).status).toBe(204);
  });
});
