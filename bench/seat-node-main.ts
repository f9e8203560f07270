// The seat server under test, as the bench runs it (loaded by seat-node.ts once the port is open,
// as `npm start` does): `createSeatServer()` configured from the environment exactly as `npm
// start` does, plus an IPC channel for the driver to read its memory (after a full GC) and the
// lateness of each idle release, which only the engine can see.
import { writeHeapSnapshot } from 'node:v8';
import { parseConfig } from '../server/config';
import type { EarlyPort } from '../server/early-port';
import { createSeatServer } from '../server/seat-server';
import { openStore } from '../server/store/open-store';
import { SqliteSeatStore } from '../server/store/sqlite-store';
import { serve } from './ipc';
import { processCalls } from './node-memory';

// The module body runs once every import has loaded: this is the process's load time.
const modulesLoadedMs = performance.now();

/** Runs the server on the port seat-node.ts opened (`portOpenMs` after the process started). */
export async function run(earlyPort: EarlyPort | undefined, portOpenMs: number): Promise<void> {
  // The store as `npm start` opens it, kept here to read SQLite's commit counts.
  const store = openStore(parseConfig(process.env));
  const server = createSeatServer({ store, earlyPort });
  const lateness: number[] = [];
  /** The deadlines of those releases: how close together the seats fell due. */
  const deadlines: number[] = [];
  server.engine.subscribe((event) => {
    if (event.type === 'session.ended' && event.reason === 'idle_timeout' && event.session.expiresAt !== null) {
      lateness.push(Date.now() - event.session.expiresAt);
      deadlines.push(event.session.expiresAt);
    }
  });

  const { port, url } = await server.listen();
  const listenedMs = performance.now();
  serve({
    ...processCalls(),
    sockets: () => server.io.of('/').sockets.size,
    /** Idle release lateness (ms after the deadline) since the last call. */
    lateness: () => lateness.splice(0),
    /** First and last deadline of the releases since the last call, ms since the epoch. */
    deadlines: () => {
      const d = deadlines.splice(0);
      return d.length ? { first: Math.min(...d), last: Math.max(...d), n: d.length } : null;
    },
    heapSnapshot: (file: string) => writeHeapSnapshot(file),
    /** SQLite's transactions committed and the commits they shared so far; null on PostgreSQL. */
    commits: () => (store instanceof SqliteSeatStore ? store.commitStats() : null),
    stop: async () => {
      await server.close();
      setImmediate(() => process.exit(0));
    },
  });
  process.send!({ ready: true, port, url, boot: { portOpenMs: Math.round(portOpenMs), modulesMs: Math.round(modulesLoadedMs), listenMs: Math.round(listenedMs - modulesLoadedMs) } });
}
