// Reconnect storms. On one node: every socket's server is killed (SIGKILL) and started again on
// the same port and database. In a cluster: one of three nodes (PostgreSQL + Redis) is killed and
// its clients reconnect to the other two. Each is timed from the kill until every client that had
// a seat has it again, and the seats are checked against what is connected.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { type Lic, type Node, type Worker, OURS_ENV, closeAll, kill9, license, log, openAll, rest, seatsInUse, startFloor, startNode, startOurs, statusAll, stopNode } from './kit';
import { dist, round } from './stats';

type Status = Awaited<ReturnType<typeof statusAll>>;

/**
 * Connection attempts the kernel dropped because a listening socket's accept queue was full
 * (TcpExt ListenOverflows in /proc/net/netstat: the whole machine's, so the bench's own loopback
 * during a storm; null off Linux). A dropped attempt is sent again by the client's kernel after one,
 * then two, four, eight seconds: what a storm's slowest clients wait for when a server is slow to
 * accept.
 */
export function listenOverflows(): number | null {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n').filter((l) => l.startsWith('TcpExt:'));
    const [names, values] = lines.map((l) => l.trim().split(/\s+/));
    const at = names?.indexOf('ListenOverflows') ?? -1;
    return at > 0 && values?.[at] !== undefined ? Number(values[at]) : null;
  } catch {
    return null;
  }
}

/** Seconds from `since` until each socket of the tag was granted again: the storm's spread, not only its last. */
async function grantSpread(workers: Worker[], tag: string, since: number) {
  const ms = (await Promise.all(workers.map((w) => w.call<number[]>('grantTimes', { tag, since })))).flat();
  const d = dist(ms.map((x) => x / 1000));
  return { p50: d.p50, p99: d.p99, max: d.max };
}

/** Polls the tag until every one of `count` sockets was granted again since `since` (bounded). */
async function untilRegranted(workers: Worker[], tag: string, since: number, count: number, timeoutMs = 60_000): Promise<Status> {
  let s = await statusAll(workers, tag, since);
  const end = Date.now() + timeoutMs;
  while (s.regranted < count && Date.now() < end) {
    await sleep(200);
    s = await statusAll(workers, tag, since);
  }
  // Late grants (a socket granted twice) show up in the counts below, not in the time.
  await sleep(500);
  return statusAll(workers, tag, since);
}

export interface RestartStorm {
  workers: Worker[];
  n: number;
  dbFile: string;
  lic: Lic;
  ours: Node;
  floor: Node;
  /** With --profile: the restarted seat server profiles its whole life (start-up and the storm) here. */
  profileDir?: string;
}

/** The single-node storm; returns the section and the restarted servers. */
export async function restartStorm(a: RestartStorm): Promise<{ section: Record<string, unknown>; ours: Node; floor: Node }> {
  const { n, workers } = a;
  const res: Record<string, unknown> = { sockets: n };
  const nodes = { ours: a.ours, floor: a.floor };
  for (const kind of ['floor', 'ours'] as const) {
    let node = nodes[kind];
    log(`${kind}: reconnect storm of ${n}`);
    const o = await openAll(workers, { tag: 'storm', url: node.url, license: kind === 'ours' ? a.lic : undefined, prefix: `storm-${kind}`, count: n, concurrency: 32, reconnection: true });
    const heldBefore = kind === 'ours' ? await seatsInUse(node.url, a.lic) : undefined;
    const overflowsBefore = listenOverflows();
    const killedAt = Date.now();
    await kill9(node);
    const restartProfile = a.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(a.profileDir, 'storm-restart')}`] : [];
    node = kind === 'ours' ? await startOurs(a.dbFile, node.port, restartProfile) : await startFloor(node.port);
    const readyAt = Date.now();
    nodes[kind] = node;
    const s = await untilRegranted(workers, 'storm', killedAt, o.ok);
    const overflowsAfter = listenOverflows();
    const held = kind === 'ours' ? await seatsInUse(node.url, a.lic) : undefined;
    const spread = await grantSpread(workers, 'storm', killedAt);
    await closeAll(workers, 'storm');
    res[kind] = {
      connected: o.ok,
      failedToConnect: o.failed,
      restartSeconds: round((readyAt - killedAt) / 1000),
      ...(node.boot ? { restartBootMs: node.boot } : {}),
      secondsUntilAllResumed: s.regranted >= o.ok ? round((s.lastAt - killedAt) / 1000) : null,
      secondsAfterReadyUntilAllResumed: s.regranted >= o.ok ? round((s.lastAt - readyAt) / 1000) : null,
      regranted: s.regranted,
      secondsAfterKill: spread,
      listenOverflows: overflowsBefore === null || overflowsAfter === null ? null : overflowsAfter - overflowsBefore,
      ...(kind === 'ours'
        ? {
            sameSession: s.sameSession,
            resumedFlag: s.resumedFlag,
            denied: s.denied,
            seatsHeldBefore: heldBefore,
            seatsHeldAfter: held,
            overAllocated: Math.max(0, held! - o.ok),
            lost: o.ok - s.sameSession,
          }
        : {}),
    };
  }
  return { section: res, ...nodes };
}

/** The license's seats as the store has them: the counter, and its live sessions' count and weight. */
async function storeSeats(db: pg.Client, licenseId: string, deadNode: string) {
  const lic = await db.query<{ seats_in_use: number }>('select seats_in_use from licenses where id = $1', [licenseId]);
  const sessions = await db.query<{ n: string; weight: string | null; active: string }>(
    `select count(*) as n, sum(weight) as weight, count(*) filter (where state = 'active') as active from sessions where license_id = $1`,
    [licenseId],
  );
  const dead = await db.query<{ n: string }>('select count(*) as n from connections where node_id = $1 and license_id = $2', [deadNode, licenseId]);
  const row = sessions.rows[0]!;
  return { seatsInUse: lic.rows[0]!.seats_in_use, sessions: Number(row.n), activeSessions: Number(row.active), sessionWeight: Number(row.weight ?? 0), deadNodeConnections: Number(dead.rows[0]!.n) };
}

/**
 * Three seat nodes on one PostgreSQL and one Redis, `n` clients of one license spread over them;
 * node A is killed (SIGKILL) and its clients reconnect to B and C in turn. Nodes beat every
 * second and are declared dead after 5 s (NODE_TIMEOUT_MS), so the run also sees A's connection
 * rows reaped while its sessions live on elsewhere: the seats are checked in the store after the
 * storm and again after the reap.
 */
export async function clusterStorm(workers: Worker[], databaseUrl: string, redisUrl: string, n: number): Promise<Record<string, unknown>> {
  const env = { ...OURS_ENV, PORT: '0', DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, HEARTBEAT_INTERVAL_MS: '1000', NODE_TIMEOUT_MS: '5000' };
  const ids = ['storm-a', 'storm-b', 'storm-c'];
  log('cluster storm: starting nodes A, B and C');
  const started = await Promise.allSettled(ids.map((id) => startNode('ours', { ...env, NODE_ID: id })));
  const up = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    for (const r of started) if (r.status === 'rejected') throw r.reason;
    const [a, b, c] = up as [Node, Node, Node];
    const tenant = await rest<{ id: string }>(a.url, 'POST', '/tenants', { name: 'bench-cluster-storm' });
    // Twice the seats needed: a reconnect granted a new session instead of resuming its own shows as over-allocated.
    const lic = await license(a.url, tenant.id, { seats: n * 2, idleTimeoutSec: 120 });
    const opened = [];
    for (const [i, node] of up.entries()) {
      const count = Math.floor(n / 3) + (i < n % 3 ? 1 : 0);
      log(`cluster storm: ${count} clients on node ${'ABC'[i]}`);
      opened.push(await openAll(workers, { tag: `cstorm-${i}`, url: node.url, license: lic, prefix: `cstorm-${i}`, count, concurrency: 32, reconnection: true }));
    }
    const connected = opened.reduce((x, o) => x + o.ok, 0);
    const before = await storeSeats(db, lic.id, ids[0]!);
    await Promise.all(workers.map((w) => w.call('failover', { tag: 'cstorm-0', to: [b.url, c.url] })));
    log(`cluster storm: kill -9 node A (${opened[0]!.ok} clients)`);
    const killedAt = Date.now();
    await kill9(a);
    const s = await untilRegranted(workers, 'cstorm-0', killedAt, opened[0]!.ok);
    const spread = await grantSpread(workers, 'cstorm-0', killedAt);
    const afterStorm = await storeSeats(db, lic.id, ids[0]!);
    // B and C declare A dead and drop its connection rows; its sessions, resumed on B and C, stay.
    const reapEnd = Date.now() + 30_000;
    let afterReap = afterStorm;
    while (afterReap.deadNodeConnections > 0 && Date.now() < reapEnd) {
      await sleep(500);
      afterReap = await storeSeats(db, lic.id, ids[0]!);
    }
    const reapedAt = afterReap.deadNodeConnections === 0 ? Date.now() : null;
    await sleep(1000);
    afterReap = await storeSeats(db, lic.id, ids[0]!);
    const others = await Promise.all([1, 2].map((i) => statusAll(workers, `cstorm-${i}`, killedAt)));
    const stillConnected = s.connected + others.reduce((x, o) => x + o.connected, 0);
    const seatsHeldAfter = Math.max(afterStorm.seatsInUse, afterReap.seatsInUse);
    for (let i = 0; i < 3; i++) await closeAll(workers, `cstorm-${i}`);
    return {
      sockets: n,
      nodes: 3,
      connected,
      failedToConnect: opened.reduce((x, o) => x + o.failed, 0),
      onKilledNode: opened[0]!.ok,
      secondsUntilAllResumed: s.regranted >= opened[0]!.ok ? round((s.lastAt - killedAt) / 1000) : null,
      regranted: s.regranted,
      secondsAfterKill: spread,
      sameSession: s.sameSession,
      resumedFlag: s.resumedFlag,
      denied: s.denied,
      // Clients of B and C that lost their socket meanwhile (they should not notice A's death).
      othersDisconnected: others.reduce((x, o) => x + o.unexpectedDisconnects, 0),
      stillConnected,
      store: { before, afterStorm, afterReap },
      // When A's connection rows were seen gone (polled every 0.5 s; A is declared dead after 5 s).
      secondsUntilReaped: reapedAt === null ? null : round((reapedAt - killedAt) / 1000),
      overAllocated: Math.max(0, seatsHeldAfter - connected, afterReap.sessions - connected),
      lost: opened[0]!.ok - s.sameSession + Math.max(0, connected - afterReap.sessions) + Math.max(0, connected - stillConnected),
    };
  } finally {
    await db.end();
    await Promise.all(up.map(stopNode));
  }
}
