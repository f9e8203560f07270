// Three real server processes behind one PostgreSQL and one Redis: a session and a license's room
// span the nodes (one seat for a portal session with sockets on every node, a kick or an app-side
// end on one node reaching the others), and a storm of connects over the nodes never
// over-allocates.
import pg from 'pg';
import { expect, it } from 'vitest';
import { closeSocket, connectAndAdmit, granted, nextEvent, sign, sleep, until } from '../support/harness';
import { describeWith } from '../support/services';
import { adminSocket, admitOrError, allAlive, CLUSTER_TIMING, clusterMissing, collect, releasesOf, useCluster } from './cluster-support';

// Generous per-test limits: two cores may be shared with other suites and benchmarks.
describeWith(clusterMissing())('a cluster of three nodes: sessions across nodes', { timeout: 90_000 }, () => {
  const { cluster } = useCluster();

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

  it("a license's sockets closing together on one node go idle in shared transactions, each session with its own deadline", async () => {
    const a = cluster.nodes[0]!;
    const { license, admin } = await a.api.setup({ seats: 40, idleTimeoutSec: 60 });
    const held = [];
    for (let i = 0; i < 30; i++) held.push(await granted(a.url, await sign(license, { sid: `close-${i}` })));
    // Closed at once: the node reads the closes together and its detaches of the license gather.
    for (const h of held) h.socket.disconnect();
    const sessionsOf = async () => (await admin.ok('GET', `/licenses/${license.id}/sessions`)).sessions as Array<{ state: string; expiresAt: string | null }>;
    await until(async () => (await sessionsOf()).filter((x) => x.state === 'idle').length === 30);
    for (const x of await sessionsOf()) expect(Date.parse(x.expiresAt!)).toBeGreaterThan(Date.now() + 50_000);
    expect((await a.api.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(30);
    // Each idle event was written by the transaction that idled its session: fewer transactions than sessions.
    const client = new pg.Client({ connectionString: cluster.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ events: string; transactions: string }>(
        "select count(*) as events, count(distinct xmin::text) as transactions from seat_events where license_id = $1 and type = 'idle'",
        [license.id],
      );
      expect(Number(rows[0]!.events)).toBe(30);
      expect(Number(rows[0]!.transactions)).toBeLessThan(30);
    } finally {
      await client.end();
    }
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
});
