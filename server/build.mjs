// Bundles the server for `npm start` (its `prestart`): server/main.ts and its dependencies into
// ESM for plain Node: dist/main.js, which opens the port (server/early-port.ts) and then loads the
// server from its chunk (server/start.ts), with the other chunks below, in dist/chunks/. A restart
// then loads one file instead of hundreds of modules through a TypeScript loader: listening in
// about 0.5 s instead of 3 s on a 2-core machine.
// `node server/build.mjs [ENTRY...] [--outdir DIR]` bundles other entry points the same way (the
// bench's server processes).
//
// What a node loads before it listens is what a restart waits for, and its clients with it (their
// reconnect backoff grows while the port is closed). So the bundle is minified (whitespace and
// syntax; names are kept, for stack traces and errors), and code only some nodes need is split
// into chunks loaded on first use (`import()`): Redis for a cluster, undici for webhooks. Node
// also scans every line of what it loads for the source map (`--enable-source-maps`).
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { outdir: { type: 'string', default: 'dist' } } });

const root = path.resolve(import.meta.dirname, '..');
const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: positionals.length > 0 ? positionals : ['server/main.ts'],
  outdir: values.outdir,
  bundle: true,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: true,
  // The stack traces need the mappings only; the sources are in the checkout.
  sourcesContent: false,
  legalComments: 'none',
  logLevel: 'warning',
  write: false,
  // Native addons, the page bundler (loaded on first use) and optional native speed-ups stay
  // packages, loaded from node_modules.
  external: ['better-sqlite3', 'esbuild', 'pg-native', 'bufferutil', 'utf-8-validate'],
  // CommonJS dependencies call require() for Node's built-ins; an ES module has none of its own.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
});

// Each file is written only when it changed, and through a rename: a node already running from
// dist/ (another `npm start` of this checkout) never reads a half-written chunk when it loads one.
for (const file of result.outputFiles) {
  let same = false;
  try {
    same = fs.readFileSync(file.path).equals(file.contents);
  } catch {
    // Not there yet.
  }
  if (same) continue;
  fs.mkdirSync(path.dirname(file.path), { recursive: true });
  const tmp = `${file.path}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, file.contents);
  fs.renameSync(tmp, file.path);
}
