// `npm run soak`: a seeded random workload against three nodes on PostgreSQL and Redis (or one on
// SQLite with --sqlite), faults at random moments, and an independent checker that reads the
// database and compares it with what the clients saw. Exits non-zero on any violation.
//
//   npm run soak -- --quick                 a short run (CI runs it as a test)
//   npm run soak -- --ops 100000            a full run
//   flags: --seed N --ops N --duration SEC --rate OPS_PER_SEC --faults N --max-tabs N --sqlite --no-build
//          --fault-kinds KIND,KIND   only these fault kinds, in turn (default: every kind the deployment has but
//                                    pg-silent, which runs only when named here: see SoakCluster.start)
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Checker, type Violation } from './checker';
import { SoakCluster, TIMING, sleep } from './cluster';
import { Gaps, OpLog } from './record';
import { Rng } from './rng';
import { postgresTruth, sqliteTruth, type Truth } from './truth';
import { type Arrived, checkDeliveries, deliveryDelays, expectedEvents, HOOK_SUBSCRIPTION, HookReceiver, randomAnswers, SOAK_HOOKS, undelivered } from './webhooks';
import { LICENSES, Workload } from './workload';

const ROOT = path.resolve(import.meta.dirname, '..');

interface Options {
  seed: number;
  ops: number;
  durationSec: number;
  rate: number;
  faults: number;
  maxTabs: number;
  sqlite: boolean;
  build: boolean;
  /** Added to every time the checker allows (ms): for a run that shares its machine (the test suite's). */
  slackMs: number;
  /** The fault kinds to take in turn; undefined: every kind the deployment can suffer. */
  faultKinds?: string[];
}

function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      seed: { type: 'string' },
      ops: { type: 'string' },
      duration: { type: 'string' },
      rate: { type: 'string' },
      faults: { type: 'string' },
      'max-tabs': { type: 'string' },
      quick: { type: 'boolean', default: false },
      sqlite: { type: 'boolean', default: false },
      'no-build': { type: 'boolean', default: false },
      'slack-ms': { type: 'string' },
      'fault-kinds': { type: 'string' },
    },
    strict: true,
  });
  const int = (v: string | undefined, def: number, name: string) => {
    if (v === undefined) return def;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, not "${v}"`);
    return n;
  };
  const quick = values.quick;
  const ops = int(values.ops, quick ? 3000 : 100_000, 'ops');
  return {
    seed: int(values.seed, Math.floor(Math.random() * 2 ** 31), 'seed'),
    ops,
    durationSec: int(values.duration, quick ? 60 : 3600, 'duration'),
    rate: int(values.rate, quick ? 100 : 200, 'rate') || 1,
    faults: int(values.faults, quick ? 5 : Math.max(30, Math.ceil(ops / 3000)), 'faults'),
    maxTabs: int(values['max-tabs'], quick ? 150 : 300, 'max-tabs'),
    sqlite: values.sqlite,
    build: !values['no-build'],
    slackMs: int(values['slack-ms'], 0, 'slack-ms'),
    faultKinds: values['fault-kinds']?.split(',').map((k) => k.trim()).filter(Boolean),
  };
}

/** Op indices at which faults start: spread over the run, each jittered, kinds taken in turn. */
function faultPlan(rng: Rng, o: Options, kinds: string[]): Map<number, string> {
  const plan = new Map<number, string>();
  const gap = o.ops / (o.faults + 1);
  const offset = rng.int(0, kinds.length - 1);
  for (let i = 1; i <= o.faults; i++) {
    const at = Math.min(o.ops - 1, Math.max(1, Math.round(gap * i + rng.int(-Math.floor(gap / 3), Math.floor(gap / 3)))));
    plan.set(at, kinds[(i + offset) % kinds.length]!);
  }
  return plan;
}

async function main(): Promise<number> {
  const o = options(process.argv.slice(2));
  const rng = new Rng(o.seed);
  const repro = `npm run soak -- --seed ${o.seed} --ops ${o.ops}${o.sqlite ? ' --sqlite' : ''}${o.faultKinds ? ` --fault-kinds ${o.faultKinds.join(',')}` : ''}`;
  if (o.build) execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });

  const log = new OpLog();
  const gaps = new Gaps();
  const started = Date.now();
  // PostgreSQL gone silent needs each node's way to the database through a proxy: only when asked for (cluster.ts).
  const dbProxies = !o.sqlite && (o.faultKinds?.includes('pg-silent') ?? false);
  const cluster = await SoakCluster.start({ sqlite: o.sqlite, gaps, log, dbProxies });
  const stopAll = () => void cluster.stop().finally(() => process.exit(130));
  process.once('SIGINT', stopAll);
  process.once('SIGTERM', stopAll);
  const kinds = o.faultKinds ?? cluster.faultKinds();
  const unknown = kinds.filter((k) => !cluster.faultKinds().includes(k));
  if (unknown.length > 0 || kinds.length === 0) {
    await cluster.stop();
    throw new Error(`--fault-kinds: ${unknown.length ? `no fault kind ${unknown.join(', ')} here` : 'none given'}; this deployment has ${cluster.faultKinds().join(', ')}`);
  }
  const truth = o.sqlite ? sqliteTruth(cluster.databaseUrl) : postgresTruth(cluster.databaseUrl);
  const workload = new Workload(cluster, rng, log, o.maxTabs);
  const idle = new Map(LICENSES.map((l) => [l.id, l.idleSec * 1000]));
  const inactivity = new Map(LICENSES.map((l) => [l.id, l.inactivitySec ? l.inactivitySec * 1000 : null]));
  const checker = new Checker({
    truth,
    log,
    gaps,
    conns: () => workload.conns,
    denialsSeen: () => workload.denialsSeen,
    idleMs: (id) => idle.get(id)!,
    // Every time the checker allows counts the node timeout once: the slack widens them all alike.
    nodeTimeoutMs: TIMING.nodeTimeoutMs + o.slackMs,
    pingMs: TIMING.pingIntervalMs + TIMING.pingTimeoutMs,
    sweepMs: TIMING.sweepMs,
    activityFlushMs: TIMING.activityFlushMs,
    inactivityMs: (id) => inactivity.get(id),
    liveNodes: () => cluster.liveNodes(),
  });
  const where = o.sqlite ? '1 node on SQLite' : '3 nodes on PostgreSQL and Redis';
  process.stdout.write(`soak: seed ${o.seed}, ${where}, up to ${o.ops} operations at ${o.rate}/s, ${o.faults} faults${o.faultKinds ? ` (${kinds.join(', ')} in turn)` : ''}${o.slackMs ? `, every time allowed ${o.slackMs} ms longer` : ''}\n`);

  let checkFailures = 0;
  let running = true;
  const loop = (ms: number, fn: () => Promise<void>) =>
    (async () => {
      while (running) {
        try {
          await fn();
        } catch {
          checkFailures++; // the database is away (a fault): the next round tries again
        }
        await sleep(ms);
      }
    })();

  // Webhooks hear the run (soak/webhooks.ts); the receiver's failures draw from a seed of their own.
  const answers = randomAnswers(new Rng(o.seed ^ 0x5eed));
  const receiver = new HookReceiver(log, answers.next);
  const hooks: HooksReport = { seatFrom: 0, auditFrom: 0, drainMs: 0, events: 0, changes: 0, left: 0, retuned: 0, holes: 0, waiting: [] };
  const violations = () => [...checker.violations, ...receiver.violations];
  const hookIds = new Map<string, string>();
  let retuning = true;

  let done = 0;
  const faultsDone = new Map<string, number>();
  let faultRunning: Promise<void> = Promise.resolve();
  try {
    await workload.setup();
    hooks.seatFrom = (await truth.seatEvents(0)).at(-1)?.id ?? 0;
    hooks.auditFrom = (await truth.licenseChanges(0)).at(-1)?.id ?? 0;
    const receiverUrl = await receiver.listen();
    for (const spec of SOAK_HOOKS) {
      const made = await workload.rest('POST', '/webhooks', {
        url: `${receiverUrl}/hook/${spec.name}`,
        events: HOOK_SUBSCRIPTION,
        concurrency: spec.concurrency,
        batchSize: spec.batchSize,
      });
      receiver.register(spec, made.secret);
      hookIds.set(spec.name, made.id);
    }
    const retunes = retune(workload, receiver, new Rng(o.seed ^ 0x7e7e), hookIds.get(RETUNED)!, () => retuning, hooks, log);
    const sampling = loop(250, () => checker.sample());
    const historyLoop = loop(2000, () => checker.history());
    const plan = faultPlan(rng, o, kinds);
    /** Faults whose operation came while another fault still ran: each runs as soon as none does. */
    const due: string[] = [];
    const deadline = started + o.durationSec * 1000;
    const opsStarted = Date.now();
    let next = opsStarted;
    for (; done < o.ops && Date.now() < deadline; done++) {
      log.op = done;
      const planned = plan.get(done);
      if (planned) due.push(planned);
      if (due.length > 0 && !cluster.busy) faultRunning = inject(due.shift()!, cluster, workload, rng, faultsDone);
      workload.step();
      next += 1000 / o.rate;
      const wait = next - Date.now();
      if (wait > 0) await sleep(wait);
      else if (done % 20 === 0) await new Promise((r) => setImmediate(r));
    }
    const opsMs = Date.now() - opsStarted;
    retuning = false;
    await retunes;

    // Every planned fault runs: those still due when the operations ended (behind a long one, or
    // planned past the last operation the deadline let run, on a slow machine) run now, in turn.
    const late = [...plan].filter(([at]) => at >= done).sort(([a], [b]) => a - b);
    for (const kind of [...due, ...late.map(([, k]) => k)]) {
      await faultRunning;
      faultRunning = inject(kind, cluster, workload, rng, faultsDone);
    }
    // Quiet down: faults over, every node up, delayed operations done, licenses as they began.
    await faultRunning;
    await workload.drain();
    await workload.restoreLicenses();
    await sleep(TIMING.nodeTimeoutMs + 2000);
    await checker.sample();
    await checker.history(true);
    // Every client leaves; once every hold has run out (and silent clients are noticed), nothing
    // may be left held.
    await workload.closeAll();
    // A lease whose POST answer was lost (and retried) is known to no client: it lapses by itself.
    const longestIdle = Math.max(...LICENSES.map((l) => l.idleSec * 1000));
    const longestLease = Math.max(...LICENSES.map((l) => (l.leaseSec ?? 0) * 1000 + l.idleSec * 1000 + TIMING.sweepMs + 1000));
    await sleep(Math.max(longestIdle + TIMING.nodeTimeoutMs + TIMING.pingIntervalMs + TIMING.pingTimeoutMs + 2000, longestLease));
    running = false;
    await Promise.all([sampling, historyLoop]);
    await checker.sample();
    await checker.history(true);
    await checker.leftovers();
    await drainHooks(receiver, truth, hooks);
    workload.anomalies.push(...cluster.constraintErrors);

    await report({ o, workload, checker, faultsDone, done, opsMs, checkFailures, gaps, log, repro, started, truth, receiver, hooks, outages: answers.outages(), violations: violations() });
    return violations().length > 0 ? 1 : 0;
  } finally {
    running = false;
    await truth.close();
    await receiver.close();
    if (violations().length > 0) {
      const file = path.join(tmpdir(), `soak-${o.seed}-nodes.log`);
      writeFileSync(file, cluster.output());
      process.stdout.write(`\nthe nodes' output (newest part) is in ${file}\n`);
    }
    await cluster.stop();
  }
}

interface HooksReport {
  /** The newest seat history and audit ids when the webhooks were made: they hear what comes after. */
  seatFrom: number;
  auditFrom: number;
  /** How long the last deliveries took once the receiver answered at once. */
  drainMs: number;
  /** Events each webhook was to deliver. */
  events: number;
  /** Of those, `license.changed`. */
  changes: number;
  /** Of those, not answered 2xx when the drain ended, over all the webhooks. */
  left: number;
  /** How many times the RETUNED webhook's settings were changed. */
  retuned: number;
  /** Seat history ids with no row: a webhook on PostgreSQL waits at each until no transaction that could fill it is open (or `WEBHOOK_GAP_WAIT_MS`). */
  holes: number;
  /** Per webhook, the events not delivered yet when the drain began, and the oldest of them. */
  waiting: Array<{ hook: string; n: number; oldest: Arrived }>;
  /** The RETUNED webhook's delay from an event to its first 2xx answer (ms): median, 99th percentile, most. */
  delay?: { p50: number; p99: number; max: number };
}

/** The webhook whose `concurrency` and `batchSize` change while the operations run. */
const RETUNED = 'batched';

/**
 * While the operations run, every 2 to 8 s, `PATCH /webhooks/:id` (on any live node) gives the
 * RETUNED webhook a new `concurrency` (1 to 6) and `batchSize` (1, 2, 5, 10 or 20). The receiver
 * takes requests under the old settings for a while after: those in flight (up to the attempt's
 * timeout), and a node other than the one that took the PATCH learns of it at its next claim
 * renewal (a third of the claim).
 */
async function retune(workload: Workload, receiver: HookReceiver, rng: Rng, id: string, going: () => boolean, hooks: HooksReport, log: OpLog): Promise<void> {
  // With the node timeout's margin on top, for a node stalled a while (as the checker allows).
  const graceMs = TIMING.webhookClaimMs / 3 + TIMING.webhookTimeoutMs + TIMING.nodeTimeoutMs;
  for (;;) {
    await sleep(rng.int(2000, 8000));
    if (!going()) return;
    const next = { name: RETUNED, concurrency: rng.int(1, 6), batchSize: rng.pick([1, 2, 5, 10, 20]) };
    receiver.changing(next);
    log.add({ kind: 'webhook', detail: `PATCH webhook ${RETUNED}: concurrency ${next.concurrency}, batch size ${next.batchSize}` });
    try {
      await workload.rest('PATCH', `/webhooks/${id}`, { concurrency: next.concurrency, batchSize: next.batchSize });
      receiver.changed(RETUNED, graceMs);
      log.add({ kind: 'webhook', detail: `webhook ${RETUNED} changed; the old settings allowed ${graceMs} ms more` });
      hooks.retuned++;
    } catch (err) {
      // Whether it took is not known: both settings stay allowed.
      workload.anomalies.push(`PATCH of webhook ${RETUNED} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

/**
 * Once the receiver stops failing, the webhooks deliver what is left for as long as they make
 * progress: the drain ends when every event has arrived, when no request has come for
 * HOOK_STALL_MS (retries run out in a second at most, so what is left then is lost), or after
 * HOOK_DRAIN_MAX_MS in all. A one-at-a-time webhook has 30,000 events or more left after a full
 * run; how fast it delivers them depends on the machine (400 to 1,200 a second here).
 */
const HOOK_STALL_MS = 20_000;
const HOOK_DRAIN_MAX_MS = 300_000;
/** How often the history is read again while the drain waits: each read is the whole history. */
const HOOK_DRAIN_POLL_MS = 2_000;

/**
 * The end of the run for the webhooks: the receiver answers every request at once, every event of
 * the history must arrive, and then each webhook's deliveries are held against the history.
 */
async function drainHooks(receiver: HookReceiver, truth: Truth, hooks: HooksReport): Promise<void> {
  receiver.calm = true;
  const from = Date.now();
  const read = async () => expectedEvents(await truth.seatEvents(hooks.seatFrom), await truth.licenseChanges(hooks.auditFrom));
  let expected = await read();
  // What was still on its way when the receiver stopped failing, for the report.
  for (const h of SOAK_HOOKS) {
    const waiting = undelivered(expected, h.name, receiver.requests);
    if (waiting.length > 0) hooks.waiting.push({ hook: h.name, n: waiting.length, oldest: waiting[0]! });
  }
  let requests = receiver.requests.length;
  let progressAt = from;
  while (SOAK_HOOKS.some((h) => undelivered(expected, h.name, receiver.requests).length > 0)) {
    const now = Date.now();
    if (receiver.requests.length > requests) [requests, progressAt] = [receiver.requests.length, now];
    if (now - progressAt >= HOOK_STALL_MS || now - from >= HOOK_DRAIN_MAX_MS) break;
    await sleep(HOOK_DRAIN_POLL_MS);
    expected = await read();
  }
  hooks.drainMs = Date.now() - from;
  hooks.events = expected.length;
  hooks.changes = expected.filter((e) => e.type === 'license.changed').length;
  hooks.holes = await truth.historyHoles(hooks.seatFrom);
  hooks.left = SOAK_HOOKS.reduce((n, h) => n + undelivered(expected, h.name, receiver.requests).length, 0);
  const delays = deliveryDelays(RETUNED, receiver.requests).sort((a, b) => a - b);
  const at = (q: number) => delays[Math.min(delays.length - 1, Math.floor(q * delays.length))]!;
  if (delays.length > 0) hooks.delay = { p50: at(0.5), p99: at(0.99), max: delays.at(-1)! };
  for (const h of SOAK_HOOKS) for (const v of checkDeliveries(expected, h.name, receiver.requests)) receiver.add(v);
}

/** The RETUNED webhook's delays, for the report (it keeps up: what it shows is the waiting order costs). */
function delayText(d: HooksReport['delay']): string {
  if (!d) return '';
  const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  return `; the ${RETUNED} webhook's events answered ${sec(d.p50)} after they happened at the median, ${sec(d.p99)} at the 99th percentile, ${sec(d.max)} at most`;
}

/** One fault, run in the background while operations go on; faults never overlap. */
async function inject(kind: string, cluster: SoakCluster, workload: Workload, rng: Rng, done: Map<string, number>): Promise<void> {
  cluster.busy = true;
  // Drawn now, so the seed's sequence does not depend on how long the fault takes.
  const node = rng.int(0, cluster.nodes.length - 1);
  const downMs = rng.int(200, 2500);
  // pg-silent: longer than the node timeout, shorter than a pool's 5 s wait for a connection; the
  // other nodes hear back 2 to 4 heartbeats after the first. A node is safe when it is back within
  // the node timeout of the first, less the beats it needs to write a fresh heartbeat (a held
  // beat lands with the time it was sent): one back 6 heartbeats (the node timeout) later is dead
  // to the others by design, and was taken for dead (seed 20263204).
  const holdMs = kind === 'pg-silent' ? TIMING.nodeTimeoutMs + rng.int(500, 1500) : 0;
  const laterMs = kind === 'pg-silent' ? rng.int(2, 4) * TIMING.heartbeatMs : 0;
  try {
    if (kind === 'kill9') await cluster.kill9(node, downMs);
    else if (kind === 'redis-restart') await cluster.restartRedis(downMs);
    else if (kind === 'pg-restart-fast') await cluster.restartPostgres('fast', downMs);
    else if (kind === 'pg-restart-immediate') await cluster.restartPostgres('immediate', downMs);
    else if (kind === 'pg-silent') await cluster.silentPostgres(node, holdMs, laterMs);
    else if (kind === 'silent-client') await workload.silentClient();
    done.set(kind, (done.get(kind) ?? 0) + 1);
  } catch (err) {
    workload.anomalies.push(`fault ${kind} failed: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    cluster.busy = false;
  }
}

async function report(r: {
  o: Options;
  workload: Workload;
  checker: Checker;
  faultsDone: Map<string, number>;
  done: number;
  opsMs: number;
  checkFailures: number;
  gaps: Gaps;
  log: OpLog;
  repro: string;
  started: number;
  truth: Truth;
  receiver: HookReceiver;
  hooks: HooksReport;
  outages: number;
  violations: Violation[];
}): Promise<void> {
  const { workload: w, checker: c } = r;
  const list = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
  const grants = w.conns.filter((x) => x.grant);
  const leases = w.conns.filter((x) => x.node === 'http');
  const queued = w.conns.filter((x) => x.queuedAt !== undefined);
  const ends = new Map<string, number>();
  for (const x of w.conns) if (x.end) ends.set(x.end.kind === 'ended' || x.end.kind === 'denied' || x.end.kind === 'refused' ? `${x.end.kind} ${x.end.reason}` : x.end.kind, (ends.get(x.end.kind === 'ended' || x.end.kind === 'denied' || x.end.kind === 'refused' ? `${x.end.kind} ${x.end.reason}` : x.end.kind) ?? 0) + 1);
  const faults = [...r.faultsDone.values()].reduce((a, b) => a + b, 0);
  const lines = [
    `operations: ${r.done} in ${(r.opsMs / 1000).toFixed(1)} s (${Math.round(r.done / (r.opsMs / 1000))}/s): ${list(w.counts)}`,
    `faults: ${faults} (${list(r.faultsDone) || 'none'}); service gaps (database away or no node): ${r.gaps.total}`,
    `clients: ${w.conns.length - leases.length} sockets and ${leases.length} lease requests, ${grants.length} grants (${grants.filter((x) => x.grant!.resumed).length} resumed, ${leases.filter((x) => x.grant).length} leases), ${w.denialsSeen.length} denials seen`,
    `policies: ${queued.length} queued (${queued.filter((x) => x.grant).length} granted from the queue), ${w.conns.filter((x) => x.activity?.length).length} sockets sent activity, ${w.conns.filter((x) => x.end?.kind === 'ended' && x.end.reason === 'inactive').length} told inactive, ${leases.filter((x) => x.end?.kind === 'lapsed').length} leases lapsed`,
    `socket ends: ${list(ends)}`,
    `checker: ${c.samples} database samples (${r.checkFailures} rounds failed while the database was away), ${c.releasesChecked} releases checked`,
    `grants by license: ${list(new Map(LICENSES.map((l) => [l.id, grants.filter((x) => x.licenseId === l.id).length])))}`,
    `webhooks: ${SOAK_HOOKS.map((h) => `${h.name} (concurrency ${h.concurrency}, batch size ${h.batchSize}${h.name === RETUNED ? `, then changed ${r.hooks.retuned} times` : ''}) ${r.receiver.requests.filter((q) => q.hook === h.name).length} requests`).join(', ')}; ${r.hooks.events} events each (${r.hooks.changes} license changes); the receiver answered ${r.receiver.failed.get('fail') ?? 0} with a 503, closed ${r.receiver.failed.get('drop') ?? 0} unanswered and answered ${r.receiver.late} late, and was down ${r.outages === 1 ? 'once' : `${r.outages} times`}; ${redelivered(r.receiver)} events came again; ${r.hooks.left === 0 ? 'all delivered' : `${r.hooks.left} deliveries still missing`} ${(r.hooks.drainMs / 1000).toFixed(1)} s after the receiver stopped failing (${waitingThen(r.hooks, r.started)}); ${r.hooks.holes} holes in the history's ids${delayText(r.hooks.delay)}`,
    `anomalies (not violations): ${w.anomalies.length}${w.anomalies.length ? `\n  ${w.anomalies.slice(0, 10).join('\n  ')}` : ''}`,
    `violations: ${r.violations.length}`,
    `total time: ${((Date.now() - r.started) / 1000).toFixed(1)} s`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  for (const v of r.violations.slice(0, 20)) {
    const history = v.sessionId ? await r.truth.sessionEvents(v.sessionId).catch(() => []) : [];
    process.stdout.write(describe(v, r.o.seed, r.log, r.repro, r.started, w, history));
  }
  if (r.violations.length > 20) process.stdout.write(`… and ${r.violations.length - 20} more\n`);
}

/** What the webhooks had yet to deliver when the receiver stopped failing. */
function waitingThen(hooks: HooksReport, started: number): string {
  if (hooks.waiting.length === 0) return 'none waiting then';
  const t = (iso: string) => `+${((Date.parse(iso) - started) / 1000).toFixed(1)}s`;
  return `waiting then: ${hooks.waiting.map((w) => `${w.hook} ${w.n}, the oldest ${w.oldest.type} ${w.oldest.id} of ${t(w.oldest.at)}`).join('; ')}`;
}

/** Events that came more than once to the same webhook (at least once allows it: after a failure, a `kill -9`). */
function redelivered(receiver: HookReceiver): number {
  const seen = new Set<string>();
  let again = 0;
  for (const q of receiver.requests) {
    for (const e of q.events) {
      const key = `${q.hook} ${e.id}`;
      if (seen.has(key)) again++;
      else seen.add(key);
    }
  }
  return again;
}

/** A violation with what led to it: the operations on its license, session or tab, and the faults. */
function describe(v: Violation, seed: number, log: OpLog, repro: string, started: number, w: Workload, history: Awaited<ReturnType<Truth['sessionEvents']>>): string {
  const t = (at: number) => `+${((at - started) / 1000).toFixed(3)}s`;
  const conns = v.sessionId ? w.conns.filter((c) => c.grant?.sessionId === v.sessionId) : [];
  // Every tab of the seat keys involved, not only those that were granted this session.
  const keys = new Set(conns.map((c) => c.key));
  const related = log.entries.filter(
    (e) =>
      e.at <= v.at &&
      (e.kind === 'fault' || (e.kind === 'webhook' && v.check.startsWith('webhook'))
        ? e.at >= v.at - 20_000
        : (v.sessionId !== undefined && e.sessionId === v.sessionId) ||
          (v.tab !== undefined && e.tab === v.tab) ||
          (e.key !== undefined && keys.has(e.key)) ||
          (v.sessionId === undefined && v.tab === undefined && e.licenseId === v.licenseId)),
  );
  return [
    `\nVIOLATION ${v.check} (seed ${seed}, at operation #${v.op}, ${t(v.at)}): ${v.message}${v.releasedAt ? ` (released ${t(v.releasedAt)})` : ''}`,
    `  reproduce: ${repro}`,
    `  trace:`,
    ...related.slice(-40).map((e) => `    #${e.op} ${t(e.at)} ${e.kind}: ${e.detail}`),
    ...(history.length ? ['  the session in the seat history:', ...history.map((e) => `    ${t(e.at)} ${e.type}${e.reason ? ` ${e.reason}` : ''} (seats in use ${e.seatsInUse})`)] : []),
    ...(keys.size ? [`  the sockets of ${[...keys].join(', ')}:`, ...w.conns.filter((c) => keys.has(c.key) && c.openedAt <= v.at).slice(-20).map((c) => `    tab ${c.tab} socket ${c.socketId ?? '-'} on ${c.node}: opened ${t(c.openedAt)}, ${c.grant ? `granted ${c.grant.sessionId === v.sessionId ? 'this session' : c.grant.sessionId} ${t(c.grant.at)}${c.grant.resumed ? ' (resumed)' : ''}` : 'not granted'}${story(c, t)}, ${c.end ? `${c.end.kind}${'reason' in c.end ? ` ${c.end.reason}` : ''} ${t(c.end.at)}` : 'still open'}`)] : []),
    '',
  ].join('\n');
}

/** What a trace adds about the policies: queued, a lease's deadline, the activity sent. */
function story(c: Workload['conns'][number], t: (at: number) => string): string {
  const parts = [
    ...(c.queuedAt !== undefined ? [`queued ${t(c.queuedAt)}`] : []),
    ...(c.lease ? [`lease ${c.lease.leaseId} renewBy ${t(c.lease.renewBy)}`] : []),
    ...(c.activity?.length ? [`session:activity last sent ${t(c.activity.at(-1)!)}`] : []),
  ];
  return parts.length ? ` (${parts.join('; ')})` : '';
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`soak failed to run: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
