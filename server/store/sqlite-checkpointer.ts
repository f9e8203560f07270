// WAL checkpoints off the event loop. A checkpoint copies the WAL's pages into the database file
// and syncs it: run by the connection that commits (SQLite's default), it stalls every commit
// that trips it, 10-45 ms here, in the thread that serves the sockets. Instead the serving
// connection never checkpoints, and a worker thread with a connection of its own runs a PASSIVE
// checkpoint (it waits for nobody) every few hundred milliseconds. It reports the WAL's size after
// each, and runs one at once when asked (`now`): the store waits for that one, off the event loop,
// when the WAL has grown past its limit (sqlite-store.ts, `startWalOver`).
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// CommonJS, evaluated in the worker; the driver's path comes from here, so the worker finds it
// whatever the working directory, bundled or not.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
const check = (asked) => {
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ asked, log: r.log, checkpointed: r.checkpointed });
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message || err) });
  }
};
const timer = setInterval(() => check(0), workerData.intervalMs);
parentPort.on('message', (m) => {
  if (typeof m === 'number') return check(m);
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  /** Stops the worker (the last connection to close checkpoints what is left). */
  stop(): Promise<void>;
  /** The WAL's frames at the worker's last checkpoint, or 0 when every one was copied by a checkpoint asked for (`now`). */
  readonly walFrames: number;
  /** A checkpoint at once, settled when it is done (or when the worker is gone). */
  now(): Promise<void>;
}

/**
 * Starts checkpointing `file` from a worker thread. `onFailure` hears when the worker cannot
 * go on: the caller turns its own connection's automatic checkpoints back on.
 */
export function startCheckpointer(file: string, intervalMs: number, onFailure: (err: unknown) => void): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER, { eval: true, workerData: { file, intervalMs, driver } });
  let stopping = false;
  let failed = false;
  let walFrames = 0;
  let asked = 0;
  /** Checkpoints asked for, by their number, each settled by its answer. */
  const waiting = new Map<number, () => void>();
  const settleAll = () => {
    for (const done of waiting.values()) done();
    waiting.clear();
  };
  const fail = (err: unknown) => {
    settleAll();
    if (failed || stopping) return;
    failed = true;
    onFailure(err);
    void worker.terminate();
  };
  worker.on('message', (m: { error?: string; asked?: number; log?: number; checkpointed?: number }) => {
    if (m.error !== undefined) return fail(new Error(`WAL checkpoint failed: ${m.error}`));
    // Every frame copied by a checkpoint the store waited for: its next transaction starts the WAL over.
    walFrames = m.asked && m.checkpointed === m.log ? 0 : (m.log ?? 0);
    const done = m.asked ? waiting.get(m.asked) : undefined;
    waiting.delete(m.asked ?? 0);
    done?.();
  });
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the WAL checkpoint worker exited (${code})`)));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.unref();
  return {
    get walFrames() {
      // Without the worker the connection checkpoints itself again, and its WAL starts over as SQLite's does.
      return failed ? 0 : walFrames;
    },
    now() {
      if (failed || stopping) return Promise.resolve();
      const n = ++asked;
      return new Promise<void>((resolve) => {
        waiting.set(n, resolve);
        worker.postMessage(n);
      });
    },
    async stop() {
      stopping = true;
      settleAll();
      worker.postMessage('stop');
      await exited;
    },
  };
}
