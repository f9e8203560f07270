// Three real server processes, each reaching PostgreSQL through a loopback proxy of its own, and
// the database going silent (queries neither answered nor failed, as over a network that drops
// packets) for longer than the node timeout, then answering one node before the others. A beat
// held that long fails no query, yet every node's heartbeat is as old as the silence: the node
// that hears back first must not take the others for dead.
import { afterAll, expect, it } from 'vitest';
import { granted, sign, sleep } from '../support/harness';
import { describeWith } from '../support/services';
import { allAlive, type Blackhole, blackholeProxy, CLUSTER_TIMING, clusterMissing, useCluster } from './cluster-support';

// Generous per-test limits: two cores may be shared with other suites and benchmarks.
describeWith(clusterMissing())('a cluster of three nodes: the database silent for a while', { timeout: 90_000 }, () => {
  const proxies: Blackhole[] = [];
  const { cluster } = useCluster(3, {}, async (i, env) => {
    const url = new URL(env.DATABASE_URL!);
    const proxy = (proxies[i] ??= await blackholeProxy(Number(url.port)));
    url.port = String(proxy.port);
    return { DATABASE_URL: url.toString() };
  });
  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.close()));
  });

  it('silent past the node timeout, back on one node first: no node is taken for dead, no seat or socket lost', async () => {
    const { nodes } = cluster;
    const { license, admin } = await nodes[0]!.api.setup({ seats: 3, idleTimeoutSec: 60 });
    const tabs = [];
    for (const [i, node] of nodes.entries()) tabs.push(await granted(node.url, await sign(license, { sid: `on-${i}` })));

    for (const p of proxies) p.hold();
    // Longer than the node timeout, shorter than a pool's wait for a connection (5 s), so no
    // query fails: the beats are only held.
    await sleep(CLUSTER_TIMING.nodeTimeoutMs + 1000);
    proxies[0]!.pass();
    // The first node hears back, its held beats land, and it looks for dead nodes meanwhile.
    await sleep(CLUSTER_TIMING.heartbeatMs * 4);
    proxies[1]!.pass();
    proxies[2]!.pass();
    await sleep(CLUSTER_TIMING.nodeTimeoutMs + CLUSTER_TIMING.heartbeatMs * 4);

    const { sessions } = await admin.ok('GET', `/licenses/${license.id}/sessions`);
    for (const tab of tabs) {
      expect(sessions.find((x: { id: string }) => x.id === tab.grant.sessionId)).toMatchObject({ state: 'active', sockets: 1 });
      expect(tab.socket.connected).toBe(true);
    }
    expect((await nodes[2]!.api.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(3);
    expect(allAlive(nodes)).toBe(true);
  });
});
