// Trees' PostgreSQL stores side by side, their moves one at a time and alternating call by call on
// one throwaway cluster: `node --import tsx bench/store-ab.ts [N] TREE...` (each TREE a checkout of
// this repository, e.g. a `git worktree` of the commit before a change, with its node_modules).
// Whole store benches one tree after the other move more than a small change between runs on a
// shared virtual machine; calls that alternate one by one share the machine's every state.
// Prints each tree's mean and median µs per admission, detach and idle release (N of each, 2,000
// unless given).
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import type { SeatStore } from '../server/seats/seat-store';
import { startPostgres } from '../test/support/throwaway-services';
import { benchLicense } from './store-bench';

const numbers = process.argv.slice(2).filter((a) => /^\d+$/.test(a));
const trees = process.argv.slice(2).filter((a) => !/^\d+$/.test(a)).map((t) => path.resolve(t));
const ops = Number(numbers[0] ?? 2000);
if (trees.length === 0) {
  process.stderr.write('usage: node --import tsx bench/store-ab.ts [N] TREE...\n');
  process.exit(2);
}

const cluster = await startPostgres();
try {
  const url = await cluster.createDatabase('store_ab');
  const stores: SeatStore[] = [];
  for (const tree of trees) {
    const { PostgresSeatStore } = (await import(path.join(tree, 'server/store/postgres-store.ts'))) as typeof import('../server/store/postgres-store');
    stores.push(PostgresSeatStore.open(url, 10, { oneTrip: true }));
  }
  await stores[0]!.migrate();
  const now = Date.now();
  const tenant = await stores[0]!.createTenant({ id: randomUUID(), name: 'store-ab', createdAt: now }, randomUUID());
  const licenses: Array<{ id: string }> = [];
  for (const _ of stores) {
    licenses.push(await stores[0]!.createLicense(benchLicense({ id: `lic_ab_${randomUUID()}`, tenantId: tenant.id, name: 'ab', seats: ops * 4, secret: 'x'.repeat(32), now })));
  }
  const timings = { admit: stores.map(() => [] as number[]), detach: stores.map(() => [] as number[]), release: stores.map(() => [] as number[]) };
  /** The i-th move of every store, in an order that rotates, each call timed. */
  const alternate = async (kind: keyof typeof timings, move: (k: number, i: number) => Promise<void>) => {
    for (let i = 0; i < ops; i++) {
      for (let j = 0; j < stores.length; j++) {
        const k = (i + j) % stores.length;
        const t0 = performance.now();
        await move(k, i);
        timings[kind][k]!.push((performance.now() - t0) * 1000);
      }
    }
  };
  const sockets = stores.map(() => [] as string[]);
  const deadlines = stores.map(() => [] as number[]);
  await alternate('admit', async (k, i) => {
    const socketId = (sockets[k]![i] = randomBytes(15).toString('base64url'));
    const claimant = { sessionRef: randomUUID(), userId: null, deviceId: null, instanceId: null, app: 'bench', name: null, weight: 1 };
    const o = await stores[k]!.admit({ licenseId: licenses[k]!.id, socketId, nodeId: 'store-ab', now: Date.now(), claimant });
    if (o.kind !== 'granted') throw new Error(`admission ${i} of ${trees[k]} was ${o.kind}`);
  });
  await alternate('detach', async (k, i) => {
    const o = await stores[k]!.detach(sockets[k]![i]!, Date.now(), licenses[k]!.id);
    if (!o?.session.expiresAt) throw new Error(`detach ${i} of ${trees[k]} idled nothing`);
    deadlines[k]!.push(o.session.expiresAt);
  });
  const last = Math.max(...deadlines.flat());
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, last - Date.now()) + 20));
  // Each seat's deadline asks for a pass, as in the store bench (the first of a millisecond takes its seats).
  await alternate('release', async (k, i) => void (await stores[k]!.expireLicense(licenses[k]!.id, deadlines[k]![i]!)));
  const stat = (v: number[]) => {
    const sorted = [...v].sort((a, b) => a - b);
    return `mean ${Math.round(v.reduce((a, b) => a + b, 0) / v.length)}, median ${Math.round(sorted[sorted.length >> 1]!)}`;
  };
  for (const [k, tree] of trees.entries()) {
    process.stdout.write(`${tree}: µs per admission ${stat(timings.admit[k]!)}; detach ${stat(timings.detach[k]!)}; idle release ${stat(timings.release[k]!)}\n`);
  }
  await Promise.all(stores.map((s) => s.close()));
} finally {
  await cluster.destroy();
}
