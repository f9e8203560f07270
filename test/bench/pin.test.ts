// `npm run bench -- --pin`: each process the bench starts is pinned with taskset, its threads
// included; a CPU list the machine lacks is a clear error, not a run that silently floats.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { pin } from '../../bench/kit';

const allowed = (pid: number) => readFileSync(`/proc/${pid}/status`, 'utf8').match(/^Cpus_allowed_list:\s*(\S+)/m)?.[1];

it('pins a process and its threads to the CPUs given, and says why when it cannot', async () => {
  // A child with threads of its own (V8's and libuv's), so every task of it is checked.
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10_000)'], { stdio: 'ignore' });
  try {
    await new Promise((resolve) => child.once('spawn', resolve));
    const tasksOf = () => readdirSync(`/proc/${child.pid}/task`).map(Number);
    for (let i = 0; i < 100 && tasksOf().length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    pin(child.pid!, '0');
    expect(allowed(child.pid!)).toBe('0');
    const tasks = tasksOf();
    expect(tasks.length).toBeGreaterThan(1);
    for (const t of tasks) expect(readFileSync(`/proc/${child.pid}/task/${t}/status`, 'utf8')).toMatch(/^Cpus_allowed_list:\s*0$/m);
    expect(() => pin(child.pid!, '4095')).toThrow(/--pin: could not pin process \d+ to CPU 4095/);
    expect(allowed(child.pid!)).toBe('0');
  } finally {
    child.kill('SIGKILL');
  }
});
