// Where a server's CPU goes, by part, from Linux `perf` (`npm run bench -- --perf`). perf samples
// the CPU each thread actually used (the kernel's clock, every thread, kernel time included), so a
// part's share does not take in time spent waiting for a core, as V8's own sampler (`--profile`)
// does when the load shares the machine. Each sample goes to one part:
// - the V8 collector, when any frame of its stack is the collector's (on any thread);
// - other threads (V8's compilers, libuv's pool, SQLite's checkpointer), when not on the main one;
// - else the project's innermost frame on the stack (its source file, through the bundle's source
//   map: `--perf-basic-prof` names each compiled function by its bundle position), with all it
//   called (the libraries, SQLite's C code, the kernel);
// - else the store, when SQLite's C code or Kysely is on the stack with no project frame above it
//   (a group's commit, run by Kysely once the transactions' callbacks have settled);
// - else socket.io, ws and Node: no frame of the project's on the stack.
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { frameOrigin, type SourceMaps } from './source-origin';

export const PARTS = {
  collector: 'V8 collector',
  threads: 'other threads (compilers, libuv pool, SQLite checkpointer)',
  library: 'socket.io, ws and Node (no project frame)',
} as const;

/** The project's parts, by source file (the first that matches). */
const AREAS: Array<[RegExp, string]> = [
  [/server\/seats\/token-/, 'token check (server/seats/token-*)'],
  [/server\/store\//, 'store: transactions and SQLite (server/store)'],
  [/server\/seats\//, 'engine (server/seats)'],
  [/server\/realtime\//, 'socket handlers (server/realtime)'],
  [/bench\//, "the bench's own (the floor's handler)"],
];
const OTHER_PROJECT = 'other project code';
const STORE = AREAS[1]![1];

const GC = /Scavenger|ScavengerCollector|MarkCompactCollector|MinorMarkCompact|ConcurrentMarking|MarkingVisitor|Sweeper::|Heap::CollectGarbage|Heap::PerformGarbageCollection/;

export interface PerfSplit {
  /** CPU microseconds per connect, by part (PARTS, the project's areas). */
  parts: Record<string, number>;
  /** By the project's source file, the same attribution as `parts`. */
  files: Record<string, number>;
  totalUsPerConnect: number;
  samples: number;
}

/** The source file (relative to the repository: server/…, shared/…, bench/…) a JIT frame's code came from, or undefined. */
export function frameSource(frame: string, maps: SourceMaps = new Map()): string | undefined {
  const m = frame.match(/(file:\/\/\S+?):(\d+):(\d+)$/);
  // perf's names give the function's start, line and column counted from 1.
  return m ? frameOrigin(m[1]!, Number(m[2]) - 1, Number(m[3]) - 1, maps)?.source : undefined;
}

/** A project file (not a dependency): its part. */
const areaOf = (source: string) => AREAS.find(([re]) => re.test(source))?.[1] ?? OTHER_PROJECT;
const isProject = (source: string | undefined): source is string => !!source && /^(server|shared|bench)\//.test(source);

/**
 * Splits `perf script -F tid,period,ip,sym,dso` output (a header line of thread id and period in
 * ns, then one frame per line, innermost first: address, symbol, object file in parentheses; a
 * blank line between samples) into parts, per connect.
 */
export function splitPerfScript(text: string, opts: { mainTid: number; connects: number }): PerfSplit {
  const maps: SourceMaps = new Map();
  const sources = new Map<string, string | undefined>();
  const sourceOf = (frame: string) => {
    if (!sources.has(frame)) sources.set(frame, frameSource(frame, maps));
    return sources.get(frame);
  };
  const parts = new Map<string, number>();
  const files = new Map<string, number>();
  let total = 0;
  let samples = 0;
  for (const block of text.split(/\n\s*\n/)) {
    const lines = block.split('\n').filter((l) => l.trim() !== '');
    const head = lines[0]?.trim().split(/\s+/);
    if (!head || head.length < 2 || !/^\d+$/.test(head[0]!) || !/^\d+$/.test(head[1]!)) continue;
    const tid = Number(head[0]);
    const period = Number(head[1]);
    // Each frame: its address, its symbol, and its object file in parentheses.
    const frames = lines.slice(1).map((l) => {
      const m = l.trim().match(/^\S+\s+(.*?)\s+\(([^()]*)\)$/);
      return m ? { sym: m[1]!, dso: m[2]! } : { sym: l.trim().replace(/^\S+\s*/, ''), dso: '' };
    });
    samples += 1;
    total += period;
    let part: string;
    if (frames.some((f) => GC.test(f.sym))) part = PARTS.collector;
    else if (tid !== opts.mainTid) part = PARTS.threads;
    else {
      const sources = frames.map((f) => sourceOf(f.sym));
      const source = sources.find(isProject);
      if (source) files.set(source, (files.get(source) ?? 0) + period);
      if (source) part = areaOf(source);
      else if (frames.some((f) => f.dso.includes('better_sqlite3')) || sources.some((src) => src?.startsWith('node_modules/kysely/'))) part = STORE;
      else part = PARTS.library;
    }
    parts.set(part, (parts.get(part) ?? 0) + period);
  }
  const perConnect = (ns: number) => Math.round((ns / 1000 / Math.max(1, opts.connects)) * 10) / 10;
  const byValue = (m: Map<string, number>) => Object.fromEntries([...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, perConnect(v)]));
  return { parts: byValue(parts), files: byValue(files), totalUsPerConnect: perConnect(total), samples };
}

/** Why `perf` cannot record here, or undefined when it can. */
export function perfMissing(): string | undefined {
  const r = spawnSync('perf', ['record', '-q', '-o', '/dev/null', '--', 'true'], { encoding: 'utf8' });
  if (r.error) return 'Linux perf is not installed (Debian: apt-get install linux-perf)';
  if (r.status !== 0) return `perf cannot record here: ${(r.stderr || '').trim().split('\n')[0]}`;
  return undefined;
}

/**
 * Records every thread of process `pid` with perf (CPU clock, call stacks) while `fn` runs, into
 * `file`; then reads the samples back as perf script's text.
 */
export async function perfRecord<T>(pid: number, file: string, fn: () => Promise<T>): Promise<{ result: T; script: string }> {
  const rec = spawn('perf', ['record', '-q', '-F', '999', '-g', '-o', file, '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  rec.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => rec.once('exit', resolve));
  // perf attaches to the threads in a moment; samples before that would be lost.
  await new Promise((r) => setTimeout(r, 500));
  let result: T;
  try {
    result = await fn();
  } finally {
    rec.kill('SIGINT');
  }
  const code = await exited;
  if (code !== 0 && code !== null) throw new Error(`perf record exited ${code}: ${err.trim()}`);
  const script = spawnSync('perf', ['script', '-i', file, '-F', 'tid,period,ip,sym,dso'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  // The compiled functions' names that `--perf-basic-prof` wrote for perf script, read now.
  rmSync(`/tmp/perf-${pid}.map`, { force: true });
  if (script.status !== 0) throw new Error(`perf script failed: ${script.stderr}`);
  return { result, script: script.stdout };
}
