// The queue on boards across two real nodes (PostgreSQL, Redis): a client queued on node A shows
// on a board watching node B with its position, and when a release on node B grants it the seat,
// the board on A sees the queue empty. Both nodes' REST reads agree.
import { io } from 'socket.io-client';
import { expect, it, onTestFinished } from 'vitest';
import { type AppSocket, granted, nextEvent, sign, until } from '../support/harness';
import { describeWith } from '../support/services';
import { adminSocket, clusterMissing, useCluster } from '../cluster/cluster-support';

function waiter(url: string, token: string): AppSocket {
  const socket: AppSocket = io(url, { auth: { token, queue: true }, transports: ['websocket'], reconnection: false, forceNew: true });
  onTestFinished(() => void socket.disconnect());
  return socket;
}

describeWith(clusterMissing())('the queue on boards across two nodes', { timeout: 90_000 }, () => {
  const { cluster } = useCluster(2);

  it('a client queued on one node shows on a board of the other, and leaves it when granted there', async () => {
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
    const { license, admin, tenant } = await a.api.setup({ seats: 1, queue: true });
    const holder = await granted(b.url, await sign(license, { sid: 'holder' }));
    const boardB = adminSocket(b.url, tenant.adminToken);
    await nextEvent(boardB, 'admin:snapshot');
    const boardA = adminSocket(a.url, tenant.adminToken);
    await nextEvent(boardA, 'admin:snapshot');
    const onB: any[] = [];
    boardB.on('admin:queue', (q: any) => onB.push(q));
    const onA: any[] = [];
    boardA.on('admin:queue', (q: any) => onA.push(q));

    const w = waiter(a.url, await sign(license, { sid: 'w', sub: 'wes', name: 'Wes' }));
    expect(await nextEvent(w, 'seat:queued')).toEqual({ position: 1, queueLength: 1 });
    await until(() => onB.some((q) => q.queueLength === 1));
    expect(onB.find((q) => q.queueLength === 1)).toMatchObject({ licenseId: license.id, queue: [{ position: 1, userId: 'wes', name: 'Wes' }] });
    expect((await b.api.as(tenant.adminToken).ok('GET', `/licenses/${license.id}/queue`)).queue.map((q: any) => q.userId)).toEqual(['wes']);

    // The holder on B ends: B's transaction grants the seat to the socket on A; both boards see the queue empty.
    const grant = nextEvent(w, 'seat:granted');
    await holder.socket.timeout(5000).emitWithAck('session:end');
    await grant;
    await until(() => onA.at(-1)?.queueLength === 0 && onB.at(-1)?.queueLength === 0);
    expect(onA.at(-1)).toEqual({ licenseId: license.id, queueLength: 0, queue: [] });
    expect((await admin.ok('GET', `/licenses/${license.id}/queue`)).queueLength).toBe(0);
  });
});
