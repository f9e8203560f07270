// Memory of a server process after a full collection (the process runs with --expose-gc), and
// the CPU time it has used.
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
