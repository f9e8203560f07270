// The burst of idle releases on a PostgreSQL node (issue 14: 10,000 seats falling due within a
// second, release lateness p99 ≤ 500 ms on SQLite and on PostgreSQL). One node configured as the
// README's cluster section says (PostgreSQL + Redis); its sockets connect to one license with a
// one-second idle timeout, then all close at once, and the node reports how late after each
// seat's deadline its release came, as the ramp's burst row does on SQLite.
import { type Node, type Worker, OURS_ENV, closeAll, license, log, openAll, rest, startNode, stopNode, waitSeatsFree } from './kit';
import { dist, round } from './stats';

export async function postgresBurst(workers: Worker[], databaseUrl: string, redisUrl: string, n: number, inFlight: number, profileFile?: string): Promise<Record<string, unknown>> {
  log('postgres burst: starting a node on PostgreSQL');
  const node: Node = await startNode('ours', { ...OURS_ENV, PORT: '0', DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, NODE_ID: 'burst-a' });
  try {
    const tenant = await rest<{ id: string }>(node.url, 'POST', '/tenants', { name: 'bench-postgres-burst' });
    const lic = await license(node.url, tenant.id, { seats: n * 2, idleTimeoutSec: 1 });
    log(`postgres burst: ${n} sockets, ${inFlight * workers.length} in flight`);
    const o = await openAll(workers, { tag: 'pg-burst', url: node.url, license: lic, prefix: 'pg-burst', count: n, concurrency: inFlight });
    await node.call('lateness');
    await node.call('deadlines');
    log(`postgres burst: ${o.ok} sockets close at once`);
    if (profileFile) await node.call('profileStart');
    const closedAt = Date.now();
    const unexpected = await closeAll(workers, 'pg-burst');
    const freed = await waitSeatsFree(node.url, lic, 120_000);
    const releasedAt = Date.now();
    if (profileFile) await node.call('profileStop', profileFile);
    const lateness = await node.call<number[]>('lateness');
    const due = await node.call<{ first: number; last: number } | null>('deadlines');
    return {
      sockets: n,
      connected: o.ok,
      connectsPerSec: round(o.perSec),
      unexpectedDisconnects: unexpected,
      allReleased: freed,
      released: lateness.length,
      secondsUntilAllReleased: freed ? round((releasedAt - closedAt) / 1000) : null,
      releaseLatenessMs: dist(lateness),
      deadlineSpreadMs: due ? due.last - due.first : null,
    };
  } finally {
    await stopNode(node);
  }
}
