// Per-license watching across nodes: a board on node B that watches a license hears its session
// events from sessions on node A (through Redis), and not those of the tenant's other license; a
// board that never watches still hears both.
import { expect, it } from 'vitest';
import { granted, nextEvent, sign, sleep } from '../support/harness';
import { describeWith } from '../support/services';
import { adminSocket, clusterMissing, collect, useCluster } from './cluster-support';

describeWith(clusterMissing())('a cluster of two nodes: boards watching one license', { timeout: 90_000 }, () => {
  const { cluster } = useCluster(2);

  it('sends a license’s session events to its watchers on every node, and other licenses’ only to boards that watch none', async () => {
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
    const { license: watched, admin, tenant } = await a.api.setup({ seats: 3 });
    const other = await admin.ok('POST', '/licenses', { seats: 3, idleTimeoutSec: 2 });

    const watcher = adminSocket(b.url, tenant.adminToken);
    const everything = adminSocket(b.url, tenant.adminToken);
    const watcherHeard = collect(watcher, 'admin:session');
    const allHeard = collect(everything, 'admin:session');
    await Promise.all([nextEvent(watcher, 'admin:snapshot'), nextEvent(everything, 'admin:snapshot')]);
    expect(await new Promise((resolve) => watcher.emit('admin:watch', { licenseId: watched.id }, resolve))).toEqual({ ok: true });

    await granted(a.url, await sign(other, { sid: 'o1' }));
    await granted(a.url, await sign(watched, { sid: 'w1' }));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && (allHeard.length < 2 || watcherHeard.length < 1)) await sleep(50);
    await sleep(300);
    expect(watcherHeard.map((c) => c.licenseId)).toEqual([watched.id]);
    expect(allHeard.map((c) => c.licenseId).sort()).toEqual([watched.id, other.id].sort());
  });
});
