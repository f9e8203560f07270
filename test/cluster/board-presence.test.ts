// Dashboards across nodes (server/realtime/board-presence.ts): a node publishes a change for the
// boards through Redis only while some node has a board that hears it. The test listens on the
// admin namespace's broadcast channels in Redis beside the nodes.
import { createClient } from 'redis';
import { expect, it } from 'vitest';
import { closeSocket, granted, nextEvent, sign, sleep, until } from '../support/harness';
import { describeWith } from '../support/services';
import { adminSocket, clusterMissing, collect, useCluster } from './cluster-support';

/** Counts what the nodes broadcast to `/admin` through Redis (the adapter's channels). */
async function adminBroadcasts(url: string) {
  const sub = createClient({ url });
  await sub.connect();
  let n = 0;
  await sub.pSubscribe('socket.io#/admin#*', () => n++, true);
  return { count: () => n, close: () => sub.quit() };
}

describeWith(clusterMissing())('a cluster of two nodes: changes reach the boards through Redis only while a board hears them', { timeout: 90_000 }, () => {
  const { services, cluster } = useCluster(2);

  it('publishes nothing for the boards while none is open; a board on the other node hears every change after its snapshot, its watch, and until it leaves', async () => {
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
    const { license, admin, tenant } = await a.api.setup({ seats: 50 });
    const other = await admin.ok('POST', '/licenses', { seats: 5 });
    const broadcasts = await adminBroadcasts(services.redis.url);
    try {
      for (let i = 0; i < 10; i++) await granted(a.url, await sign(license, { sid: `quiet-${i}` }));
      await sleep(300);
      expect(broadcasts.count()).toBe(0);

      // A board on B: once it has its snapshot, A's next change reaches it.
      const board = adminSocket(b.url, tenant.adminToken);
      const heard = collect(board, 'admin:session');
      await nextEvent(board, 'admin:snapshot');
      await granted(a.url, await sign(license, { sid: 'seen-1' }));
      await until(() => heard.length >= 1);
      expect(heard.map((c) => [c.event, c.session.sessionRef])).toEqual([['granted', 'seen-1']]);
      expect(broadcasts.count()).toBeGreaterThan(0);

      // Watching the other license: from its answer on, that license's sessions reach it, and this one's no longer do.
      expect(await new Promise((resolve) => board.emit('admin:watch', { licenseId: other.id }, resolve))).toEqual({ ok: true });
      await granted(a.url, await sign(other, { sid: 'seen-2' }));
      await until(() => heard.length >= 2);
      await granted(a.url, await sign(license, { sid: 'unheard' }));
      await sleep(300);
      expect(heard.map((c) => c.session.sessionRef)).toEqual(['seen-1', 'seen-2']);

      // The board leaves: once B has told A, A publishes nothing again.
      await closeSocket(board);
      await sleep(300);
      const before = broadcasts.count();
      for (let i = 0; i < 5; i++) await granted(a.url, await sign(license, { sid: `quiet-again-${i}` }));
      await sleep(300);
      expect(broadcasts.count()).toBe(before);
    } finally {
      await broadcasts.close();
    }
  });
});
