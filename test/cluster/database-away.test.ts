// Three real server processes, each reaching PostgreSQL through a loopback proxy of its own, and
// the database away for longer than the node timeout, then back for one node before the others:
// down (connections cut and refused, so every beat fails), or silent (queries neither answered
// nor failed, as over a network that drops packets, so a beat is held but fails nothing). Either
// way every node's heartbeat is as old as the outage: the node that gets through first must not
// take the others for dead. And the database slow for one node only: its pool's connections all
// wait on a license's lock held elsewhere, for longer than the node timeout; its heartbeat must
// not wait behind them.
import pg from 'pg';
import { afterAll, expect, it, onTestFinished } from 'vitest';
import { connect, granted, sign, sleep, until } from '../support/harness';
import { describeWith } from '../support/services';
import { allAlive, type Blackhole, blackholeProxy, CLUSTER_TIMING, clusterMissing, useCluster } from './cluster-support';

// Generous per-test limits: two cores may be shared with other suites and benchmarks.
describeWith(clusterMissing())('a cluster of three nodes: the database away for a while, back for one node first', { timeout: 90_000 }, () => {
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

  /** Three seats, one tab on each node; `away` takes the database from every node and gives it back to the first node, then the others. */
  async function outage(tag: string, away: { from: (p: Blackhole) => void; back: (p: Blackhole) => void }, lastsMs: number) {
    const { nodes } = cluster;
    const { license, admin } = await nodes[0]!.api.setup({ seats: 3, idleTimeoutSec: 60 });
    const tabs = [];
    for (const [i, node] of nodes.entries()) tabs.push(await granted(node.url, await sign(license, { sid: `${tag}-${i}` })));

    for (const p of proxies) away.from(p);
    await sleep(lastsMs);
    away.back(proxies[0]!);
    // The first node gets through, its beats land, and it looks for dead nodes meanwhile.
    await sleep(CLUSTER_TIMING.heartbeatMs * 4);
    away.back(proxies[1]!);
    away.back(proxies[2]!);
    await sleep(CLUSTER_TIMING.nodeTimeoutMs + CLUSTER_TIMING.heartbeatMs * 4);
    // Back on every node (a refused connect's retry included) before the seats are read.
    await until(async () => (await Promise.all(nodes.map(async (n) => (await fetch(`${n.url}/healthz`)).status))).every((s) => s === 200), 15_000, 100);

    const { sessions } = await admin.ok('GET', `/licenses/${license.id}/sessions`);
    for (const tab of tabs) {
      expect(sessions.find((x: { id: string }) => x.id === tab.grant.sessionId)).toMatchObject({ state: 'active', sockets: 1 });
      expect(tab.socket.connected).toBe(true);
    }
    expect((await nodes[2]!.api.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(3);
    expect(allAlive(nodes)).toBe(true);
  }

  it('down past the node timeout (every beat fails), back on one node first: no node is taken for dead, no seat or socket lost', async () => {
    await outage('down', { from: (p) => p.down(), back: (p) => p.up() }, CLUSTER_TIMING.nodeTimeoutMs + 1000);
  });

  it('silent past the node timeout (beats held, none failed), back on one node first: no node is taken for dead, no seat or socket lost', async () => {
    // Shorter than a pool's wait for a connection (5 s), so no query fails: the beats are only held.
    await outage('silent', { from: (p) => p.hold(), back: (p) => p.pass() }, CLUSTER_TIMING.nodeTimeoutMs + 1000);
  });

  it("one node's pool all waiting on a license's lock past the node timeout: its heartbeat does not wait behind them, it is not taken for dead", async () => {
    const { nodes } = cluster;
    const b = nodes[1]!;
    const { license, admin } = await nodes[0]!.api.setup({ seats: 3, idleTimeoutSec: 60 });
    const tab = await granted(b.url, await sign(license, { sid: 'stays' }));
    const jammed = await nodes[0]!.api.setup({ seats: 50, idleTimeoutSec: 60 });

    // Another client holds the license's row lock: every admission to it on node B waits, each
    // on a connection of B's pool (PG_POOL_SIZE 5 in these suites), and more than the pool holds.
    const locker = new pg.Client({ connectionString: cluster.databaseUrl });
    await locker.connect();
    try {
      await locker.query('begin');
      await locker.query('select id from licenses where id = $1 for update', [jammed.license.id]);
      const waiting = await Promise.all(Array.from({ length: 8 }, async (_, i) => connect(b.url, await sign(jammed.license, { sid: `jam-${i}` }))));
      onTestFinished(() => waiting.forEach((s) => s.disconnect()));
      await sleep(CLUSTER_TIMING.nodeTimeoutMs + 1000);
      await locker.query('rollback');
    } finally {
      await locker.end();
    }
    await sleep(CLUSTER_TIMING.heartbeatMs * 4);

    const { sessions } = await admin.ok('GET', `/licenses/${license.id}/sessions`);
    expect(sessions.find((x: { id: string }) => x.id === tab.grant.sessionId)).toMatchObject({ state: 'active', sockets: 1 });
    expect(tab.socket.connected).toBe(true);
    expect(allAlive(nodes)).toBe(true);
  });
});
