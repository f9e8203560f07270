// Throwaway PostgreSQL and Redis, for the test suites and the bench alike: a fresh cluster in a
// temp dir and a redis-server, each on a free loopback port, stopped (and removed) by the caller.
// No test framework here, so the bench can use it too.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createClient } from 'redis';

const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

function which(cmd: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export const REDIS_SERVER = which('redis-server');

/** Why PostgreSQL cannot run here, or undefined when it can. */
export function postgresMissing(): string | undefined {
  for (const b of ['initdb', 'postgres']) if (!existsSync(path.join(PG_BIN, b))) return `no ${b} in ${PG_BIN} (set PG_BIN)`;
  if (process.getuid?.() === 0 && !unprivilegedUser()) return 'running as root and no unprivileged user (postgres or nobody) to run postgres as';
  return undefined;
}

export function redisMissing(): string | undefined {
  return REDIS_SERVER ? undefined : 'no redis-server on PATH (apt-get install redis-server)';
}

/** initdb and postgres refuse to run as root: use the `postgres` user, else `nobody`. */
function unprivilegedUser(): { uid: number; gid: number } | undefined {
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      if (Number.isInteger(uid) && uid > 0) return { uid, gid };
    } catch {
      // try the next one
    }
  }
  return undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function waitFor(what: string, fn: () => Promise<unknown>, child: ChildProcess, log: () => string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited:\n${log()}`);
    try {
      await fn();
      return;
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${what} did not become ready: ${String(last)}\n${log()}`);
}

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** For a caller that must kill what is still running if it exits abruptly (the bench's exit hook). */
export interface SpawnHooks {
  /** Called with each server process as it is spawned (again on `start()` after `stop()`). */
  onSpawn?: (child: ChildProcess) => void;
}

/**
 * A server process that can be stopped and started again: `start` spawns it and waits until
 * `ready` answers; `launch` is the first start, which leaves nothing running when it fails.
 */
function serverProcess(what: string, spawnIt: () => ChildProcess, ready: () => Promise<unknown>, stopSignal: NodeJS.Signals, hooks: SpawnHooks) {
  let child: ChildProcess | undefined;
  let out = '';
  const stop = async (signal = stopSignal) => {
    if (!child) return;
    const c = child;
    child = undefined;
    c.kill(signal);
    await exitOf(c);
  };
  const start = async () => {
    const c = spawnIt();
    c.stdout!.on('data', (d) => (out += d));
    c.stderr!.on('data', (d) => (out += d));
    child = c;
    hooks.onSpawn?.(c);
    await waitFor(what, ready, c, () => out);
  };
  const launch = async () => {
    try {
      await start();
    } catch (err) {
      await stop('SIGKILL');
      throw err;
    }
  };
  return { start, stop: (signal?: NodeJS.Signals) => stop(signal), launch, output: () => out };
}

export interface Postgres {
  readonly port: number;
  /** The temp dir that holds the cluster; `destroy()` removes it. */
  readonly dir: string;
  /** The URL of the `postgres` database (for CREATE DATABASE). */
  readonly adminUrl: string;
  /** A new, empty database; returns its URL. */
  createDatabase(prefix?: string): Promise<string>;
  /**
   * Stops the server; the cluster stays on disk. `fast` (the default, SIGINT) cuts connections
   * and checkpoints; `immediate` (SIGQUIT) quits at once, and the next start recovers from WAL.
   */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts the same cluster on the same port again. */
  start(): Promise<void>;
  /** Stops it and removes the cluster. */
  destroy(): Promise<void>;
  output(): string;
}

/**
 * A throwaway PostgreSQL cluster (initdb in a temp dir, trust auth, loopback only, no fsync).
 * Commits return before their WAL is written unless `durableCommits`: fine for tests, but an
 * immediate shutdown then loses the last few hundred milliseconds of commits, which a soak that
 * kills PostgreSQL and checks every acknowledged write must not allow. Without fsync, a written
 * WAL still survives the process (not the machine).
 */
export async function startPostgres(hooks: SpawnHooks & { durableCommits?: boolean } = {}): Promise<Postgres> {
  const dir = mkdtempSync(path.join(tmpdir(), 'seats-pg-'));
  const data = path.join(dir, 'data');
  const user = process.getuid?.() === 0 ? unprivilegedUser() : undefined;
  if (user) {
    chownSync(dir, user.uid, user.gid);
    chmodSync(dir, 0o700);
  }
  const as = user ? { uid: user.uid, gid: user.gid } : {};
  const port = await freePort();
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const server = serverProcess(
    'postgres',
    () =>
      spawn(
        path.join(PG_BIN, 'postgres'),
        [
          '-D', data,
          '-p', String(port),
          '-c', 'listen_addresses=127.0.0.1',
          '-c', `unix_socket_directories=${dir}`,
          '-c', 'fsync=off',
          '-c', `synchronous_commit=${hooks.durableCommits ? 'on' : 'off'}`,
          '-c', 'full_page_writes=off',
          '-c', 'max_connections=300',
        ],
        { ...as, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: dir } },
      ),
    async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      try {
        await client.connect();
        await client.query('select 1');
      } finally {
        await client.end().catch(() => {});
      }
    },
    // Fast shutdown: connections are cut, the cluster stays on disk.
    'SIGINT',
    hooks,
  );
  try {
    execFileSync(path.join(PG_BIN, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--locale=C'], {
      ...as,
      cwd: dir,
      stdio: 'pipe',
      env: { ...process.env, HOME: dir },
    });
    await server.launch();
  } catch (err) {
    // Nothing of a cluster that did not come up is left running or on disk.
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  let n = 0;
  return {
    port,
    dir,
    adminUrl,
    async createDatabase(prefix = 'seats') {
      const name = `${prefix}_${process.pid}_${++n}_${Math.random().toString(36).slice(2, 8)}`.replace(/[^a-z0-9_]/gi, '_').toLowerCase();
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`create database "${name}"`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    stop: (mode = 'fast') => server.stop(mode === 'immediate' ? 'SIGQUIT' : 'SIGINT'),
    start: server.start,
    async destroy() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    output: server.output,
  };
}

/**
 * A pg pool for a test's own reads. pool.end() resolves before its sockets close, so a cluster's
 * shutdown may still reach one: it listens, as the store's pool does, or the 'error' would be an
 * uncaught exception.
 */
export function testPool(connectionString: string, max = 2): pg.Pool {
  const pool = new pg.Pool({ connectionString, max });
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

export interface Redis {
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

/** A throwaway redis-server on a free loopback port, without persistence. */
export async function startRedis(hooks: SpawnHooks = {}): Promise<Redis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const server = serverProcess(
    'redis-server',
    () => spawn(REDIS_SERVER ?? 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] }),
    async () => {
      const client = createClient({ url, socket: { reconnectStrategy: false } });
      client.on('error', () => {});
      await client.connect();
      await client.ping();
      await client.quit();
    },
    'SIGKILL',
    hooks,
  );
  await server.launch();
  return { port, url, stop: () => server.stop(), start: server.start, destroy: () => server.stop() };
}
