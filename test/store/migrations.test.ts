// Migrations are imported through migrations/index.ts (so that the bundled server carries them):
// a migration file missing from that list would silently never run.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { migrations } from '../../migrations';

it('migrations/index.ts lists every migration file under its file name, and nothing else', () => {
  const dir = path.resolve(import.meta.dirname, '../../migrations');
  const files = readdirSync(dir)
    .filter((f) => /\.(ts|js)$/.test(f) && f !== 'index.ts' && !f.endsWith('.d.ts'))
    .map((f) => f.replace(/\.(ts|js)$/, ''))
    .sort();
  expect(Object.keys(migrations).sort()).toEqual(files);
  for (const name of files) expect(typeof migrations[name]!.up, name).toBe('function');
});
