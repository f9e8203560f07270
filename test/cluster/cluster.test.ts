// Many nodes: three real server processes behind one PostgreSQL and one Redis. Sessions and
// license rooms span the nodes; admissions never over-allocate; a dead node's seats go idle and
// expire; Redis and PostgreSQL outages neither crash a node nor grant a seat they should not.
import { io as ioClient, type Socket } from 'socket.io-client';
import { expect, it, onTestFinished } from 'vitest';
import {
  admission,
  closeSocket,
  connect,
  connectAndAdmit,
  granted,
  nextEvent,
  sign,
  sleep,
  until,
  type AppSocket,
  type Admission,
} from '../support/harness';
import { PostgresSeatStore } from '../../server/store/postgres-store';
import { describeWith } from '../support/services';
import { allAlive, blackholeProxy, CLUSTER_TIMING, clusterMissing, releasesOf, useCluster } from './cluster-support';

function adminSocket(url: string, token: string): Socket {
  const s = ioClient(`${url}/admin`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  onTestFinished(() => {
    s.disconnect();
  });
  return s;
}

/** Collects every event of one name a socket receives. */
function collect<T = any>(socket: Socket, event: string): T[] {
  const seen: T[] = [];
  socket.on(event, (p: T) => seen.push(p));
  return seen;
}

/** The admission outcome, or the `seat:error` a failed admission emits instead. */
async function admitOrError(url: string, token: string): Promise<{ socket: AppSocket; result: Admission | { kind: 'seat_error'; payload: unknown } }> {
  const socket = connect(url, token);
  const failed = new Promise<{ kind: 'seat_error'; payload: unknown }>((resolve) => socket.once('seat:error', (payload) => resolve({ kind: 'seat_error', payload })));
  return { socket, result: await Promise.race([admission(socket), failed]) };
}

// Generous per-test limits: two cores may be shared with other suites and benchmarks.
describeWith(clusterMissing())('a cluster of three nodes on PostgreSQL and Redis', { timeout: 90_000 }, () => {
  const { cluster, services } = useCluster();

  it('one portal session with sockets on all three nodes holds one seat until its last socket closes', async () => {
    const { nodes } = cluster;
    const [a, b, c] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]];
    const { license, admin, tenant } = await a.api.setup({ seats: 1, idleTimeoutSec: CLUSTER_TIMING.idleSec });
    const token = await sign(license, { sid: 'portal-1', sub: 'alice' });

    // A dashboard on C sees changes made on A and B.
    const board = adminSocket(c.url, tenant.adminToken);
    const sessionEvents = collect(board, 'admin:session');
    await nextEvent(board, 'admin:snapshot');

    const onA = await granted(a.url, token);
    const onB = await granted(b.url, token);
    const onC = await granted(c.url, token);
    expect(onA.grant).toMatchObject({ resumed: false, seatsInUse: 1, seats: 1 });
    expect(onB.grant).toMatchObject({ resumed: true, sessionId: onA.grant.sessionId, seatsInUse: 1 });
    expect(onC.grant).toMatchObject({ resumed: true, sessionId: onA.grant.sessionId, seatsInUse: 1 });
    await until(() => sessionEvents.length >= 3);
    expect(sessionEvents.map((e) => e.event)).toEqual(['granted', 'resumed', 'resumed']);

    // Another portal session is refused on every node.
    const other = await sign(license, { sid: 'portal-2', sub: 'bob' });
    for (const n of nodes) expect((await connectAndAdmit(n.url, other)).result.kind).toBe('denied');

    const sessionsOn = async (api: typeof admin) => (await api.ok('GET', `/licenses/${license.id}/sessions`)).sessions;
    for (const [sock, left] of [[onA.socket, 2], [onB.socket, 1]] as const) {
      await closeSocket(sock);
      // Every node answers the same: one active session, the seat still held.
      await until(async () => (await sessionsOn(admin.as(tenant.adminToken)))[0]?.sockets === left);
      for (const n of nodes) {
        const sessions = await sessionsOn(n.api.as(tenant.adminToken));
        expect(sessions).toHaveLength(1);
        expect(sessions[0]).toMatchObject({ state: 'active', sockets: left, id: onA.grant.sessionId });
        expect((await n.api.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(1);
      }
      expect((await connectAndAdmit(b.url, other)).result.kind).toBe('denied');
    }

    await closeSocket(onC.socket);
    const closedAt = Date.now();
    await until(async () => (await sessionsOn(b.api.as(tenant.adminToken)))[0]?.state === 'idle');
    await until(async () => (await a.api.ok('GET', `/licenses/${license.id}`)).seatsInUse === 0, 10_000);
    const heldFor = Date.now() - closedAt;
    console.info(`[cluster] idle seat released ${heldFor} ms after its last socket closed (idle timeout ${CLUSTER_TIMING.idleSec * 1000} ms)`);
    expect(heldFor).toBeGreaterThanOrEqual(CLUSTER_TIMING.idleSec * 1000 - 100);
    expect(heldFor).toBeLessThan(CLUSTER_TIMING.idleSec * 1000 + 1500);
    await until(() => sessionEvents.some((e) => e.event === 'idle'));
    // Three nodes sweep for expired seats: exactly one released it.
    await sleep(CLUSTER_TIMING.sweepMs * 3);
    expect(await releasesOf(cluster.databaseUrl, onA.grant.sessionId)).toBe(1);
    expect((await connectAndAdmit(b.url, other)).result.kind).toBe('granted');
  });

  it('a kick through node A reaches the session\'s sockets on B and C; an app-side end on B reaches A and C', async () => {
    const { nodes } = cluster;
    const [a, b, c] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]];
    const { license, admin, tenant } = await a.api.setup({ seats: 2 });
    const token = await sign(license, { sid: 'portal-k' });
    const tabs = [await granted(b.url, token), await granted(c.url, token), await granted(c.url, token)];
    const board = adminSocket(b.url, tenant.adminToken);
    await nextEvent(board, 'admin:snapshot');
    const removed = nextEvent(board, 'admin:session-removed');
    const ended = tabs.map((t) => nextEvent(t.socket, 'session:ended'));
    const gone = tabs.map((t) => nextEvent(t.socket, 'disconnect'));
    const reply = await admin.ok('DELETE', `/sessions/${tabs[0]!.grant.sessionId}`, { message: 'night shift' });
    expect(reply).toMatchObject({ reason: 'kicked', seatsInUse: 0 });
    for (const e of await Promise.all(ended)) expect(e).toEqual({ reason: 'kicked', message: 'night shift' });
    await Promise.all(gone);
    expect(await removed).toMatchObject({ sessionId: tabs[0]!.grant.sessionId, reason: 'kicked' });
    // The kicked key cools down on every node.
    expect((await connectAndAdmit(c.url, token)).result).toMatchObject({ kind: 'denied', payload: { reason: 'kicked' } });

    const app = await sign(license, { sid: 'portal-app' });
    const mine = [await granted(a.url, app), await granted(b.url, app), await granted(c.url, app)];
    const endedByApp = [mine[0]!, mine[2]!].map((t) => nextEvent(t.socket, 'session:ended'));
    const allGone = mine.map((t) => nextEvent(t.socket, 'disconnect'));
    expect(await mine[1]!.socket.timeout(5000).emitWithAck('session:end')).toEqual({ ok: true });
    for (const e of await Promise.all(endedByApp)) expect(e).toMatchObject({ reason: 'ended_by_app' });
    await Promise.all(allGone);
    expect((await c.api.as(tenant.adminToken).ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(0);
  });

  it('a storm of concurrent connects spread over the nodes never grants more than `seats`', async () => {
    const { nodes } = cluster;
    const seatKeys = [['session'], ['user', 'device'], ['instance'], ['device'], ['user']] as const;
    const seed = Date.now() % 100_000;
    let s = seed;
    const rand = (n: number) => ((s = (s * 1103515245 + 12345) % 2 ** 31), s % n);
    let totalGrants = 0;
    let totalDenials = 0;
    for (let round = 0; round < 10; round++) {
      const seats = 1 + rand(6);
      const seatKey = [...seatKeys[rand(seatKeys.length)]!];
      const { license, admin } = await nodes[round % 3]!.api.setup({ seats, seatKey, idleTimeoutSec: 60 });
      const people = Array.from({ length: 3 + rand(12) }, (_, i) => ({
        claims: { sid: `p${i % 7}`, sub: `u${i % 5}`, dev: `d${i % 4}`, ins: `i${i}`, weight: 1 + rand(3) },
      }));
      const tokens = await Promise.all(Array.from({ length: 36 }, () => sign(license, people[rand(people.length)]!.claims)));
      const results = await Promise.all(tokens.map((t, i) => admitOrError(nodes[i % nodes.length]!.url, t)));
      const context = `seed ${seed} round ${round} seats ${seats} seatKey ${seatKey.join('+')}`;
      const grants = results.filter((r) => r.result.kind === 'granted');
      for (const r of results) {
        expect(r.result, context).not.toHaveProperty('kind', 'connect_error');
        expect(r.result, context).not.toHaveProperty('kind', 'seat_error');
        if (r.result.kind === 'granted') expect(r.result.payload.seatsInUse, context).toBeLessThanOrEqual(seats);
      }
      // Held seats, counted from the sessions every node shows, never exceed `seats`.
      const { sessions } = await admin.ok('GET', `/licenses/${license.id}/sessions`);
      const held = sessions.reduce((n: number, x: { weight: number }) => n + x.weight, 0);
      expect(held, context).toBeLessThanOrEqual(seats);
      expect(new Set(grants.map((g) => (g.result as { payload: { sessionId: string } }).payload.sessionId)).size, context).toBe(sessions.length);
      for (const n of nodes) expect((await n.api.ok('GET', `/licenses/${license.id}`)).seatsInUse, context).toBe(held);
      totalGrants += grants.length;
      totalDenials += results.length - grants.length;
      await Promise.all(results.map((r) => closeSocket(r.socket)));
    }
    // The storm really contended: some connects won, some were refused.
    expect(totalGrants).toBeGreaterThan(0);
    expect(totalDenials).toBeGreaterThan(0);
    expect(allAlive(nodes)).toBe(true);
  });

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

  it('Redis stopped and restarted: no crash, no over-allocation, rooms span the nodes again', async () => {
    const { nodes } = cluster;
    const [a, , c] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]];
    const { license } = await a.api.setup({ seats: 2, idleTimeoutSec: 60 });
    const other = await a.api.setup({ seats: 1, idleTimeoutSec: 60 });
    const onC = await granted(c.url, await sign(other.license, { sid: 'kicked-in-outage' }));
    const told = nextEvent(onC.socket, 'session:ended', 10_000);
    const dropped = nextEvent(onC.socket, 'disconnect', 10_000);
    await services.redis.stop();
    // A kick on A while Redis is away: C finds its socket's session gone on its next beat.
    await other.admin.ok('DELETE', `/sessions/${onC.grant.sessionId}`);
    expect(await told).toMatchObject({ reason: 'kicked' });
    await dropped;
    // Seats are decided in PostgreSQL: the nodes still admit, and never beyond `seats`.
    const during = await Promise.all(
      Array.from({ length: 9 }, async (_, i) => admitOrError(nodes[i % 3]!.url, await sign(license, { sid: `r${i}` }))),
    );
    expect(during.filter((r) => r.result.kind === 'granted')).toHaveLength(2);
    expect(during.filter((r) => r.result.kind === 'denied')).toHaveLength(7);
    await sleep(500);
    await services.redis.start();
    expect(allAlive(nodes)).toBe(true);

    // After the restart a dashboard on C sees a session start on A again: only Redis carries
    // that (the adapter reconnected and resubscribed).
    for (const r of during) await closeSocket(r.socket);
    const watched = await a.api.setup({ seats: 100, idleTimeoutSec: 1 });
    const board = adminSocket(c.url, watched.tenant.adminToken);
    await nextEvent(board, 'admin:snapshot');
    const seen = collect<{ session: { id: string } }>(board, 'admin:session');
    let attempt = 0;
    await until(async () => {
      const tab = await granted(a.url, await sign(watched.license, { sid: `w${attempt++}` }));
      await sleep(500);
      await closeSocket(tab.socket);
      return seen.some((e) => e.session.id === tab.grant.sessionId);
    }, 20_000, 100);
    expect(allAlive(nodes)).toBe(true);
  });

  it('PostgreSQL stopped and restarted: connects get `unavailable`, never a grant; service returns without a restart', async () => {
    const { nodes } = cluster;
    const [a, b, c] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]];
    const { license, admin } = await a.api.setup({ seats: 2, idleTimeoutSec: 60 });
    const holder = await granted(b.url, await sign(license, { sid: 'holder' }));
    const holderTab = await granted(c.url, await sign(license, { sid: 'holder' }));

    // Stopped with queries in flight on every node: a failing connection must not end a process.
    const busy = await a.api.setup({ seats: 3, idleTimeoutSec: 1 });
    const barrage = Promise.all(
      Array.from({ length: 30 }, async (_, i) => admitOrError(nodes[i % 3]!.url, await sign(busy.license, { sid: `b${i}` }))),
    );
    await sleep(20);
    await services.pg.stop();
    const caught = await barrage;
    expect(caught.filter((r) => r.result.kind === 'granted').length).toBeLessThanOrEqual(3);
    for (const r of caught) await closeSocket(r.socket);
    expect(allAlive(nodes)).toBe(true);
    for (const n of nodes) {
      const r = await admitOrError(n.url, await sign(license, { sid: `x-${n.port}` }));
      expect(r.result).toMatchObject({ kind: 'connect_error', message: 'unavailable', data: { reason: 'unavailable' } });
      expect((await fetch(`${n.url}/healthz`)).status).toBe(503);
    }
    // A tab closes while the database is away: its disconnect must still reach the store later.
    await closeSocket(holderTab.socket);
    // Down for longer than the node timeout: on return, no node may take the others for dead.
    await sleep(CLUSTER_TIMING.nodeTimeoutMs + 1000);
    expect(allAlive(nodes)).toBe(true);
    await services.pg.start();

    await until(async () => (await fetch(`${a.url}/healthz`)).status === 200, 15_000, 100);
    await until(async () => {
      const r = await admitOrError(a.url, await sign(license, { sid: 'after' }));
      return r.result.kind === 'granted';
    }, 15_000, 200);
    expect((await connectAndAdmit(c.url, await sign(license, { sid: 'third' }))).result.kind).toBe('denied');
    // The seat held through the outage keeps its open socket (B is not taken for dead), and the
    // tab closed during the outage is gone from it.
    await sleep(CLUSTER_TIMING.nodeTimeoutMs + CLUSTER_TIMING.heartbeatMs * 2);
    const { sessions } = await admin.ok('GET', `/licenses/${license.id}/sessions`);
    expect(sessions.find((x: { id: string }) => x.id === holder.grant.sessionId)).toMatchObject({ state: 'active', sockets: 1 });
    expect(holder.socket.connected).toBe(true);
    expect((await b.api.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(2);
    expect(allAlive(nodes)).toBe(true);
  });
});
