// The seat server under test, as the bench runs it: `createSeatServer()` configured from the
// environment exactly as `npm start` does, plus an IPC channel for the driver to read its memory
// (after a full GC) and the lateness of each idle release, which only the engine can see.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { writeHeapSnapshot } from 'node:v8';
import { createSeatServer } from '../server/seat-server';
import { serve } from './ipc';
import { allocationSampler, cpuMicros, memory } from './node-memory';

// The module body runs once every import has loaded: this is the process's load time.
const modulesLoadedMs = performance.now();
const server = createSeatServer();
const lateness: number[] = [];
/** The deadlines of those releases: how close together the seats fell due. */
const deadlines: number[] = [];
const inspector = new Session();
server.engine.subscribe((event) => {
  if (event.type === 'session.ended' && event.reason === 'idle_timeout' && event.session.expiresAt !== null) {
    lateness.push(Date.now() - event.session.expiresAt);
    deadlines.push(event.session.expiresAt);
  }
});

const { port, url } = await server.listen();
const listenedMs = performance.now();
const alloc = allocationSampler();
serve({
  memory: () => memory(),
  /** CPU time this process has used, microseconds (user + system). */
  cpu: () => cpuMicros(),
  /** Bytes allocated between the two calls (`--alloc`), estimated by V8's sampling heap profiler. */
  allocStart: () => alloc.start(),
  allocStop: (file?: string) => alloc.stop(file),
  sockets: () => server.io.of('/').sockets.size,
  /** Idle release lateness (ms after the deadline) since the last call. */
  lateness: () => lateness.splice(0),
  /** First and last deadline of the releases since the last call, ms since the epoch. */
  deadlines: () => {
    const d = deadlines.splice(0);
    return d.length ? { first: Math.min(...d), last: Math.max(...d), n: d.length } : null;
  },
  heapSnapshot: (file: string) => writeHeapSnapshot(file),
  /** A CPU profile of one phase (`--profile`): started here, written to `file` on stop. */
  profileStart: async () => {
    inspector.connect();
    await inspector.post('Profiler.enable');
    await inspector.post('Profiler.start');
  },
  profileStop: async (file: string) => {
    const { profile } = await inspector.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    inspector.disconnect();
  },
  stop: async () => {
    await server.close();
    setImmediate(() => process.exit(0));
  },
});
process.send!({ ready: true, port, url, boot: { modulesMs: Math.round(modulesLoadedMs), listenMs: Math.round(listenedMs - modulesLoadedMs) } });
