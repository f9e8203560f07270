// `npm start`'s entry point (the bundle `npm run build` makes in dist/) as a child process on a
// free port. No test framework here: the test harness and the soak both start nodes with it.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface Proc {
  url: string;
  port: number;
  child: ChildProcess;
  output: () => string;
  /** SIGKILL, and wait for the exit. */
  kill9(): Promise<void>;
  /** SIGTERM, and wait for the exit. */
  stop(): Promise<void>;
}

/**
 * Spawns the server with `env` over the caller's environment (PORT 0, info logs, demo off unless
 * given). `ready` resolves once it logs its URL; `kill9` works before that too.
 */
export function spawnServer(env: Record<string, string>, opts: { startTimeoutMs?: number } = {}): { ready: Promise<Proc>; kill9: () => Promise<void> } {
  const child = spawn(process.execPath, ['--enable-source-maps', 'dist/main.js'], {
    cwd: ROOT,
    // A database in memory unless the test names one: never the checkout's ./data/seats.db, which
    // a developer's own `npm start` holds (and a test would leave behind).
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', DEMO: 'off', DATABASE_URL: ':memory:', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  // The newest few MB only: a long-running node (the soak's) must not grow without bound.
  const keep = (d: Buffer) => {
    out += d;
    if (out.length > 4_000_000) out = out.slice(-2_000_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = async (sig: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    await exited;
  };
  const kill9 = () => signal('SIGKILL');
  const ready = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), opts.startTimeoutMs ?? 45_000);
    const onData = () => {
      const m = out.match(/"url":"http:\/\/localhost:(\d+)"/);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`server exited:\n${out}`));
    });
  }).then((port) => ({
    url: `http://localhost:${port}`,
    port,
    child,
    output: () => out,
    kill9,
    stop: () => signal('SIGTERM'),
  }));
  return { ready, kill9 };
}
