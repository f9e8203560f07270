// CONTRACT section 6: `PATCH /licenses/:id` changes any field of the license body, `tenantId`
// included, which is the operator's alone: the operator moves a license to another tenant. It
// moves only while it holds no session and nobody waits in its queue (409 otherwise, changing
// nothing); its seat history before the move stays the old tenant's (the webhooks hear it as
// such, even when sent after the move), and what happens after is the new tenant's. The old
// tenant's boards drop its card, and its tokens keep working (the secret is the license's).
import { describe, expect, it } from 'vitest';
import { adminSocket, granted, nextEvent, sign, startServer, until } from '../support/harness';
import { startReceiver } from '../support/webhook-receiver';

const FAST_WEBHOOKS = { WEBHOOK_ALLOW_PRIVATE: 'on', WEBHOOK_RETRY_BASE_MS: '100', WEBHOOK_RETRY_MAX_MS: '200', WEBHOOK_POLL_MS: '50', WEBHOOK_TIMEOUT_MS: '2000' };

describe('moving a license to another tenant', () => {
  it('is the operator\'s: 200, the new tenant reads it and the old one no longer does; a tenant admin is 403, an unknown tenant 404', async () => {
    const { url, api } = await startServer();
    const { license, admin: adminA, tenant: a } = await api.setup({ seats: 2 });
    const { admin: adminB, tenant: b } = await api.setup({ seats: 1 });

    expect(await adminA.call('PATCH', `/licenses/${license.id}`, { tenantId: b.id })).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    expect(await adminA.call('POST', `/licenses/${license.id}/preview`, { tenantId: b.id })).toMatchObject({ status: 403 });
    // Its own tenant is no change.
    expect(await adminA.call('PATCH', `/licenses/${license.id}`, { tenantId: a.id })).toMatchObject({ status: 200, body: { tenantId: a.id } });
    expect(await api.call('PATCH', `/licenses/${license.id}`, { tenantId: 'ten_nobody' })).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect((await adminA.ok('GET', `/licenses/${license.id}`)).tenantId).toBe(a.id);

    const boardA = adminSocket(url, a.adminToken);
    const boardB = adminSocket(url, b.adminToken);
    await Promise.all([nextEvent(boardA, 'admin:snapshot'), nextEvent(boardB, 'admin:snapshot')]);
    // A's board watches the license: after the move it hears none of its sessions.
    expect(await boardA.emitWithAck('admin:watch', { licenseId: license.id })).toEqual({ ok: true });
    const heardByA: string[] = [];
    boardA.on('admin:session', (e: any) => heardByA.push(e.licenseId));
    const removedFromA = nextEvent(boardA, 'admin:license-removed');
    const shownToB = new Promise<any>((resolve) => boardB.on('admin:license', (l: any) => l.id === license.id && resolve(l)));

    const moved = await api.call('PATCH', `/licenses/${license.id}`, { tenantId: b.id, seats: 3 });
    expect(moved).toMatchObject({ status: 200, body: { id: license.id, tenantId: b.id, seats: 3 } });
    expect(await removedFromA).toEqual({ licenseId: license.id, tenantId: a.id });
    expect(await shownToB).toMatchObject({ id: license.id, tenantId: b.id });

    expect((await adminA.call('GET', `/licenses/${license.id}`)).status).toBe(403);
    expect((await adminB.ok('GET', `/licenses/${license.id}`)).tenantId).toBe(b.id);
    expect((await adminA.ok('GET', '/licenses')).licenses.map((l: any) => l.id)).not.toContain(license.id);
    expect((await adminB.ok('GET', '/licenses')).licenses.map((l: any) => l.id)).toContain(license.id);
    // Each side's log says so.
    expect((await adminA.ok('GET', '/audit')).audit).toEqual(expect.arrayContaining([expect.objectContaining({ action: 'license.move', licenseId: license.id, detail: { from: a.id, to: b.id } })]));
    expect((await adminB.ok('GET', '/audit')).audit).toEqual(
      expect.arrayContaining([expect.objectContaining({ action: 'license.update', licenseId: license.id, detail: expect.objectContaining({ tenantId: b.id, before: { tenantId: a.id } }) })]),
    );
    // Its tokens still work: the secret is the license's.
    const heardByB = new Promise<any>((resolve) => boardB.on('admin:session', (e: any) => e.licenseId === license.id && resolve(e)));
    const g = await granted(url, await sign(license, { sid: 'after' }));
    expect(g.grant).toMatchObject({ licenseId: license.id, seats: 3 });
    expect(await heardByB).toMatchObject({ event: 'granted', session: { id: g.grant.sessionId } });
    await new Promise((r) => setTimeout(r, 200));
    expect(heardByA).toEqual([]);
  });

  it('is refused (409) while the license holds a session, changing nothing; goes once it holds none', async () => {
    const { url, api } = await startServer();
    const { license, admin: adminA, tenant: a } = await api.setup({ seats: 2, idleTimeoutSec: 2 });
    const { tenant: b } = await api.setup({ seats: 1 });
    const held = await granted(url, await sign(license, { sid: 'held' }));
    const refused = await api.call('PATCH', `/licenses/${license.id}`, { tenantId: b.id, name: 'Moved' });
    expect(refused).toMatchObject({ status: 409, body: { error: { code: 'conflict', message: expect.stringContaining('1 session') } } });
    // Its preview answers as the PATCH would: 409 here, 404 for a tenant that does not exist.
    expect(await api.call('POST', `/licenses/${license.id}/preview`, { tenantId: b.id, name: 'Moved' })).toMatchObject({ status: 409, body: refused.body });
    expect(await api.call('POST', `/licenses/${license.id}/preview`, { tenantId: 'ten_nobody' })).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect(await adminA.ok('GET', `/licenses/${license.id}`)).toMatchObject({ tenantId: a.id, name: license.name, seatsInUse: 1 });
    // Kicked: it holds none, and moves.
    await adminA.ok('DELETE', `/sessions/${held.grant.sessionId}`);
    expect((await api.call('PATCH', `/licenses/${license.id}`, { tenantId: b.id })).status).toBe(200);
  });

  it('keeps its history before the move the old tenant\'s webhooks\' (even sent after it), and what follows the new one\'s', async () => {
    const { url, api } = await startServer({ env: FAST_WEBHOOKS });
    const { license, admin: adminA, tenant: a } = await api.setup({ seats: 2, idleTimeoutSec: 2 });
    const { admin: adminB, tenant: b } = await api.setup({ seats: 1 });
    // A's receiver refuses everything until the license has moved: its events go out after it.
    let moved = false;
    const receiverA = await startReceiver(() => (moved ? 200 : 503));
    const receiverB = await startReceiver();
    const events = ['session.started', 'session.ended'];
    await adminA.ok('POST', '/webhooks', { url: receiverA.url, events });
    await adminB.ok('POST', '/webhooks', { url: receiverB.url, events });

    const before = await granted(url, await sign(license, { sid: 'before' }));
    await adminA.ok('DELETE', `/sessions/${before.grant.sessionId}`);
    await until(() => receiverA.hits.length >= 1);
    expect((await api.call('PATCH', `/licenses/${license.id}`, { tenantId: b.id })).status).toBe(200);
    moved = true;
    const after = await granted(url, await sign(license, { sid: 'after' }));
    await until(() => receiverA.accepted().length >= 2 && receiverB.accepted().length >= 1);
    await new Promise((r) => setTimeout(r, 500));

    const seen = (r: typeof receiverA) => r.accepted().map((h) => `${h.body.type}:${h.body.tenantId}:${h.body.data.sessionId}`);
    expect(seen(receiverA)).toEqual([`session.started:${a.id}:${before.grant.sessionId}`, `session.ended:${a.id}:${before.grant.sessionId}`]);
    expect(seen(receiverB)).toEqual([`session.started:${b.id}:${after.grant.sessionId}`]);
  });
});
