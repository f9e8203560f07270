// The operator's actions on two real nodes behind one PostgreSQL and one Redis: a license deleted
// through node A ends its session's sockets on both nodes (license_deleted) and drops its card on
// a board watching node B; a tenant token rotated on A signs out the tenant's board on B; a secret
// rotated on A without grace is refused on B within the second its license cache keeps.
import { expect, it } from 'vitest';
import { connectAndAdmit, granted, nextEvent, sign, sleep } from '../support/harness';
import { describeWith } from '../support/services';
import { adminSocket, clusterMissing, useCluster } from '../cluster/cluster-support';

describeWith(clusterMissing())('operator actions across two nodes', { timeout: 90_000 }, () => {
  const { cluster } = useCluster(2);

  it('deletes a license through one node: sockets and boards on the other hear it', async () => {
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
    const { license, admin, tenant } = await a.api.setup({ seats: 2 });
    const token = await sign(license, { sid: 'portal' });
    const onA = await granted(a.url, token);
    const onB = await granted(b.url, token);
    const board = adminSocket(b.url, tenant.adminToken);
    await nextEvent(board, 'admin:snapshot');
    const removed = nextEvent(board, 'admin:license-removed');
    const endedA = nextEvent(onA.socket, 'session:ended');
    const endedB = nextEvent(onB.socket, 'session:ended');
    expect((await admin.call('DELETE', `/licenses/${license.id}`)).status).toBe(204);
    expect(await endedA).toEqual({ reason: 'license_deleted', message: 'This license was deleted' });
    expect(await endedB).toEqual({ reason: 'license_deleted', message: 'This license was deleted' });
    expect(await removed).toEqual({ licenseId: license.id, tenantId: tenant.id });
    await sleep(1100); // node B's license cache
    const late = await connectAndAdmit(b.url, token);
    expect(late.result).toMatchObject({ kind: 'connect_error', message: 'license_not_found' });
  });

  it("rotates a tenant's token and a license's secret through one node; the other refuses the old ones", async () => {
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
    const { license, tenant } = await a.api.setup({ seats: 3 });
    const board = adminSocket(b.url, tenant.adminToken);
    await nextEvent(board, 'admin:snapshot');
    const letGo = nextEvent(board, 'disconnect');
    const rotated = await a.api.ok('POST', `/tenants/${tenant.id}/admin-token`);
    expect(await letGo).toBe('io server disconnect');
    expect((await b.api.as(tenant.adminToken).call('GET', '/licenses')).status).toBe(401);
    expect((await b.api.as(rotated.adminToken).call('GET', '/licenses')).status).toBe(200);

    await granted(b.url, await sign(license, { sid: 'warm-the-cache' }));
    const r = await a.api.ok('POST', `/licenses/${license.id}/secret`, { graceSec: 0 });
    await sleep(1100); // node B's license cache
    const old = await connectAndAdmit(b.url, await sign(license, { sid: 'old' }));
    expect(old.result).toMatchObject({ kind: 'connect_error', message: 'invalid_token' });
    await granted(b.url, await sign({ id: license.id, secret: r.secret }, { sid: 'new' }));
  });
});
