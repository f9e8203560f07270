// The bundle `npm start` runs (server/build.mjs, built by vitest's global setup): what a node
// loads before it listens leaves out what only some nodes use, which comes in chunks loaded on
// first use (the webhook and cluster tests run those chunks) or, for `pg`, from node_modules when
// a PostgreSQL store opens (the PostgreSQL tests open it); and a build that changes nothing
// writes nothing, so a node running from dist/ never loads a half-written chunk.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { tempDir } from '../support/harness';

const ROOT = path.resolve(import.meta.dirname, '../..');
const DIST = path.join(ROOT, 'dist');

/** The files a module imports statically, itself included, and the ones it imports with `import()`. */
function closure(file: string, seen = new Set<string>(), lazy = new Set<string>()): { loaded: Set<string>; lazy: Set<string> } {
  if (seen.has(file)) return { loaded: seen, lazy };
  seen.add(file);
  const text = fs.readFileSync(file, 'utf8');
  for (const m of text.matchAll(/import\("(\.[^"]+\.js)"\)/g)) lazy.add(path.resolve(path.dirname(file), m[1]!));
  for (const m of text.matchAll(/(?:from|import)\s*"(\.[^"]+\.js)"/g)) closure(path.resolve(path.dirname(file), m[1]!), seen, lazy);
  return { loaded: seen, lazy };
}

/**
 * What `npm start` loads before its server listens: dist/main.js (which opens the port with
 * node:net alone, server/early-port.ts), then the server's own chunk (start-*.js), each with what
 * it imports statically; and the chunks the server imports with `import()`.
 */
function atStart(): { entry: Set<string>; loaded: Set<string>; lazy: Set<string> } {
  const entry = closure(path.join(DIST, 'main.js'));
  const start = [...entry.lazy].find((f) => /[/\\]start-\w+\.js$/.test(f));
  if (!start) throw new Error(`main.js loads no server chunk (it imports ${[...entry.lazy].join(', ')})`);
  const server = closure(start, new Set(entry.loaded));
  return { entry: entry.loaded, loaded: server.loaded, lazy: server.lazy };
}

const holding = (files: Iterable<string>, marker: string) => [...files].filter((f) => fs.readFileSync(f, 'utf8').includes(marker)).map((f) => path.relative(DIST, f));

it('opens its port before it loads the server: the entry imports no more than the early port', () => {
  const { entry } = atStart();
  expect(holding(entry, 'createSeatServer')).toEqual([]);
  expect(holding(entry, 'listenEarly')).not.toEqual([]);
});

it('loads neither the webhooks’ HTTP client nor Redis at start: each is a chunk loaded on first use', () => {
  const { loaded, lazy } = atStart();
  // undici's and the Redis client's own classes.
  for (const marker of ['DispatcherBase', 'RedisSocket']) {
    expect(holding(loaded, marker), marker).toEqual([]);
    expect(holding(lazy, marker), marker).toHaveLength(1);
  }
  expect([...lazy].map((f) => path.basename(f).replace(/-\w+\.js$/, ''))).toEqual(expect.arrayContaining(['undici', 'redis-adapter']));
});

it('leaves `pg` out of the bundle: a PostgreSQL store loads it when it opens', () => {
  const { loaded, lazy } = atStart();
  // pg's own check for Cloudflare Workers, run as it loads.
  expect(holding([...loaded, ...lazy], 'isCloudflareRuntime')).toEqual([]);
});

it('writes no file again when the bundle has not changed', () => {
  const out = tempDir();
  const build = () => execFileSync(process.execPath, ['server/build.mjs', '--outdir', out], { cwd: ROOT });
  build();
  const files = fs.readdirSync(out, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'));
  const stamps = () => files.map((f) => fs.statSync(path.join(out, f)).mtimeMs);
  const before = stamps();
  expect(files).toContain('main.js');
  build();
  expect(stamps()).toEqual(before);
  // Nothing left half-written beside them.
  expect(fs.readdirSync(out, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.tmp'))).toEqual([]);
});
