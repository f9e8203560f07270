// Vitest global setup: builds the server bundle exactly as `npm start` does (its `prestart`), once
// per run, so that every test starting a server process runs what `npm start` runs.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export default function setup(): void {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: path.resolve(import.meta.dirname, '../..'), stdio: 'inherit' });
}
