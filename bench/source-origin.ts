// Where a function of the bundle came from, through the bundle's source map (esbuild writes one
// beside each chunk): the bench's servers run as bundles, so V8's and perf's frames name a chunk
// and a position in it. `--perf`, `alloc-summary.ts` and `profile-summary.ts` name the source.
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Source maps read so far, by the bundle's file URL (null: it has none). */
export type SourceMaps = Map<string, SourceMap | null>;

/** Where a line and column (from 0) of a bundle came from: its source (server/…, shared/…, bench/…, node_modules/…) and line (from 0), or undefined. */
export function frameOrigin(url: string, line: number, column: number, maps: SourceMaps = new Map()): { source: string; line: number } | undefined {
  let map = maps.get(url);
  if (map === undefined) {
    try {
      map = new SourceMap(JSON.parse(readFileSync(`${fileURLToPath(url)}.map`, 'utf8')));
    } catch {
      map = null;
    }
    maps.set(url, map);
  }
  if (!map) return undefined;
  const entry = map.findEntry(line, column) as { originalSource?: string; originalLine?: number };
  if (!entry.originalSource) return undefined;
  return { source: entry.originalSource.replace(/^.*?\/((?:server|shared|bench|node_modules)\/)/, '$1'), line: entry.originalLine ?? 0 };
}

/** A V8 profile's call frame (a CPU or heap profile's), its position counted from 0. */
export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

/** The package (node_modules), Node module, or file a frame with no source map is in. */
export function placeOf(url: string): string {
  const m = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (m) return m[1]!;
  if (url.startsWith('node:')) return url;
  return url.replace(/^file:\/\/.*?\/(dist|server|bench|shared)\//, '$1/') || '(native/vm)';
}

/** A frame's package or project file: a bundle's frame by its source. */
export function frameFile(f: CallFrame, maps: SourceMaps): string {
  const origin = f.url.startsWith('file://') ? frameOrigin(f.url, f.lineNumber, f.columnNumber, maps) : undefined;
  return origin ? placeOf(origin.source) : placeOf(f.url);
}

/** `name source:line` of a frame, a bundle's by its source and line there. */
export function frameName(f: CallFrame, maps: SourceMaps): string {
  const origin = f.url.startsWith('file://') ? frameOrigin(f.url, f.lineNumber, f.columnNumber, maps) : undefined;
  const at = origin ? `${origin.source}:${origin.line + 1}` : `${placeOf(f.url)}:${f.lineNumber + 1}`;
  return `${f.functionName || '(anonymous)'} ${at}`;
}

/** A frame of the project's own code (server/, shared/, bench/). */
export const isProjectFrame = (name: string): boolean => /\s(server|shared|bench)\//.test(name);
