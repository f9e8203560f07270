// What every bench phase shares: the server and load processes, the REST calls that set a run up,
// and opening, reading and closing sockets across the load processes. Module state (the children
// to kill and temp dirs to remove if a run ends early) is one run's: the driver is one process.
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Call, rpc } from './ipc';
import type { OpenArgs, OpenResult } from './load-worker';
import type { SqliteSeatStore } from '../server/store/sqlite-store';
import { dist, round } from './stats';

export const ROOT = path.resolve(import.meta.dirname, '..');
export const ADMIN_TOKEN = `bench-${randomBytes(12).toString('hex')}`;

export const log = (msg: string) => process.stderr.write(`[bench ${((performance.now() - T0) / 1000).toFixed(1)}s] ${msg}\n`);
export const T0 = performance.now();
export const children = new Set<ChildProcess>();
/** Temp dirs to remove if the run ends early (a normal end removes them itself). */
export const tempDirs = new Set<string>();

export function track(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

// ---- processes ----

/** `--pin`: the CPUs the servers run on, and those the load processes and the driver run on. */
let pinning: { servers: string; load: string } | undefined;

/**
 * `--pin` (Linux, `taskset`, two CPUs or more): every server (ours, the floor, the cluster's
 * nodes) runs on the first CPU, the load processes and this driver on the others, so the load
 * shares no core (caches, wakeups) with a server. On the Intel Xeon of 2026-11-28 it did not make
 * the CPU rows steadier (README, Performance). The throughput rows read what one core does.
 */
export function pinServers(): { servers: string; load: string } {
  const cpus = os.availableParallelism();
  if (cpus < 2) throw new Error(`--pin needs two CPUs or more (one for the servers, the rest for the load); this machine has ${cpus}`);
  pinning = { servers: '0', load: `1-${cpus - 1}` };
  pin(process.pid, pinning.load);
  return pinning;
}

/** Sets a process's CPUs, every thread it has (threads it starts later inherit them). */
export function pin(pid: number, cpus: string): void {
  try {
    execFileSync('taskset', ['--all-tasks', '--pid', '--cpu-list', cpus, String(pid)], { stdio: 'pipe' });
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'taskset (util-linux) is not installed' : String((err as { stderr?: Buffer }).stderr ?? err).trim();
    throw new Error(`--pin: could not pin process ${pid} to CPU ${cpus}: ${why}`);
  }
}

/** SQLite's commit counts (seat-node.ts's `commits`, the store's `commitStats`). */
export type Commits = ReturnType<SqliteSeatStore['commitStats']>;

/** Transactions per commit between two readings of the counts. */
export function transactionsPerCommit(before: Commits, after: Commits): number | null {
  return round((after.transactions - before.transactions) / Math.max(1, after.commits - before.commits), 1);
}

export interface Node {
  kind: 'ours' | 'floor';
  child: ChildProcess;
  call: Call;
  url: string;
  port: number;
  /** The seat server's own start-up: module loading, then listen (migrations, reaping). */
  boot?: unknown;
  output: () => string;
}

/**
 * Both servers run as bundles, built as `npm start` builds the seat server (server/build.mjs):
 * plain Node, no TypeScript loader, so a restart measures the server and not tsx. Built into
 * dist/bench/ once per run, each on its own, so that neither loads chunks shared with the other
 * (as `npm start`'s bundle shares none).
 */
export function buildNodes(): void {
  for (const entry of ['bench/seat-node.ts', 'bench/floor-node.ts']) {
    execFileSync(process.execPath, ['server/build.mjs', entry, '--outdir', 'dist/bench'], { cwd: ROOT, stdio: 'inherit' });
  }
}

export async function startNode(kind: 'ours' | 'floor', env: Record<string, string>, extraExecArgv: string[] = []): Promise<Node> {
  const file = kind === 'ours' ? 'dist/bench/seat-node.js' : 'dist/bench/floor-node.js';
  const execArgv = ['--enable-source-maps', '--expose-gc', ...extraExecArgv];
  const child = fork(path.join(ROOT, file), [], { cwd: ROOT, env: { ...process.env, ...env }, execArgv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  track(child);
  if (pinning) pin(child.pid!, pinning.servers);
  let out = '';
  child.stdout!.on('data', (d) => (out = (out + d).slice(-20_000)));
  child.stderr!.on('data', (d) => (out = (out + d).slice(-20_000)));
  const ready = await new Promise<{ port: number; url: string; boot?: unknown }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} server did not start:\n${out}`)), 30_000);
    child.on('message', (m: any) => {
      if (m?.ready) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    child.once('exit', (code) => reject(new Error(`${kind} server exited (${code}):\n${out}`)));
  });
  return { kind, child, call: rpc(child, kind), url: ready.url, port: ready.port, boot: ready.boot, output: () => out };
}

/** Every seat server of the run, single node or cluster, runs with these. */
export const OURS_ENV = {
  ADMIN_TOKEN,
  CONNECT_RATE_PER_SEC: '0',
  IDLE_TIMEOUT_MIN_SEC: '1',
  KICK_COOLDOWN_SEC: '1',
  LOG_LEVEL: 'warn',
  DEMO: 'off',
  // The policies phase's webhook posts to a receiver in this process, on loopback.
  WEBHOOK_ALLOW_PRIVATE: 'on',
};

export async function startOurs(dbFile: string, port = 0, execArgv: string[] = []): Promise<Node> {
  return startNode('ours', { ...OURS_ENV, PORT: String(port), DATABASE_URL: dbFile }, execArgv);
}

export const startFloor = (port = 0, execArgv: string[] = []) => startNode('floor', { PORT: String(port) }, execArgv);

export async function kill9(node: Node): Promise<void> {
  if (node.child.exitCode !== null || node.child.signalCode !== null) return;
  const exited = new Promise((r) => node.child.once('exit', r));
  node.child.kill('SIGKILL');
  await exited;
}

export async function stopNode(node: Node): Promise<void> {
  if (node.child.exitCode !== null || node.child.signalCode !== null) return;
  const exited = new Promise((r) => node.child.once('exit', r));
  await node.call('stop', undefined, 30_000).catch(() => node.child.kill('SIGKILL'));
  await Promise.race([exited, sleep(10_000).then(() => node.child.kill('SIGKILL'))]);
}

export interface Worker {
  child: ChildProcess;
  call: Call;
}

export async function startWorkers(n: number): Promise<Worker[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const child = fork(path.join(ROOT, 'bench/load-worker.ts'), [], { cwd: ROOT, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      track(child);
      if (pinning) pin(child.pid!, pinning.load);
      await new Promise<void>((resolve, reject) => {
        child.on('message', (m: any) => m?.ready && resolve());
        child.once('exit', (code) => reject(new Error(`load worker exited (${code})`)));
      });
      return { child, call: rpc(child, 'load worker') };
    }),
  );
}

// ---- REST ----

export async function rest<T = any>(url: string, method: string, pathname: string, body?: unknown, token = ADMIN_TOKEN): Promise<T> {
  const res = await fetch(`${url}/api/v1${pathname}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${pathname} → ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

export interface Lic {
  id: string;
  secret: string;
}

export async function license(url: string, tenantId: string, body: Record<string, unknown>): Promise<Lic> {
  return rest<Lic>(url, 'POST', '/licenses', { tenantId, seatKey: ['session'], ...body });
}

export async function seatsInUse(url: string, lic: Lic): Promise<number> {
  return (await rest<{ seatsInUse: number }>(url, 'GET', `/licenses/${lic.id}`)).seatsInUse;
}

export async function waitSeatsFree(url: string, lic: Lic, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if ((await seatsInUse(url, lic)) === 0) return true;
    await sleep(200);
  }
  return false;
}

// ---- load across workers ----

export interface Opened {
  ok: number;
  failed: number;
  errors: Record<string, number>;
  latenciesMs: number[];
  seconds: number;
  perSec: number;
}

export async function openAll(workers: Worker[], a: Omit<OpenArgs, 'prefix' | 'count'> & { count: number; prefix: string }): Promise<Opened> {
  const results = await Promise.all(
    workers.map((w, i) => {
      const share = (k: number) => Math.floor(a.count / workers.length) + (k < a.count % workers.length ? 1 : 0);
      const count = share(i);
      const offset = Array.from({ length: i }, (_, k) => share(k)).reduce((x, y) => x + y, 0);
      return w.call<OpenResult>(
        'open',
        { ...a, count, offset, prefix: `${a.prefix}-w${i}`, ratePerSec: a.ratePerSec ? a.ratePerSec / workers.length : undefined },
        300_000,
      );
    }),
  );
  const errors: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
  const ok = results.reduce((n, r) => n + r.ok, 0);
  const seconds = (Math.max(...results.map((r) => r.endedAt)) - Math.min(...results.map((r) => r.startedAt))) / 1000;
  return {
    ok,
    failed: results.reduce((n, r) => n + r.failed, 0),
    errors,
    latenciesMs: results.flatMap((r) => r.latenciesMs),
    seconds,
    perSec: ok / seconds,
  };
}

export async function closeAll(workers: Worker[], tag: string): Promise<number> {
  const r = await Promise.all(workers.map((w) => w.call<{ unexpectedDisconnects: number }>('close', { tag })));
  return r.reduce((n, x) => n + x.unexpectedDisconnects, 0);
}

export async function statusAll(workers: Worker[], tag: string, since?: number) {
  const r = await Promise.all(workers.map((w) => w.call<Record<string, number>>('status', { tag, since })));
  const sum: Record<string, number> = {};
  for (const s of r) for (const [k, v] of Object.entries(s)) sum[k] = k === 'lastAt' ? Math.max(sum[k] ?? 0, v) : (sum[k] ?? 0) + v;
  return sum as { total: number; connected: number; regranted: number; sameSession: number; resumedFlag: number; denied: number; lastAt: number; unexpectedDisconnects: number };
}

export interface Kicked {
  latencyMs: ReturnType<typeof dist>;
  kicked: number;
  errors: Record<string, number>;
}

/** Each worker kicks its sockets of `tag` through `url`'s REST API, timing each until its `session:ended`. */
export async function kickAll(workers: Worker[], tag: string, url: string, count: number, openErrors: Record<string, number>): Promise<Kicked> {
  const per = await Promise.all(
    workers.map((w) => w.call<{ latenciesMs: number[]; errors: Record<string, number> }>('kick', { tag, url, adminToken: ADMIN_TOKEN, count, gapMs: 5 }, 300_000)),
  );
  const errors: Record<string, number> = { ...openErrors };
  for (const p of per) for (const [k, v] of Object.entries(p.errors)) errors[k] = (errors[k] ?? 0) + v;
  const latencies = per.flatMap((p) => p.latenciesMs);
  return { latencyMs: dist(latencies), kicked: latencies.length, errors };
}

export const KiB = 1024;

export const firstLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0]!;

/** A throwaway service, or why there is none; a service that fails to start is a skip, not a failed run. */
export async function throwaway<T>(what: string, missing: string | undefined, start: () => Promise<T>): Promise<{ service?: T; skipped?: string }> {
  if (missing) {
    log(`no ${what}: ${missing}`);
    return { skipped: missing };
  }
  try {
    log(`starting a throwaway ${what}`);
    return { service: await start() };
  } catch (err) {
    log(`${what} did not start: ${err instanceof Error ? err.message : String(err)}`);
    return { skipped: `${what} did not start: ${firstLine(err)}` };
  }
}
