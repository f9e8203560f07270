// Summarises a .cpuprofile (from `--cpu-prof`): self time by function and by package or file.
// `node --import tsx bench/profile-summary.ts FILE [top]`. A function of the bundle is named by
// its source (server/…, node_modules/…) and line there, through the bundle's source map.
import { readFileSync } from 'node:fs';
import { type CallFrame, frameFile, frameName, isProjectFrame, type SourceMaps } from './source-origin';

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-summary.ts FILE [top]');
const top = Number(topArg ?? 25);
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);

const maps: SourceMaps = new Map();
const fnTotals = new Map<string, number>();
const pkgTotals = new Map<string, number>();
for (const [id, us] of self) {
  const n = byId.get(id)!;
  const f = frameName(n.callFrame, maps);
  fnTotals.set(f, (fnTotals.get(f) ?? 0) + us);
  const k = frameFile(n.callFrame, maps);
  pkgTotals.set(k, (pkgTotals.get(k) ?? 0) + us);
}
const show = (title: string, m: Map<string, number>) => {
  process.stdout.write(`\n${title} (of ${(total / 1000).toFixed(0)} ms sampled)\n`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}\n`);
  }
};
show('self time by package or file', pkgTotals);
show('self time by function', fnTotals);

// Inclusive time of the project's own functions (server/, shared/, bench/): where the time goes, by caller.
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const inclusive = new Map<string, number>();
for (const [id, us] of self) {
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const n = byId.get(cur)!;
    const f = frameName(n.callFrame, maps);
    if (!isProjectFrame(f) || seen.has(f)) continue;
    seen.add(f);
    inclusive.set(f, (inclusive.get(f) ?? 0) + us);
  }
}
show('inclusive time of project functions', inclusive);
