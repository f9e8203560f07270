// `npm run bench [-- --quick | --smoke | --scale]`: the seat server against a bare socket.io floor, both
// driven by the same load processes over loopback. Prints a table and writes JSON and Markdown
// under bench/results/. Every phase is bounded in sockets and time; the run stops by itself.
// Where the machine has them, a throwaway PostgreSQL and redis-server serve the PostgreSQL store
// figures, a two-node cluster for the cross-node kick and a three-node one for the cluster storm;
// without them those rows say why not.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { type Postgres, postgresMissing, redisMissing, startPostgres, startRedis } from '../test/support/throwaway-services';
import {
  type Commits,
  KiB,
  type Lic,
  type Node,
  OURS_ENV,
  ROOT,
  T0,
  type Worker,
  buildNodes,
  children,
  closeAll,
  transactionsPerCommit,
  firstLine,
  kickAll,
  license,
  log,
  openAll,
  rest,
  seatsInUse,
  startFloor,
  startNode,
  startOurs,
  pinServers,
  startWorkers,
  stopNode,
  tempDirs,
  throwaway,
  track,
  waitSeatsFree,
} from './kit';
import type { Memory, ThreadCpu } from './node-memory';
import { type BenchReport, machineInfo, printTable, writeReport } from './report';
import { scalePhase } from './scale';
import { type PerfSplit, perfMissing, perfRecord, splitPerfScript } from './perf-split';
import { dist, round } from './stats';
import { storeThroughput } from './store-bench';
import { postgresBurst } from './postgres-burst';
import { clusterStorm, restartStorm } from './storms';

// PostgreSQL's store runs fewer operations than SQLite's (each a round trip to another process,
// a few thousand a second here against SQLite's tens of thousands). Storms: issue 14's targets
// are for 10,000 clients.
export const SIZES = {
  full: { policySockets: 3000, policyRounds: 5, rampSockets: 10_000, rampRounds: 4, rampInFlight: 64, rate: 100, rateSec: 10, kicks: 500, idleSockets: 1000, stormSockets: 10_000, clusterStormSockets: 10_000, storeOps: 10_000, pgStoreOps: 2000, crossNodeKicks: 500, slowHookEvents: 400 },
  quick: { policySockets: 1500, policyRounds: 3, rampSockets: 2000, rampRounds: 1, rampInFlight: 64, rate: 100, rateSec: 3, kicks: 100, idleSockets: 300, stormSockets: 1000, clusterStormSockets: 3000, storeOps: 5000, pgStoreOps: 500, crossNodeKicks: 100, slowHookEvents: 160 },
  smoke: { policySockets: 100, policyRounds: 1, rampSockets: 300, rampRounds: 1, rampInFlight: 32, rate: 100, rateSec: 2, kicks: 30, idleSockets: 50, stormSockets: 100, clusterStormSockets: 150, storeOps: 1000, pgStoreOps: 100, crossNodeKicks: 20, slowHookEvents: 24 },
} as const;
export type Mode = keyof typeof SIZES;

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    smoke: { type: 'boolean', default: false },
    /** The scale table instead of the usual phases (bench/scale.ts); with --smoke, a tiny one. */
    scale: { type: 'boolean', default: false },
    out: { type: 'string', default: path.join(ROOT, 'bench/results') },
    workers: { type: 'string', default: '3' },
    sockets: { type: 'string' },
    'storm-sockets': { type: 'string' },
    'cluster-storm-sockets': { type: 'string' },
    profile: { type: 'boolean', default: false },
    /** What each server allocates per connect during the ramp (V8's sampling heap profiler; it adds CPU). */
    alloc: { type: 'boolean', default: false },
    'heap-snapshot': { type: 'boolean', default: false },
    /**
     * The ramp license's idle timeout (1 s unless given): the burst release row measures lateness
     * against it, so a longer one shows how much of the lateness is the close burst's own work.
     */
    'ramp-idle-sec': { type: 'string', default: '1' },
    /** Ramps per server (4 in a full run, else 1): the first, and the median of the later ones, for the CPU and connects/s rows. */
    'ramp-rounds': { type: 'string' },
    pg: { type: 'string', default: process.env.BENCH_PG_URL },
    only: { type: 'string' },
    /**
     * Where each server's CPU goes during its last ramp, by part (bench/perf-split.ts): Linux perf
     * records both servers, which run with `--perf-basic-prof`.
     */
    perf: { type: 'boolean', default: false },
    /** Servers on the first CPU, the load processes and the driver on the others (kit.ts, `pinServers`). */
    pin: { type: 'boolean', default: false },
  },
});
/** `--only storm,store`: run just these phases (for profiling one; the report lacks the rest). */
const PHASES = ['rate', 'ramp', 'kick', 'idle', 'policies', 'storm', 'cluster', 'cluster-storm', 'pg-burst', 'store'] as const;
const only = args.only?.split(',').map((p) => p.trim());
for (const p of only ?? []) if (!(PHASES as readonly string[]).includes(p)) throw new Error(`--only: no phase "${p}" (phases: ${PHASES.join(', ')})`);
const want = (phase: (typeof PHASES)[number]) => !only || only.includes(phase);
const mode: Mode = args.smoke ? 'smoke' : args.quick ? 'quick' : 'full';
const size = {
  ...SIZES[mode],
  ...(args.sockets ? { rampSockets: Number(args.sockets) } : {}),
  ...(args['ramp-rounds'] ? { rampRounds: Math.max(1, Number(args['ramp-rounds'])) } : {}),
  ...(args['storm-sockets'] ? { stormSockets: Number(args['storm-sockets']) } : {}),
  ...(args['cluster-storm-sockets'] ? { clusterStormSockets: Number(args['cluster-storm-sockets']) } : {}),
};
const WORKERS = Math.max(1, Number(args.workers));
const outDir = path.resolve(args.out!);
const profileDir = path.join(outDir, 'profiles');


/** With --profile, a CPU profile of each server for each phase, in bench/results/profiles/. */
async function profiled<T>(node: Node, phase: string, fn: () => Promise<T>): Promise<T> {
  if (!args.profile) return fn();
  await node.call('profileStart');
  try {
    return await fn();
  } finally {
    await node.call('profileStop', path.join(profileDir, `${node.kind}-${phase}.cpuprofile`));
  }
}

// ---- throwaway services and the cluster ----


async function throwawayPostgres(): Promise<Postgres> {
  const pg = await startPostgres({ onSpawn: track });
  tempDirs.add(pg.dir);
  return pg;
}

/**
 * Two seat servers configured as README's cluster section says (one PostgreSQL, one Redis, their
 * own NODE_ID); `count` sessions on node B are kicked through node A's REST API, each timed from
 * the request until the client on B has `session:ended`.
 */
async function crossNodeKick(workers: Worker[], databaseUrl: string, redisUrl: string, count: number) {
  const env = { ...OURS_ENV, PORT: '0', DATABASE_URL: databaseUrl, REDIS_URL: redisUrl };
  log('cluster: starting nodes A and B');
  const started = await Promise.allSettled(['bench-a', 'bench-b'].map((id) => startNode('ours', { ...env, NODE_ID: id })));
  const up = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  try {
    for (const r of started) if (r.status === 'rejected') throw r.reason;
    const [a, b] = up as [Node, Node];
    const tenant = await rest<{ id: string }>(a.url, 'POST', '/tenants', { name: 'bench-cluster' });
    const lic = await license(a.url, tenant.id, { seats: 1_000_000, idleTimeoutSec: 1 });
    // Fresh nodes: their first kicks pay for the first HTTP connection, the first run of the kick
    // path and new pool connections (76-222 ms each here). A few unmeasured kicks first, so the
    // figure is a node's steady state; the first kicks' cost is in the README.
    const warm = Math.min(20, count);
    const w = await openAll(workers, { tag: 'cross-kick-warm', url: b.url, license: lic, prefix: 'cross-kick-warm', count: warm, concurrency: 16 });
    await kickAll(workers, 'cross-kick-warm', a.url, warm, w.errors);
    await closeAll(workers, 'cross-kick-warm');
    log(`cluster: ${count} sessions on node B, kicked through node A (after ${warm} unmeasured)`);
    const o = await openAll(workers, { tag: 'cross-kick', url: b.url, license: lic, prefix: 'cross-kick', count, concurrency: 16 });
    const seatsHeldBeforeKicks = await seatsInUse(a.url, lic);
    const kicked = await kickAll(workers, 'cross-kick', a.url, count, o.errors);
    await closeAll(workers, 'cross-kick');
    return { kicks: count, sessionsOn: 'node B', kickedThrough: 'node A', ...kicked, seatsHeldBeforeKicks, seatsHeldAfterKicks: await seatsInUse(b.url, lic) };
  } finally {
    await Promise.all(up.map(stopNode));
  }
}

// ---- phases ----

/**
 * A receiver for the policies phase's webhooks: answers 204, at once or after `delayMs`, and counts
 * the events it was sent (a batch's body is an array of them). While `held()`, it answers 503 at
 * once and counts nothing (the events wait in the outbox for the retry).
 */
async function webhookReceiver(
  delayMs = 0,
  held: () => boolean = () => false,
): Promise<{ url: string; hits: () => number; span: () => { first: number; last: number; firstEvents: number }; close: () => void }> {
  let hits = 0;
  let first = 0;
  let firstEvents = 0;
  let last = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (held()) return void res.writeHead(503).end();
      const body = Buffer.concat(chunks);
      const events = body[0] === 0x5b ? (JSON.parse(body.toString()) as unknown[]).length : 1;
      const answer = () => {
        if (hits === 0) [first, firstEvents] = [performance.now(), events];
        hits += events;
        last = performance.now();
        res.writeHead(204).end();
      };
      if (delayMs > 0) setTimeout(answer, delayMs);
      else answer();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/`, hits: () => hits, span: () => ({ first, last, firstEvents }), close: () => server.close() };
}

/** The median of a non-empty list. */
const median = (values: number[]): number => {
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
};

/** The batch size of the batched webhook passes: the most events one request may carry. */
const WEBHOOK_BATCH = 100;

/**
 * Connect CPU on licenses with each policy, against a plain license. Passes run in rounds, the
 * plain and policy passes in a rotated order each round (the webhook pass last: its deliveries go
 * on after it, and the next round waits for them), and each variant's figure is the median of its
 * passes: the first passes of a process cost more (JIT, heap growth), and a lone pass can catch a
 * checkpoint or a major collection.
 */
async function policiesPhase(ours: Node, workers: Worker[], tenantId: string): Promise<Record<string, unknown>> {
  const n = size.policySockets;
  const receiver = await webhookReceiver();
  const hooked = await rest<{ id: string; adminToken: string }>(ours.url, 'POST', '/tenants', { name: 'bench-webhooks' });
  const variants: Array<[string, Record<string, unknown>, string?]> = [
    ['plain', {}],
    ['inactivity', { inactivityTimeoutSec: 3600, inactivityWarningSec: 60 }],
    ['queue', { queue: true }],
    ['reservations', { reservations: [{ group: 'night', seats: 100 }], groupLimits: [{ group: 'temps', max: 100 }] }],
    ['webhooks', {}, hooked.id],
    ['webhooks-batched', {}, hooked.id],
  ];
  const out: Record<string, unknown> = { sockets: n, inFlight: size.rampInFlight * workers.length, rounds: size.policyRounds, webhookBatch: WEBHOOK_BATCH };
  const passes = new Map<string, Array<{ cpuMs: number; systemMs: number; ok: number; failed: number; errors: Record<string, number>; perSec: number }>>();
  let expectedHits = 0;
  const hooks = ['webhooks', 'webhooks-batched'];
  try {
    const licenses = new Map<string, Lic>();
    for (const [name, fields, tenant] of variants) {
      const lic = await license(ours.url, tenant ?? tenantId, { seats: 1_000_000, idleTimeoutSec: 1, ...fields });
      const batchSize = name === 'webhooks-batched' ? WEBHOOK_BATCH : 1;
      if (tenant) await rest(ours.url, 'POST', '/webhooks', { url: receiver.url, events: ['session.started', 'session.ended'], licenseId: lic.id, batchSize });
      licenses.set(name, lic);
    }
    const pass = async (name: string, lic: Lic, tag: string) => {
      log(`ours: ${n} connects to a license with ${name} (${tag})`);
      const cpuBefore = await ours.call<NodeJS.CpuUsage>('cpuSplit');
      // What the grants set going (activity flushes, webhook deliveries) counts too, in the profile as well.
      const o = await profiled(ours, `policies-${tag}`, async () => {
        const opened = await openAll(workers, { tag: `pol-${tag}`, url: ours.url, license: lic, prefix: `pol-${tag}`, count: n, concurrency: size.rampInFlight });
        await sleep(1000);
        return opened;
      });
      const cpuAfter = await ours.call<NodeJS.CpuUsage>('cpuSplit');
      const systemMs = (cpuAfter.system - cpuBefore.system) / 1000;
      const cpuMs = (cpuAfter.user - cpuBefore.user) / 1000 + systemMs;
      await closeAll(workers, `pol-${tag}`);
      await waitSeatsFree(ours.url, lic, 60_000);
      if (hooks.includes(name)) {
        // Each connect is delivered twice (session.started, then session.ended on release): the
        // next pass waits for all of it.
        const deadline = Date.now() + 60_000;
        while (receiver.hits() < expectedHits + 2 * o.ok && Date.now() < deadline) await sleep(100);
      }
      return { cpuMs: cpuMs / Math.max(1, o.ok), systemMs: systemMs / Math.max(1, o.ok), ok: o.ok, failed: o.failed, errors: o.errors, perSec: o.perSec };
    };
    // A first pass warms the server up (JIT, statement caches, the webhook worker's connection), so
    // no variant is charged for it.
    const warmUp = await pass('webhooks', licenses.get('webhooks')!, 'warm-up');
    expectedHits += 2 * warmUp.ok;
    const rotating = variants.map(([name]) => name).filter((name) => !hooks.includes(name));
    for (let r = 0; r < size.policyRounds; r++) {
      // The webhook passes last, in turns (each waits for its own deliveries and the pass before's).
      const order = [...rotating.slice(r % rotating.length), ...rotating.slice(0, r % rotating.length), ...(r % 2 ? [...hooks].reverse() : hooks)];
      for (const name of order) {
        const p = await pass(name, licenses.get(name)!, `${name}-${r + 1}`);
        passes.set(name, [...(passes.get(name) ?? []), p]);
        if (hooks.includes(name)) expectedHits += 2 * p.ok;
      }
    }
    for (const [name, list] of passes) {
      out[name] = {
        cpuPerConnectMs: round(median(list.map((p) => p.cpuMs))),
        passesCpuPerConnectMs: list.map((p) => round(p.cpuMs)),
        // Of which the kernel's (system time): the JSON only.
        systemPerConnectMs: round(median(list.map((p) => p.systemMs)), 3),
        ok: list.reduce((a, p) => a + p.ok, 0),
        failed: list.reduce((a, p) => a + p.failed, 0),
        errors: Object.assign({}, ...list.map((p) => p.errors)),
        connectsPerSec: round(median(list.map((p) => p.perSec))),
      };
    }
    out.webhookDeliveries = receiver.hits();
    out.slowReceiver = await slowReceiverDeliveries(ours, workers, tenantId);
  } finally {
    receiver.close();
  }
  return out;
}

/** The receiver's answer time in `slowReceiverDeliveries`: a receiver some way off, or slow to store. */
const SLOW_RECEIVER_MS = 20;

/** The slow receiver's webhooks: one at a time, `concurrency` 8, and batches of WEBHOOK_BATCH one at a time. */
const SLOW_HOOKS = [
  { key: 'concurrency1', concurrency: 1, batchSize: 1 },
  { key: 'concurrency8', concurrency: 8, batchSize: 1 },
  { key: `batch${WEBHOOK_BATCH}`, concurrency: 1, batchSize: WEBHOOK_BATCH },
] as const;

/**
 * Webhook events delivered per second to a receiver that answers after SLOW_RECEIVER_MS, for each
 * of SLOW_HOOKS: the events of `slowHookEvents` connects, from the receiver's first 2xx to its last.
 * The receiver refuses (503) until every connect is done, so the events are all waiting when the
 * retry comes, and the figure is the webhook's pace, not the connects' (a batch carries what is
 * waiting).
 */
async function slowReceiverDeliveries(ours: Node, workers: Worker[], tenantId: string): Promise<Record<string, unknown>> {
  const n = size.slowHookEvents;
  const out: Record<string, unknown> = { events: n, receiverMs: SLOW_RECEIVER_MS };
  for (const { key, concurrency, batchSize } of SLOW_HOOKS) {
    let holding = true;
    const receiver = await webhookReceiver(SLOW_RECEIVER_MS, () => holding);
    try {
      const lic = await license(ours.url, tenantId, { seats: 1_000_000, idleTimeoutSec: 1 });
      await rest(ours.url, 'POST', '/webhooks', { url: receiver.url, events: ['session.started'], licenseId: lic.id, concurrency, batchSize });
      log(`ours: ${n} webhook deliveries to a receiver answering after ${SLOW_RECEIVER_MS} ms, concurrency ${concurrency}, batch size ${batchSize}`);
      const started = performance.now();
      const opened = await openAll(workers, { tag: `hook-${key}`, url: ours.url, license: lic, prefix: `hook-${key}`, count: n, concurrency: 16 });
      holding = false;
      const deadline = Date.now() + 120_000;
      while (receiver.hits() < opened.ok && Date.now() < deadline) await sleep(10);
      const seconds = (performance.now() - started) / 1000;
      const { first, last, firstEvents } = receiver.span();
      // The events after the first answer, over the time from it to the last; none when the first
      // answer carried them all (a batch as large as the run: the smoke's), not a rate of 0.
      const after = receiver.hits() - firstEvents;
      const perSec = after > 0 && last > first ? after / ((last - first) / 1000) : null;
      out[key] = { delivered: receiver.hits(), connects: opened.ok, seconds: round(seconds), perSec: perSec === null ? null : round(perSec) };
      await closeAll(workers, `hook-${key}`);
      await waitSeatsFree(ours.url, lic, 60_000);
    } finally {
      receiver.close();
    }
  }
  return out;
}

async function main(): Promise<BenchReport> {
  mkdirSync(outDir, { recursive: true });
  if (args.profile) mkdirSync(profileDir, { recursive: true });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'seat-bench-'));
  tempDirs.add(dataDir);
  const dbFile = path.join(dataDir, 'seats.db');
  const started = new Date();
  // Before the run's own processes add to the load average.
  const machine = machineInfo();
  log(`mode ${mode}: ${JSON.stringify(size)}, ${WORKERS} load processes${only ? `, only ${only.join(', ')}` : ''}`);
  buildNodes();

  const perfWhyNot = args.perf ? perfMissing() : undefined;
  if (perfWhyNot) throw new Error(`--perf: ${perfWhyNot}`);
  // V8 logs a little with --perf-basic-prof: into the perf folder, not a file per isolate in the repository.
  const execArgv = args.perf ? ['--perf-basic-prof', '--no-logfile-per-isolate', `--logfile=${path.join(outDir, 'perf', 'v8.log')}`] : [];
  if (args.perf) mkdirSync(path.join(outDir, 'perf'), { recursive: true });
  let ours = await startOurs(dbFile, 0, execArgv);
  let floor = await startFloor(0, execArgv);
  const workers = await startWorkers(WORKERS);
  const tenant = await rest<{ id: string }>(ours.url, 'POST', '/tenants', { name: 'bench' });
  const lic = {
    rate: await license(ours.url, tenant.id, { seats: 1_000_000, idleTimeoutSec: 1 }),
    ramp: await license(ours.url, tenant.id, { seats: 1_000_000, idleTimeoutSec: Number(args['ramp-idle-sec']) }),
    kick: await license(ours.url, tenant.id, { seats: 1_000_000, idleTimeoutSec: 1 }),
    idle: await license(ours.url, tenant.id, { seats: 1_000_000, idleTimeoutSec: 2 }),
    storm: await license(ours.url, tenant.id, { seats: size.stormSockets * 2, idleTimeoutSec: 120 }),
  };
  const sections: BenchReport['sections'] = {};

  // 1. Connect-to-grant latency at a fixed rate (also warms both servers up).
  if (want('rate')) {
    const count = size.rate * size.rateSec;
    const res: Record<string, unknown> = { ratePerSec: size.rate, sockets: count };
    for (const node of [floor, ours]) {
      log(`${node.kind}: ${count} connects at ${size.rate}/s`);
      const o = await profiled(node, 'rate', () => openAll(workers, { tag: 'rate', url: node.url, license: node.kind === 'ours' ? lic.rate : undefined, prefix: `rate-${node.kind}`, count, ratePerSec: size.rate }));
      await closeAll(workers, 'rate');
      res[node.kind] = { latencyMs: dist(o.latenciesMs), ok: o.ok, failed: o.failed, errors: o.errors, achievedPerSec: round(o.perSec) };
    }
    await waitSeatsFree(ours.url, lic.rate, 30_000);
    await ours.call('lateness');
    sections.connectLatency = res;
  }

  // 2. Connect throughput while ramping to N concurrent sockets, and memory per socket at N.
  if (want('ramp')) {
    const n = size.rampSockets;
    await ours.call('deadlines');
    const res: Record<string, unknown> = { sockets: n, inFlight: size.rampInFlight * WORKERS, rounds: size.rampRounds };
    /**
     * One ramp to n: the server's own CPU per connect (what the ratio of connects/s means once the
     * load processes, which share the cores, are taken out), and of it the system time: how much
     * is the kernel's (socket writes, SQLite's file writes) and how much the process's own code.
     */
    const perfSplits: Partial<Record<Node['kind'], PerfSplit & { round: number }>> = {};
    const rampOnce = async (node: Node, k: number) => {
      const before = await node.call<NodeJS.CpuUsage>('cpuSplit');
      const threadsBefore = await node.call<ThreadCpu | null>('threadCpu');
      const opts = { tag: 'ramp', url: node.url, license: node.kind === 'ours' ? lic.ramp : undefined, prefix: `ramp${k}-${node.kind}`, count: n, concurrency: size.rampInFlight };
      const open = () => (k === 1 ? profiled(node, 'ramp', () => openAll(workers, opts)) : openAll(workers, opts));
      let o: Awaited<ReturnType<typeof openAll>>;
      if (args.perf && k === size.rampRounds) {
        // The last ramp: the one a full run's later rows are the median of, code compiled by then.
        const pid = node.child.pid!;
        const recorded = await perfRecord(pid, path.join(outDir, 'perf', `${node.kind}-ramp.data`), open);
        o = recorded.result;
        perfSplits[node.kind] = { ...splitPerfScript(recorded.script, { mainTid: pid, connects: o.ok }), round: k };
      } else {
        o = await open();
      }
      const threadsAfter = await node.call<ThreadCpu | null>('threadCpu');
      const after = await node.call<NodeJS.CpuUsage>('cpuSplit');
      const perConnectMs = (micros: number) => micros / 1000 / Math.max(1, o.ok);
      const system = after.system - before.system;
      // Of it, the threads other than the main one (V8's collector and compilers, libuv's pool).
      const helpersPerConnectMs = threadsBefore && threadsAfter ? perConnectMs(threadsAfter.others - threadsBefore.others) : null;
      return { o, cpuPerConnectMs: perConnectMs(after.user - before.user + system), systemPerConnectMs: perConnectMs(system), helpersPerConnectMs };
    };
    for (const node of [floor, ours]) {
      const before = await node.call<Memory>('memory');
      log(`${node.kind}: ramp to ${n} sockets, ${size.rampInFlight * WORKERS} in flight`);
      const commitsBefore = node.kind === 'ours' ? await node.call<Commits | null>('commits') : null;
      if (args.alloc) await node.call('allocStart');
      const { o, cpuPerConnectMs, systemPerConnectMs, helpersPerConnectMs } = await rampOnce(node, 1);
      const allocated = args.alloc ? await node.call<number>('allocStop', path.join(outDir, `${node.kind}-ramp.heapprofile`)) : null;
      const commitsAfter = commitsBefore ? await node.call<Commits>('commits') : null;
      await sleep(1000);
      const serverSockets = await node.call<number>('sockets');
      const after = await node.call<Memory>('memory');
      if (args['heap-snapshot']) await node.call('heapSnapshot', path.join(outDir, `${node.kind}-${n}.heapsnapshot`), 120_000);
      const unexpected = await closeAll(workers, 'ramp');
      res[node.kind] = {
        connectsPerSec: round(o.perSec),
        cpuPerConnectMs: round(cpuPerConnectMs),
        systemPerConnectMs: round(systemPerConnectMs, 3),
        helpersPerConnectMs: helpersPerConnectMs === null ? null : round(helpersPerConnectMs, 3),
        ...(allocated === null ? {} : { allocKiBPerConnect: round(allocated / 1024 / Math.max(1, o.ok), 1) }),
        ...(commitsBefore && commitsAfter ? { transactionsPerCommit: transactionsPerCommit(commitsBefore, commitsAfter), commitWaits: commitsAfter.waits - commitsBefore.waits, commits: commitsAfter.commits - commitsBefore.commits } : {}),
        seconds: round(o.seconds),
        latencyMs: dist(o.latenciesMs),
        ok: o.ok,
        failed: o.failed,
        errors: o.errors,
        serverSockets,
        unexpectedDisconnects: unexpected,
        heapPerSocketKiB: round((after.heapUsed - before.heapUsed) / n / KiB),
        rssPerSocketKiB: round((after.rss - before.rss) / n / KiB),
        externalPerSocketKiB: round((after.external - before.external) / n / KiB),
        heapUsedMiB: round(after.heapUsed / KiB / KiB),
        rssMiB: round(after.rss / KiB / KiB),
      };
    }
    log('ours: waiting for the ramp seats to be released');
    const freed = await profiled(ours, 'ramp-release', () => waitSeatsFree(ours.url, lic.ramp, 300_000));
    (res.ours as Record<string, unknown>).allReleasedAfterClose = freed;
    (res.ours as Record<string, unknown>).burstReleaseLatenessMs = dist(await ours.call<number[]>('lateness'));
    // How close together those seats fell due (the closes' detaches spread them out).
    const due = await ours.call<{ first: number; last: number } | null>('deadlines');
    (res.ours as Record<string, unknown>).burstDeadlineSpreadMs = due ? due.last - due.first : null;
    // Later ramps, the two servers in turn (which goes first alternating): a process's first ramp
    // also pays for its start (code compiled, the heap grown), and each server's CPU per connect
    // fell over its first two or three ramps. These rows take the median of the later ones.
    const rounds = { floor: [] as Array<Record<string, unknown>>, ours: [] as Array<Record<string, unknown>> };
    for (let k = 2; k <= size.rampRounds; k++) {
      for (const node of k % 2 === 0 ? [ours, floor] : [floor, ours]) {
        log(`${node.kind}: ramp to ${n} sockets, round ${k} of ${size.rampRounds}`);
        // What the last round set going (its releases, a collection) settles first.
        await sleep(1000);
        const { o, cpuPerConnectMs, systemPerConnectMs, helpersPerConnectMs } = await rampOnce(node, k);
        const unexpected = await closeAll(workers, 'ramp');
        if (node.kind === 'ours') await waitSeatsFree(ours.url, lic.ramp, 300_000);
        // A connect that failed or a socket dropped while held counts against the errors row.
        rounds[node.kind].push({ cpuPerConnectMs: round(cpuPerConnectMs), systemPerConnectMs: round(systemPerConnectMs, 3), helpersPerConnectMs, connectsPerSec: round(o.perSec), ok: o.ok, failed: o.failed + unexpected });
      }
    }
    if (size.rampRounds > 1) {
      await ours.call('lateness');
      await ours.call('deadlines');
      for (const kind of ['floor', 'ours'] as const) {
        const r = res[kind] as Record<string, unknown>;
        const list = rounds[kind];
        r.later = {
          cpuPerConnectMs: median(list.map((x) => x.cpuPerConnectMs as number)),
          systemPerConnectMs: round(median(list.map((x) => x.systemPerConnectMs as number)), 3),
          helpersPerConnectMs: list.some((x) => x.helpersPerConnectMs === null) ? null : round(median(list.map((x) => x.helpersPerConnectMs as number)), 3),
          connectsPerSec: median(list.map((x) => x.connectsPerSec as number)),
          cpuPerConnectMsRounds: list.map((x) => x.cpuPerConnectMs),
          connectsPerSecRounds: list.map((x) => x.connectsPerSec),
          failed: list.reduce((a, x) => a + (x.failed as number), 0),
        };
      }
    }
    for (const kind of ['floor', 'ours'] as const) if (perfSplits[kind]) (res[kind] as Record<string, unknown>).perf = perfSplits[kind];
    sections.ramp = res;
  }

  // 3. Kick: REST DELETE /sessions/:id until the socket's session:ended.
  if (want('kick')) {
    const res: Record<string, unknown> = { kicks: size.kicks };
    for (const node of [floor, ours]) {
      log(`${node.kind}: ${size.kicks} kicks`);
      const o = await openAll(workers, { tag: 'kick', url: node.url, license: node.kind === 'ours' ? lic.kick : undefined, prefix: `kick-${node.kind}`, count: size.kicks, concurrency: 16 });
      const { latencyMs, errors } = await profiled(node, 'kick', () => kickAll(workers, 'kick', node.url, size.kicks, o.errors));
      await closeAll(workers, 'kick');
      res[node.kind] = { latencyMs, errors };
    }
    sections.kick = res;
  }

  // 4. Idle release lateness: sockets close at once; each seat should go free at its deadline.
  if (want('idle')) {
    const n = size.idleSockets;
    log(`ours: ${n} sessions go idle together`);
    await ours.call('lateness');
    const o = await openAll(workers, { tag: 'idle', url: ours.url, license: lic.idle, prefix: 'idle', count: n, concurrency: 32 });
    await closeAll(workers, 'idle');
    const lateness: number[] = [];
    const end = Date.now() + 2000 + 30_000;
    while (lateness.length < o.ok && Date.now() < end) {
      await sleep(250);
      lateness.push(...(await ours.call<number[]>('lateness')));
    }
    sections.idle = { sessions: n, idleTimeoutSec: 2, released: lateness.length, latenessMs: dist(lateness), errors: o.errors };
  }

  // 4b. The new policies' cost: the same connects to a plain license and to one with each policy
  // on (issue 14: within 10% of plain), the server's CPU per connect each time.
  if (want('policies')) sections.policies = await policiesPhase(ours, workers, tenant.id);

  // 5. Reconnect storm: N sockets with socket.io-client's own reconnection; the server is killed
  // (SIGKILL) and started again on the same port and database.
  if (want('storm')) {
    const storm = await restartStorm({ workers, n: size.stormSockets, dbFile, lic: lic.storm, ours, floor, profileDir: args.profile ? profileDir : undefined });
    ({ ours, floor } = storm);
    sections.storm = storm.section;
  }

  await Promise.all([stopNode(ours), stopNode(floor)]);

  // PostgreSQL (--pg's, else a throwaway cluster) and a throwaway redis-server for the last phases.
  const given = args.pg;
  const pg = given || !(want('cluster') || want('cluster-storm') || want('pg-burst') || want('store')) ? {} : await throwaway('PostgreSQL', postgresMissing(), throwawayPostgres);
  const pgSkipped = pg.skipped && `${pg.skipped} (or pass --pg postgres://… / set BENCH_PG_URL)`;
  const database = (prefix: string) => (given ? Promise.resolve(given) : pg.service!.createDatabase(prefix));

  // 6. Cross-node kick: two seat servers behind one PostgreSQL and one Redis; then the storm when
  // one of three such nodes dies; then a burst of idle releases on one such node.
  if (want('cluster') || want('cluster-storm') || want('pg-burst')) {
    const redis = pgSkipped ? {} : await throwaway('redis-server', redisMissing(), () => startRedis({ onSpawn: track }));
    const skipped = pgSkipped ?? redis.skipped;
    const phases = [
      ['cluster', 'crossNodeKick', async () => crossNodeKick(workers, await database('bench_cluster'), redis.service!.url, size.crossNodeKicks)],
      ['cluster-storm', 'clusterStorm', async () => clusterStorm(workers, await database('bench_cluster_storm'), redis.service!.url, size.clusterStormSockets)],
      ['pg-burst', 'postgresBurst', async () => postgresBurst(workers, await database('bench_pg_burst'), redis.service!.url, size.rampSockets, size.rampInFlight, args.profile ? path.join(profileDir, 'ours-pg-burst.cpuprofile') : undefined)],
    ] as const;
    for (const [phase, section, run] of phases) {
      if (!want(phase)) continue;
      if (skipped) sections[section] = { skipped };
      else {
        try {
          sections[section] = await run();
        } catch (err) {
          log(`${phase}: failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
          sections[section] = { failed: firstLine(err) };
        }
      }
    }
    await redis.service?.destroy();
  }
  await Promise.all(workers.map((w) => new Promise((r) => (w.child.once('exit', r), w.child.kill('SIGTERM')))));

  // 7. Store throughput, with the servers and load processes gone.
  if (want('store')) {
    const { SqliteSeatStore } = await import('../server/store/sqlite-store');
    log(`store: SQLite, ${size.storeOps} of each operation`);
    const store = SqliteSeatStore.open(path.join(dataDir, 'store.db'));
    const sqlite = await storeThroughput(store, size.storeOps);
    await store.close();
    let postgres: unknown = { skipped: pgSkipped };
    if (!pgSkipped) {
      log(`store: PostgreSQL, ${size.pgStoreOps} of each operation`);
      try {
        const { PostgresSeatStore } = await import('../server/store/postgres-store');
        const { default: pg } = await import('pg');
        const url = await database('bench_store');
        const pgStore = PostgresSeatStore.open(url);
        // The bare round trip beside the moves, for what one at a time can reach here.
        const bare = new pg.Pool({ connectionString: url, max: 1 });
        bare.on('error', () => {});
        try {
          postgres = await storeThroughput(pgStore, size.pgStoreOps, 32, (i) => bare.query('select $1::bigint as r', [i]));
        } finally {
          await Promise.all([pgStore.close(), bare.end()]);
        }
      } catch (err) {
        log(`store: PostgreSQL failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        postgres = { failed: firstLine(err) };
      }
    }
    if (pg.service) {
      await pg.service.destroy();
      tempDirs.delete(pg.service.dir);
    }
    sections.store = { sqlite: roundAll(sqlite), postgres: roundAll(postgres) };
  }
  rmSync(dataDir, { recursive: true, force: true });
  tempDirs.delete(dataDir);

  return {
    mode,
    command: `npm run bench${mode === 'full' ? '' : ` -- --${mode}`}`,
    argv: process.argv.slice(2),
    startedAt: started.toISOString(),
    durationSec: round((performance.now() - T0) / 1000, 1)!,
    machine,
    sizes: { ...size, workers: WORKERS },
    sections,
  };
}

/** `--scale`: the scale table alone (bench/scale.ts), on its own servers; `--scale --smoke` is a tiny one. */
async function scaleMain(): Promise<BenchReport> {
  mkdirSync(outDir, { recursive: true });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'seat-bench-scale-'));
  tempDirs.add(dataDir);
  const started = new Date();
  // Before the run's own processes add to the load average.
  const machine = machineInfo();
  const smoke = args.smoke;
  log(`mode scale${smoke ? ' (smoke)' : ''}, ${WORKERS} load processes`);
  buildNodes();
  const workers = await startWorkers(WORKERS);
  const scale = await scalePhase(workers, dataDir, smoke);
  await Promise.all(workers.map((w) => new Promise((r) => (w.child.once('exit', r), w.child.kill('SIGTERM')))));
  rmSync(dataDir, { recursive: true, force: true });
  tempDirs.delete(dataDir);
  return {
    mode: smoke ? 'scale-smoke' : 'scale',
    command: `npm run bench -- --scale${smoke ? ' --smoke' : ''}`,
    argv: process.argv.slice(2),
    startedAt: started.toISOString(),
    durationSec: round((performance.now() - T0) / 1000, 1)!,
    machine,
    sizes: { workers: WORKERS, headroom: scale.headroom },
    sections: { scale },
  };
}

function roundAll(o: unknown): unknown {
  if (typeof o !== 'object' || o === null) return o;
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'number' ? round(v) : v]));
}

function cleanup() {
  for (const c of children) c.kill('SIGKILL');
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // a killed postgres may still be writing there; the temp dir is all that is left
    }
  }
}
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

// The whole run is bounded: a stuck phase ends it.
const LIMIT_MS = args.scale ? (args.smoke ? 3 : 12) * 60_000 : { full: 15 * 60_000, quick: 5 * 60_000, smoke: 3 * 60_000 }[mode];
const watchdog = setTimeout(() => {
  log(`the run took over ${LIMIT_MS / 1000} s; stopping`);
  process.exit(2);
}, LIMIT_MS);
watchdog.unref();

try {
  const pinned = args.pin ? pinServers() : undefined;
  if (pinned) log(`pinned: the servers on CPU ${pinned.servers}, the load processes and the driver on CPU ${pinned.load}`);
  const report = { ...(args.scale ? await scaleMain() : await main()), ...(pinned ? { pinned } : {}) };
  const files = writeReport(report, outDir);
  process.stdout.write(printTable(report));
  process.stdout.write(`\nwritten: ${files.join(', ')}\n`);
  process.exit(0);
} catch (err) {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}
