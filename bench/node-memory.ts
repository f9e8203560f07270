// Memory of a server process after a full collection (the process runs with --expose-gc), the
// CPU time it has used, and what it allocates.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { HeapProfiler } from 'node:inspector';
import { Session } from 'node:inspector/promises';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Memory {
  heapUsed: number;
  rss: number;
  external: number;
  arrayBuffers: number;
}

export async function memory(): Promise<Memory> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(50);
  }
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss, external: m.external, arrayBuffers: m.arrayBuffers };
}

export function cpuMicros(): number {
  const c = process.cpuUsage();
  return c.user + c.system;
}

/** CPU time, microseconds, user + system: the main thread's, and the other threads' together. */
export interface ThreadCpu {
  main: number;
  others: number;
}

/**
 * CPU time of this process's main thread (where its JavaScript runs) and of its other threads
 * (V8's helpers: the collector's concurrent marking and sweeping, the compilers; libuv's pool;
 * SQLite's checkpointer), from /proc/self/task (Linux; null elsewhere). The kernel reports it in
 * clock ticks of 10 ms (USER_HZ, 100 on Linux's usual architectures), so read it over a phase of
 * seconds; a thread that ends takes its time out of the sum, so read it across a phase whose
 * threads live on (the servers' do).
 */
export function threadCpuMicros(): ThreadCpu | null {
  let tasks: string[];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    return null;
  }
  const tick = 10_000;
  let main = 0;
  let others = 0;
  for (const tid of tasks) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    // Fields after the command's closing parenthesis: state is the 3rd, utime and stime the 14th and 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const micros = (Number(fields[11]) + Number(fields[12])) * tick;
    if (Number(tid) === process.pid) main += micros;
    else others += micros;
  }
  return { main, others };
}

/**
 * What a process allocates (`--alloc`): V8's sampling heap profiler, counting objects the
 * collector has already freed too, so the total estimates every byte allocated while it ran, not
 * what is still alive. `stop` returns that total and writes the profile (a .heapprofile, which
 * Chrome's DevTools open) when given a file.
 */
export function allocationSampler(): { start: () => Promise<void>; stop: (file?: string) => Promise<number> } {
  const session = new Session();
  return {
    async start() {
      session.connect();
      await session.post('HeapProfiler.enable');
      await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    },
    async stop(file?: string) {
      const { profile } = await session.post('HeapProfiler.stopSampling');
      await session.post('HeapProfiler.disable');
      session.disconnect();
      if (file) writeFileSync(file, JSON.stringify(profile));
      let total = 0;
      const walk = (node: HeapProfiler.SamplingHeapProfileNode) => {
        total += node.selfSize;
        for (const child of node.children) walk(child);
      };
      walk(profile.head);
      return total;
    },
  };
}

/** A CPU profile of one phase (`--profile`): started on `start`, written to `file` on `stop`. */
export function cpuProfiler(): { start: () => Promise<void>; stop: (file: string) => Promise<void> } {
  const session = new Session();
  return {
    async start() {
      session.connect();
      await session.post('Profiler.enable');
      // A sample every 100 µs, not V8's 1 ms: a connect takes well under a millisecond.
      await session.post('Profiler.setSamplingInterval', { interval: 100 });
      await session.post('Profiler.start');
    },
    async stop(file: string) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

/**
 * The calls both servers answer alike (seat-node-main.ts, floor-node.ts): memory, CPU time, what
 * they allocate, and a CPU profile of one phase.
 */
export function processCalls() {
  const alloc = allocationSampler();
  const profiler = cpuProfiler();
  return {
    memory: () => memory(),
    /** CPU time this process has used, microseconds (user + system). */
    cpu: () => cpuMicros(),
    /** The same, user and system (the kernel's, on this process's behalf) apart. */
    cpuSplit: () => process.cpuUsage(),
    /** The same, the main thread's and the other threads' apart (null off Linux). */
    threadCpu: () => threadCpuMicros(),
    /** Bytes allocated between the two calls (`--alloc`), estimated by V8's sampling heap profiler. */
    allocStart: () => alloc.start(),
    allocStop: (file?: string) => alloc.stop(file),
    /** A CPU profile of one phase (`--profile`): started here, written to `file` on stop. */
    profileStart: () => profiler.start(),
    profileStop: (file: string) => profiler.stop(file),
  };
}
