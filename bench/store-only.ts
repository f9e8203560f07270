// The store section alone, for profiling: `node --import tsx --cpu-prof bench/store-only.ts [ops]`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SqliteSeatStore } from '../server/store/sqlite-store';
import { storeThroughput } from './store-bench';

const ops = Number(process.argv[2] ?? 3000);
const dir = mkdtempSync(path.join(tmpdir(), 'seat-store-bench-'));
const store = SqliteSeatStore.open(path.join(dir, 'store.db'));
process.stdout.write(`${JSON.stringify(await storeThroughput(store, ops))}\n`);
await store.close();
rmSync(dir, { recursive: true, force: true });
