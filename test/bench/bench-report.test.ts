// CI runs the bench at its smallest size (`--smoke`: every section, a few hundred sockets) and
// checks that the report is complete. The figures themselves are not judged: timings do not
// belong in tests.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { type BenchReport, missing } from '../../bench/report';
import { tempDir } from '../support/harness';

const ROOT = path.resolve(import.meta.dirname, '../..');

it('npm run bench -- --smoke writes a complete report as JSON and Markdown', { timeout: 240_000 }, async () => {
  const out = tempDir('bench-');
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke', '--out', out], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  expect(code, log).toBe(0);

  const report = JSON.parse(readFileSync(path.join(out, 'latest-smoke.json'), 'utf8')) as BenchReport;
  expect(missing(report), log).toEqual([]);
  expect(report.machine.node).toBe(process.version);
  expect(report.command).toBe('npm run bench -- --smoke');
  for (const section of ['connectLatency', 'ramp', 'kick', 'crossNodeKick', 'idle', 'storm', 'clusterStorm', 'postgresBurst', 'store']) expect(report.sections).toHaveProperty(section);
  expect(existsSync(path.join(out, 'latest-smoke.md'))).toBe(true);
  const md = readFileSync(path.join(out, 'latest-smoke.md'), 'utf8');
  expect(md).toContain('| metric | ours | bare socket.io |');
  expect(log).toContain('sustainable connects/s');
});
