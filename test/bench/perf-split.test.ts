// The bench's split of a server's CPU by part (bench/perf-split.ts), from `perf script` text whose
// compiled frames point into a real bundle with its source map, as `--perf-basic-prof` names them.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PARTS, frameSource, splitPerfScript } from '../../bench/perf-split';
import { rows } from '../../bench/report';
import { frameFile, frameName, isProjectFrame } from '../../bench/source-origin';
import { report } from './report-fixture';

const MAIN = 4242;
let dir: string;
/** `JS:*name file:///…/out.js:LINE:COL`, the position of `function name` in the bundle. */
const frames: Record<string, string> = {};

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'perf-split-'));
  const files: Record<string, string> = {
    'server/store/ledger.ts': 'export function storeWork(n: number) { let s = 0; for (let i = 0; i < n; i++) s += i; return s; }',
    'server/realtime/sockets.ts': 'export function onConnect(n: number) { return n * 2; }',
    'server/seats/token-check.ts': 'export function checkToken(t: string) { return t.length; }',
    'node_modules/lib/index.js': 'export function libWork(n) { return n + 1; }',
    'entry.ts': [
      "import { storeWork } from './server/store/ledger';",
      "import { onConnect } from './server/realtime/sockets';",
      "import { checkToken } from './server/seats/token-check';",
      "import { libWork } from './node_modules/lib/index.js';",
      'console.log(storeWork(3), onConnect(2), checkToken("x"), libWork(1));',
    ].join('\n'),
  };
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
  const out = path.join(dir, 'dist', 'out.js');
  await esbuild.build({ entryPoints: [path.join(dir, 'entry.ts')], bundle: true, format: 'esm', platform: 'node', sourcemap: true, minify: false, outfile: out, logLevel: 'silent' });
  const lines = readFileSync(out, 'utf8').split('\n');
  for (const name of ['storeWork', 'onConnect', 'checkToken', 'libWork']) {
    const line = lines.findIndex((l) => l.includes(`function ${name}(`));
    frames[name] = `JS:*${name} ${pathToFileURL(out).href}:${line + 1}:${lines[line]!.indexOf(`function ${name}(`) + 1}`;
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One sample of perf script's text: thread, period (ns), frames innermost first. */
const sample = (tid: number, periodNs: number, stack: Array<[string, string]>) =>
  [`${tid}  ${periodNs} `, ...stack.map(([sym, dso], i) => `\t${(0x1000 + i).toString(16)} ${sym} (${dso})`)].join('\n');
const NODE = '/usr/bin/node';
const JIT = `/tmp/perf-${MAIN}.map`;
const base: Array<[string, string]> = [
  ['uv_run', NODE],
  ['node::Start', NODE],
];

describe('perf split', () => {
  it("names a V8 profile's frame of the bundle by its source and line (alloc-summary.ts, profile-summary.ts)", () => {
    const [, url, line, column] = frames.storeWork!.match(/(file:\S+):(\d+):(\d+)$/)!;
    const frame = { functionName: 'storeWork', url: url!, lineNumber: Number(line) - 1, columnNumber: Number(column) - 1 };
    const name = frameName(frame, new Map());
    expect(name).toBe('storeWork server/store/ledger.ts:1');
    expect(isProjectFrame(name)).toBe(true);
    expect(frameFile(frame, new Map())).toBe('server/store/ledger.ts');
    const lib = { ...frame, functionName: 'libWork', ...(([, l, c]) => ({ lineNumber: Number(l) - 1, columnNumber: Number(c) - 1 }))(frames.libWork!.match(/:(\d+):(\d+)$/)!) };
    expect(frameFile(lib, new Map())).toBe('lib');
    expect(isProjectFrame(frameName(lib, new Map()))).toBe(false);
    // Node's own modules have no map: named as they are.
    expect(frameName({ functionName: 'emit', url: 'node:events', lineNumber: 470, columnNumber: 2 }, new Map())).toBe('emit node:events:471');
  });

  it('maps a compiled frame to the project file its code came from', () => {
    expect(frameSource(frames.storeWork!)).toBe('server/store/ledger.ts');
    expect(frameSource(frames.libWork!)).toBe('node_modules/lib/index.js');
    expect(frameSource('JS:*emit node:events:471:44')).toBeUndefined();
    expect(frameSource('v8::internal::Heap::CollectGarbage')).toBeUndefined();
  });

  it('gives each sample to one part, per connect: collector, other threads, the innermost project frame, the store, the libraries', () => {
    const text = [
      // The store's code, with SQLite and a library under it: the store's.
      sample(MAIN, 3_000_000, [['sqlite3VdbeExec', '/x/better_sqlite3.node'], [frames.libWork!, JIT], [frames.storeWork!, JIT], [frames.onConnect!, JIT], ...base]),
      // A socket handler's own work: the handlers'.
      sample(MAIN, 2_000_000, [['Builtins_LoadIC', NODE], [frames.onConnect!, JIT], ...base]),
      sample(MAIN, 1_000_000, [[frames.checkToken!, JIT], [frames.onConnect!, JIT], ...base]),
      // The collector, though a project frame is on the stack.
      sample(MAIN, 4_000_000, [['v8::internal::Scavenger::ScavengeObject<v8::internal::FullHeapObjectSlot>', NODE], [frames.storeWork!, JIT], ...base]),
      // Another thread: the compilers, SQLite's checkpointer.
      sample(MAIN + 1, 5_000_000, [['v8::internal::compiler::PipelineImpl::Run', NODE], ['start_thread', '/lib/libc.so.6']]),
      // A group's commit: SQLite with no project frame above it.
      sample(MAIN, 6_000_000, [['__libc_pwrite', '/lib/libc.so.6'], ['sqlite3WalFrames', '/x/better_sqlite3.node'], ['Builtins_RunMicrotasks', NODE], ...base]),
      // socket.io and Node alone.
      sample(MAIN, 7_000_000, [['JS:*emit node:events:471:44', JIT], [frames.libWork!, JIT], ...base]),
    ].join('\n\n');
    const split = splitPerfScript(`${text}\n`, { mainTid: MAIN, connects: 1000 });
    expect(split.samples).toBe(7);
    expect(split.totalUsPerConnect).toBe(28);
    expect(split.parts).toEqual({
      [PARTS.library]: 7,
      'store: transactions and SQLite (server/store)': 9,
      [PARTS.threads]: 5,
      [PARTS.collector]: 4,
      'socket handlers (server/realtime)': 2,
      'token check (server/seats/token-*)': 1,
    });
    expect(split.files).toEqual({ 'server/store/ledger.ts': 3, 'server/realtime/sockets.ts': 2, 'server/seats/token-check.ts': 1 });
  });

  it('reports a row per part under the CPU per connect, ours against the floor, with --perf only', () => {
    const perf = (parts: Record<string, number>) => ({ parts, files: {}, totalUsPerConnect: Object.values(parts).reduce((a, b) => a + b, 0), samples: 100, round: 3 });
    const r = rows(
      report({
        ramp: {
          ours: { cpuPerConnectMs: 0.66, perf: perf({ [PARTS.library]: 380, 'store: transactions and SQLite (server/store)': 100, [PARTS.collector]: 80 }) },
          floor: { cpuPerConnectMs: 0.37, perf: perf({ [PARTS.library]: 300, [PARTS.collector]: 60 }) },
        },
      }),
    );
    const perfRows = r.filter((row) => row.metric.includes('(perf, ramp 3)'));
    expect(perfRows.map((row) => [row.metric, row.ours, row.floor, row.ratio])).toEqual([
      ['server CPU µs per connect, every thread (perf, ramp 3)', 560, 360, 1.56],
      [`of which ${PARTS.library} (perf, ramp 3)`, 380, 300, 1.27],
      ['of which store: transactions and SQLite (server/store) (perf, ramp 3)', 100, 0, null],
      [`of which ${PARTS.collector} (perf, ramp 3)`, 80, 60, 1.33],
    ]);
    expect(rows(report({ ramp: { ours: { cpuPerConnectMs: 0.66 }, floor: { cpuPerConnectMs: 0.37 } } })).some((row) => row.metric.includes('(perf'))).toBe(false);
  });
});
