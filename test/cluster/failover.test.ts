// Three real server processes behind one PostgreSQL and one Redis, losing a node or a client's
// network: after kill -9 the dead node's seats go idle and expire while its clients resume on a
// survivor; a node taken for dead while alive lets its clients go and they resume; SIGTERM stops a
// node without losing a seat; a client whose network drops silently is let go after the ping
// timeout. The tests kill, stop and restart the shared nodes: their order matters.
import type { Socket } from 'socket.io-client';
import { expect, it, onTestFinished } from 'vitest';
import { granted, nextEvent, sign, sleep, until } from '../support/harness';
import { PostgresSeatStore } from '../../server/store/postgres-store';
import { describeWith } from '../support/services';
import { blackholeProxy, CLUSTER_TIMING, clusterMissing, collect, releasesOf, useCluster } from './cluster-support';

// Generous per-test limits: two cores may be shared with other suites and benchmarks.
describeWith(clusterMissing())('a cluster of three nodes: failover', { timeout: 90_000 }, () => {
  const { cluster } = useCluster();

  it('kill -9 of a node: its sessions go after liveness plus idle timeout, others are untouched, its clients resume on a survivor', async () => {
    const { nodes } = cluster;
    const [a, b, c] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]];
    const { license, admin } = await a.api.setup({ seats: 5, idleTimeoutSec: CLUSTER_TIMING.idleSec });
    const tok = (sid: string) => sign(license, { sid });
    const onlyC = await granted(c.url, await tok('only-c'));
    const movesToA = await granted(c.url, await tok('moves'));
    const onA = await granted(a.url, await tok('on-a'));
    const spread = [await granted(b.url, await tok('spread')), await granted(c.url, await tok('spread'))];
    const cDropped = nextEvent(movesToA.socket, 'disconnect');

    await c.kill9();
    const killedAt = Date.now();
    await cDropped;
    // The client reconnects through the load balancer to a survivor, and resumes its seat.
    const resumed = await granted(a.url, await tok('moves'));
    expect(resumed.grant).toMatchObject({ resumed: true, sessionId: movesToA.grant.sessionId, seatsInUse: 4 });

    const sessions = async () => (await admin.ok('GET', `/licenses/${license.id}/sessions`)).sessions as Array<{ id: string; state: string; sockets: number }>;
    await until(async () => !(await sessions()).some((x) => x.id === onlyC.grant.sessionId), 15_000, 50);
    const releasedAfter = Date.now() - killedAt;
    console.info(`[cluster] kill -9: the dead node's idle seat released ${releasedAfter} ms after the kill`);
    // Dead after NODE_TIMEOUT_MS (less up to one heartbeat), then held for the idle timeout.
    const { heartbeatMs, nodeTimeoutMs, idleSec } = CLUSTER_TIMING;
    expect(releasedAfter).toBeGreaterThanOrEqual(nodeTimeoutMs - heartbeatMs + idleSec * 1000 - 100);
    expect(releasedAfter).toBeLessThan(nodeTimeoutMs + idleSec * 1000 + 2500);
    await sleep(CLUSTER_TIMING.sweepMs * 3);
    expect(await releasesOf(cluster.databaseUrl, onlyC.grant.sessionId)).toBe(1);

    const left = await sessions();
    expect(left.find((x) => x.id === onA.grant.sessionId)).toMatchObject({ state: 'active', sockets: 1 });
    expect(left.find((x) => x.id === spread[0]!.grant.sessionId)).toMatchObject({ state: 'active', sockets: 1 });
    expect(left.find((x) => x.id === movesToA.grant.sessionId)).toMatchObject({ state: 'active', sockets: 1 });
    expect(left).toHaveLength(3);
    expect(onA.socket.connected && spread[0]!.socket.connected && resumed.socket.connected).toBe(true);
    expect((await b.api.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(3);

    // The node comes back under its id and serves again.
    const back = await cluster.restart(2);
    expect((await granted(back.url, await tok('only-c'))).grant.resumed).toBe(false);
  });

  it('a node taken for dead while alive lets its clients go, and they resume their seats', async () => {
    const { nodes } = cluster;
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
    const { license, admin } = await a.api.setup({ seats: 2, idleTimeoutSec: CLUSTER_TIMING.idleSec });
    const token = await sign(license, { sid: 'fenced' });
    const tab = await granted(b.url, token, { reconnection: true });
    tab.socket.io.reconnectionDelay(100).reconnectionDelayMax(300);
    const resumed = nextEvent(tab.socket, 'seat:granted', 8000);
    const dropped = nextEvent(tab.socket, 'disconnect', 5000);
    const ended = collect(tab.socket as unknown as Socket, 'session:ended');
    // What a survivor does when B misses its heartbeats (a stall, a partition): B's rows go.
    const survivor = PostgresSeatStore.open(cluster.databaseUrl, 1);
    onTestFinished(() => survivor.close());
    const since = Date.now();
    expect(await survivor.releaseNode('node-B', since)).toHaveLength(1);
    await dropped;
    // Told to reconnect on B's next beat, well before the idle seat could expire.
    expect(Date.now() - since).toBeLessThan(CLUSTER_TIMING.heartbeatMs * 4 + 500);
    expect(ended).toEqual([]);
    // The client's own reconnection (socket.io's, as the SDK uses it) takes the seat back.
    expect(await resumed).toMatchObject({ resumed: true, sessionId: tab.grant.sessionId });
    const back = tab;
    await sleep(CLUSTER_TIMING.idleSec * 1000 + 500);
    const { sessions } = await admin.ok('GET', `/licenses/${license.id}/sessions`);
    expect(sessions).toMatchObject([{ id: tab.grant.sessionId, state: 'active', sockets: 1 }]);
    expect(back.socket.connected).toBe(true);
  });

  it('SIGTERM: the node stops, its clients reconnect elsewhere and resume, nothing is lost', async () => {
    const { nodes } = cluster;
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
    const { license, admin } = await a.api.setup({ seats: 3, idleTimeoutSec: CLUSTER_TIMING.idleSec });
    const tok = (sid: string) => sign(license, { sid });
    const tabs = [await granted(b.url, await tok('g1')), await granted(b.url, await tok('g1')), await granted(b.url, await tok('g2'))];
    const stay = await granted(a.url, await tok('g3'));
    const dropped = tabs.map((t) => nextEvent(t.socket, 'disconnect'));
    const stopped = b.stop();
    await Promise.all(dropped);
    const back = [await granted(a.url, await tok('g1')), await granted(nodes[2]!.url, await tok('g2'))];
    expect(back[0]!.grant).toMatchObject({ resumed: true, sessionId: tabs[0]!.grant.sessionId });
    expect(back[1]!.grant).toMatchObject({ resumed: true, sessionId: tabs[2]!.grant.sessionId });
    await stopped;
    expect(b.child.exitCode).toBe(0);
    // Nothing double-counted, and the seats do not expire while their sockets are open.
    await sleep(CLUSTER_TIMING.idleSec * 1000 + 500);
    const { sessions } = await admin.ok('GET', `/licenses/${license.id}/sessions`);
    expect(sessions.map((x: { id: string; state: string }) => [x.id, x.state]).sort()).toEqual(
      [
        [tabs[0]!.grant.sessionId, 'active'],
        [tabs[2]!.grant.sessionId, 'active'],
        [stay.grant.sessionId, 'active'],
      ].sort(),
    );
    expect((await a.api.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(3);
    await cluster.restart(1);
  });

  it("a client's network dropping without a close: the node lets it go after the ping timeout, then the seat idles as usual", async () => {
    const { nodes } = cluster;
    const [a, b, c] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]];
    const { license, admin } = await a.api.setup({ seats: 3, idleTimeoutSec: CLUSTER_TIMING.idleSec });
    const proxy = await blackholeProxy(b.port);
    onTestFinished(() => proxy.close());
    const returns = await sign(license, { sid: 'returns' });
    const vanishes = await sign(license, { sid: 'vanishes' });
    const r = await granted(proxy.url, returns);
    const v = await granted(proxy.url, vanishes);
    const stay = await granted(a.url, await sign(license, { sid: 'stays' }));

    proxy.drop();
    const droppedAt = Date.now();
    const state = async (id: string) =>
      ((await admin.ok('GET', `/licenses/${license.id}/sessions`)).sessions as Array<{ id: string; state: string }>).find((x) => x.id === id)?.state;
    await until(async () => (await state(r.grant.sessionId)) === 'idle', 10_000, 50);
    const noticedAfter = Date.now() - droppedAt;
    console.info(`[cluster] silent client network: seat idle ${noticedAfter} ms after the drop`);
    const { pingIntervalMs, pingTimeoutMs, idleSec } = CLUSTER_TIMING;
    expect(noticedAfter).toBeLessThan(pingIntervalMs + pingTimeoutMs + 1500);

    // The client's network comes back (through another node): it resumes within the hold.
    const back = await granted(c.url, returns);
    expect(back.grant).toMatchObject({ resumed: true, sessionId: r.grant.sessionId });
    // The one that never comes back is released after the idle timeout, as any closed tab.
    await until(async () => (await state(v.grant.sessionId)) === undefined, 10_000, 50);
    expect(Date.now() - droppedAt).toBeGreaterThanOrEqual(idleSec * 1000);
    expect(Date.now() - droppedAt).toBeLessThan(pingIntervalMs + pingTimeoutMs + idleSec * 1000 + 2500);
    expect(await state(stay.grant.sessionId)).toBe('active');
    expect(stay.socket.connected).toBe(true);
  });
});
