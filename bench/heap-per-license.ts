// `npx tsx bench/heap-per-license.ts [--sockets N] [--snapshots DIR]`: what a license in use costs
// in the seat server's heap. One fresh server (as the scale table runs it) holds N sockets on one
// license, then another holds N sockets on N licenses (one session each); the difference between
// the two, per socket, is what each license in use adds. With --snapshots, each server writes a
// heap snapshot (before and after its sockets) into DIR, to compare in Chrome's DevTools.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Worker, buildNodes, children, closeAll, kill9, KiB, log, openAll, startOurs, startWorkers } from './kit';
import type { Memory } from './node-memory';
import { seedLicenses } from './scale';

const { values: args } = parseArgs({ options: { sockets: { type: 'string', default: '10000' }, snapshots: { type: 'string' } } });
const SOCKETS = Number(args.sockets);

/** Heap bytes per socket a server holds with SOCKETS sockets spread over `licenses` licenses. */
async function row(workers: Worker[], dir: string, licenses: number): Promise<number> {
  const dbFile = path.join(dir, `heap-${licenses}.db`);
  const lics = await seedLicenses(dbFile, licenses + 1, 1_000_000);
  const node = await startOurs(dbFile);
  try {
    const warm = lics.pop();
    // As the scale table: a warm-up pass on a license of its own, released before measuring.
    await openAll(workers, { tag: 'warm', url: node.url, license: warm, prefix: `warm-${licenses}`, count: 1000, concurrency: 16 });
    await closeAll(workers, 'warm');
    await sleep(3000);
    const before = await node.call<Memory>('memory');
    if (args.snapshots) await node.call('heapSnapshot', path.join(args.snapshots, `l${licenses}-before.heapsnapshot`), 120_000);
    const o = await openAll(workers, { tag: 'held', url: node.url, licenses: lics, prefix: `held-${licenses}`, count: SOCKETS, concurrency: 64, timeoutMs: 60_000 });
    await sleep(1000);
    const after = await node.call<Memory>('memory');
    if (args.snapshots) await node.call('heapSnapshot', path.join(args.snapshots, `l${licenses}-after.heapsnapshot`), 120_000);
    await closeAll(workers, 'held');
    const per = (after.heapUsed - before.heapUsed) / SOCKETS;
    log(`${SOCKETS} sockets over ${licenses} license(s): ${o.ok} ok, ${o.failed} failed; heap ${(per / KiB).toFixed(2)} KiB per socket`);
    return per;
  } finally {
    await kill9(node);
  }
}

const dir = mkdtempSync(path.join(tmpdir(), 'seat-bench-heap-'));
try {
  buildNodes();
  const workers = await startWorkers(2);
  const one = await row(workers, dir, 1);
  const many = await row(workers, dir, SOCKETS);
  log(`each license in use adds ${((many - one) / KiB).toFixed(2)} KiB (${SOCKETS} sockets on 1 license: ${(one / KiB).toFixed(2)} KiB each, one license each: ${(many / KiB).toFixed(2)} KiB each)`);
} finally {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
