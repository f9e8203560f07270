// WAL checkpoints off the event loop. A checkpoint copies the WAL's pages into the database file
// and syncs it: run by the connection that commits (SQLite's default), it stalls every commit
// that trips it, 10-45 ms here, in the thread that serves the sockets. Instead the serving
// connection never checkpoints, and a worker thread with a connection of its own runs a PASSIVE
// checkpoint (it waits for nobody and nobody waits for it) every few hundred milliseconds.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// CommonJS, evaluated in the worker; the driver's path comes from here, so the worker finds it
// whatever the working directory, bundled or not.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message || err) });
  }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  /** Stops the worker (the last connection to close checkpoints what is left). */
  stop(): Promise<void>;
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
  const fail = (err: unknown) => {
    if (failed || stopping) return;
    failed = true;
    onFailure(err);
    void worker.terminate();
  };
  worker.on('message', (m: { error?: string }) => fail(new Error(`WAL checkpoint failed: ${m.error}`)));
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the WAL checkpoint worker exited (${code})`)));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.unref();
  return {
    async stop() {
      stopping = true;
      worker.postMessage('stop');
      await exited;
    },
  };
}
