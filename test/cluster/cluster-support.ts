// Several real server processes (`server/main.ts`) behind one PostgreSQL and one Redis, with
// timeouts shrunk to seconds, for the cluster suites.
import { writeFileSync } from 'node:fs';
import pg from 'pg';
import type { Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { type Admission, admission, type AppSocket, connect, type Proc, startProcess } from '../support/harness';

export { adminSocket } from '../support/harness';
import { type Postgres, postgresMissing, type Redis, redisMissing, startPostgres, startRedis } from '../support/services';

/** Timeouts of every node in these suites (milliseconds unless named otherwise). */
export const CLUSTER_TIMING = {
  heartbeatMs: 250,
  nodeTimeoutMs: 1500,
  sweepMs: 200,
  idleSec: 2,
  pingIntervalMs: 1000,
  pingTimeoutMs: 1000,
};

export const clusterMissing = () => [postgresMissing(), redisMissing()];

export interface Services {
  pg: Postgres;
  redis: Redis;
}

export interface Cluster {
  databaseUrl: string;
  /** The running nodes, A, B, C…; a node replaced by `restart` takes its old place. */
  nodes: Proc[];
  env: Record<string, string>;
  /** Starts the node again under the same id (after kill9 or stop), in the same place. */
  restart(index: number): Promise<Proc>;
  /** Every node's output, for a failing test's message. */
  output(): string;
}

const nodeId = (i: number) => `node-${String.fromCharCode(65 + i)}`;

/** Environment of one node beside the shared one, made as the node starts (its index, the shared environment). */
export type NodeEnv = (index: number, env: Record<string, string>) => Promise<Record<string, string>>;

/**
 * One PostgreSQL, one Redis and `count` nodes for the whole file (a tsx process takes seconds to
 * start on two cores); tests share them and use their own licenses. `nodeEnv` adds to (or
 * replaces) a node's environment, on each start.
 */
export function useCluster(count = 3, extra: Record<string, string> = {}, nodeEnv?: NodeEnv): { services: Services; cluster: Cluster } {
  const services = {} as Services;
  const cluster = { nodes: [] as Proc[] } as Cluster;
  const all: Proc[] = [];
  beforeAll(async () => {
    const [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
    services.pg = pg;
    services.redis = redis;
    cluster.databaseUrl = await pg.createDatabase('cluster');
    cluster.env = {
      DATABASE_URL: cluster.databaseUrl,
      REDIS_URL: redis.url,
      HEARTBEAT_INTERVAL_MS: String(CLUSTER_TIMING.heartbeatMs),
      NODE_TIMEOUT_MS: String(CLUSTER_TIMING.nodeTimeoutMs),
      SWEEP_INTERVAL_MS: String(CLUSTER_TIMING.sweepMs),
      IDLE_TIMEOUT_MIN_SEC: '1',
      KICK_COOLDOWN_SEC: '1',
      PG_POOL_SIZE: '5',
      PING_INTERVAL_MS: String(CLUSTER_TIMING.pingIntervalMs),
      PING_TIMEOUT_MS: String(CLUSTER_TIMING.pingTimeoutMs),
      ...extra,
    };
    const launch = async (i: number) => {
      const own = (await nodeEnv?.(i, cluster.env)) ?? {};
      const p = await startProcess({ ...cluster.env, NODE_ID: nodeId(i), ...own }, { untilTestEnds: false });
      all.push(p);
      return p;
    };
    cluster.restart = async (i) => (cluster.nodes[i] = await launch(i));
    cluster.output = () => all.map((p, i) => `---- process ${i} (${p.url})\n${p.output()}`).join('\n');
    // Started together, as a deployment would: migrations must cope with racing nodes.
    cluster.nodes = await Promise.all(Array.from({ length: count }, (_, i) => launch(i)));
  }, 90_000);
  afterEach((ctx) => {
    // A failing test leaves every node's log beside the run, for the report.
    if (ctx.task.result?.state === 'fail' && process.env.CLUSTER_LOG) writeFileSync(process.env.CLUSTER_LOG, cluster.output());
  });
  afterAll(async () => {
    await Promise.allSettled(all.map((p) => p.kill9()));
    await Promise.allSettled([services.pg?.destroy(), services.redis?.destroy()]);
  });
  return { services, cluster };
}

/** Whether every node process is still running. */
export function allAlive(nodes: Proc[]): boolean {
  return nodes.every((n) => n.child.exitCode === null && n.child.signalCode === null);
}

export { type Blackhole, blackholeProxy } from '../support/blackhole';

/** How many times the store recorded the session's release (every node sweeps; one must win). */
export async function releasesOf(databaseUrl: string, sessionId: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(
      "select count(*) as n from seat_events where session_id = $1 and type = 'released'",
      [sessionId],
    );
    return Number(rows[0]!.n);
  } finally {
    await client.end();
  }
}

/** Collects every event of one name a socket receives. */
export function collect<T = any>(socket: Socket, event: string): T[] {
  const seen: T[] = [];
  socket.on(event, (p: T) => seen.push(p));
  return seen;
}

/** The admission outcome, or the `seat:error` a failed admission emits instead. */
export async function admitOrError(url: string, token: string): Promise<{ socket: AppSocket; result: Admission | { kind: 'seat_error'; payload: unknown } }> {
  const socket = connect(url, token);
  const failed = new Promise<{ kind: 'seat_error'; payload: unknown }>((resolve) => socket.once('seat:error', (payload) => resolve({ kind: 'seat_error', payload })));
  return { socket, result: await Promise.race([admission(socket), failed]) };
}
