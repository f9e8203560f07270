// The queue on three real nodes when one dies: its waiting sockets leave the queue once it is
// taken for dead (their places kept for a reconnect), and those waiting behind them on the other
// nodes are told their new places then, not at the queue's backstop. The backstop here comes
// every 10 s (five sweeps of 2 s), so only that word can reach them in time.
import { io } from 'socket.io-client';
import { expect, it, onTestFinished } from 'vitest';
import { type AppSocket, granted, nextEvent, sign } from '../support/harness';
import { describeWith } from '../support/services';
import { CLUSTER_TIMING, clusterMissing, useCluster } from './cluster-support';

function waiter(url: string, token: string): AppSocket {
  const socket: AppSocket = io(url, { auth: { token, queue: true }, transports: ['websocket'], reconnection: false, forceNew: true });
  onTestFinished(() => void socket.disconnect());
  return socket;
}

describeWith(clusterMissing())('a cluster of three nodes: the queue when a node dies', { timeout: 90_000 }, () => {
  const { cluster } = useCluster(3, { SWEEP_INTERVAL_MS: '2000' });

  it('kill -9 of the node of the head of the queue: the waiter behind it, on another node, is told it moved up once that node is taken for dead', async () => {
    const [a, b, c] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
    const { license, admin } = await a.api.setup({ seats: 1, queue: true, idleTimeoutSec: 60 });
    await granted(a.url, await sign(license, { sid: 'holder' }));
    const head = waiter(c.url, await sign(license, { sid: 'head' }));
    expect(await nextEvent(head, 'seat:queued')).toEqual({ position: 1, queueLength: 1 });
    const behind = waiter(b.url, await sign(license, { sid: 'behind' }));
    expect(await nextEvent(behind, 'seat:queued')).toEqual({ position: 2, queueLength: 2 });

    const moved = nextEvent(behind, 'seat:queued', CLUSTER_TIMING.nodeTimeoutMs + 4000);
    await c.kill9();
    const killedAt = Date.now();
    expect(await moved).toEqual({ position: 1, queueLength: 1 });
    console.info(`[cluster] queue: the waiter behind a dead node's was told it moved up ${Date.now() - killedAt} ms after the kill`);
    expect(await admin.ok('GET', `/licenses/${license.id}/queue`)).toMatchObject({ queueLength: 1, queue: [{ position: 1 }] });
    await cluster.restart(2);
  });
});
