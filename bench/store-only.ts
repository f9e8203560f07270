// The store section alone, for profiling: `node --import tsx --cpu-prof bench/store-only.ts [ops]`.
// `--pg` runs PostgreSQL's store instead (a throwaway cluster, as the tests start one), twice in
// the same run: every seat move as a transaction from Node, then in one round trip (the functions
// of migration 2026-11-26T20).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pgLib from 'pg';
import { PostgresSeatStore } from '../server/store/postgres-store';
import { SqliteSeatStore } from '../server/store/sqlite-store';
import { startPostgres } from '../test/support/throwaway-services';
import { storeThroughput } from './store-bench';

const pg = process.argv.includes('--pg');
const ops = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 3000);
if (pg) {
  const cluster = await startPostgres();
  try {
    for (const oneTrip of [false, true]) {
      const url = await cluster.createDatabase('bench_store');
      const store = PostgresSeatStore.open(url, 10, { oneTrip });
      const bare = new pgLib.Pool({ connectionString: url, max: 1 });
      bare.on('error', () => {});
      const figures = await storeThroughput(store, ops, 32, (i) => bare.query('select $1::bigint as r', [i]));
      process.stdout.write(`${JSON.stringify({ oneTrip, ...figures })}\n`);
      await Promise.all([store.close(), bare.end()]);
    }
  } finally {
    await cluster.destroy();
  }
} else {
  const dir = mkdtempSync(path.join(tmpdir(), 'seat-store-bench-'));
  const store = SqliteSeatStore.open(path.join(dir, 'store.db'));
  process.stdout.write(`${JSON.stringify(await storeThroughput(store, ops))}\n`);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
