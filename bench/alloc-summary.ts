// Summarises a .heapprofile written by `npm run bench -- --alloc` (V8's sampling heap profiler,
// freed objects included): bytes allocated by function, and by the project's functions with what
// they call. `node --import tsx bench/alloc-summary.ts FILE [top] [connects]`; with `connects`,
// bytes per connect as well. A function of the bundle is named by its source (server/…, shared/…,
// node_modules/…) and line there, through the bundle's source map, as `--perf` names them.
import { readFileSync } from 'node:fs';
import { type CallFrame, frameName, isProjectFrame, type SourceMaps } from './source-origin';

interface HeapNode {
  callFrame: CallFrame;
  selfSize: number;
  children: HeapNode[];
}

const [file, topArg, connectsArg] = process.argv.slice(2);
if (!file) throw new Error('usage: alloc-summary.ts FILE [top] [connects]');
const top = Number(topArg ?? 25);
const connects = connectsArg ? Number(connectsArg) : null;
const { head } = JSON.parse(readFileSync(file, 'utf8')) as { head: HeapNode };

const maps: SourceMaps = new Map();
const name = (n: HeapNode) => frameName(n.callFrame, maps);
const self = new Map<string, number>();
const inclusive = new Map<string, number>();
let total = 0;
const walk = (n: HeapNode, stack: string[]) => {
  const f = name(n);
  total += n.selfSize;
  self.set(f, (self.get(f) ?? 0) + n.selfSize);
  const frames = [...stack, f];
  for (const g of new Set(frames)) inclusive.set(g, (inclusive.get(g) ?? 0) + n.selfSize);
  for (const c of n.children) walk(c, frames);
};
walk(head, []);

const fmt = (bytes: number) => (connects ? `${(bytes / connects).toFixed(0).padStart(7)} B/connect` : `${(bytes / 1024).toFixed(0).padStart(8)} KiB`);
const show = (title: string, m: Map<string, number>, filter: (k: string) => boolean = () => true) => {
  process.stdout.write(`\n${title} (of ${fmt(total)})\n`);
  for (const [k, b] of [...m].filter(([k]) => filter(k)).sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${((b / total) * 100).toFixed(1).padStart(5)}%  ${fmt(b)}  ${k}\n`);
  }
};
show('allocated by function (self)', self);
show("allocated under the project's functions (inclusive)", inclusive, isProjectFrame);
