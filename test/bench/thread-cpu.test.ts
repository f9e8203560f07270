// The bench's split of a server's CPU between its main thread and the others (node-memory.ts),
// read from /proc/self/task: Linux only.
import { Worker } from 'node:worker_threads';
import { expect, it } from 'vitest';
import { threadCpuMicros } from '../../bench/node-memory';

const burn = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

it.skipIf(process.platform !== 'linux')("counts a busy worker thread's CPU as off the main thread, and the main thread's own as its", async () => {
  const before = threadCpuMicros()!;
  // The worker burns 400 ms, says so, and stays (a thread's time leaves the sum when it ends).
  const worker = new Worker(
    "const { parentPort } = require('node:worker_threads'); const until = performance.now() + 400; while (performance.now() < until); parentPort.postMessage('done'); setInterval(() => {}, 1000);",
    { eval: true },
  );
  await new Promise((resolve) => worker.once('message', resolve));
  const afterWorker = threadCpuMicros()!;
  burn(400);
  const afterMain = threadCpuMicros()!;
  await worker.terminate();
  // Each burn is 400 ms of wall time: on a loaded machine (the suite runs two files at once on two
  // cores) a thread may get well under half of it, so each is checked against the other threads'
  // share of the same span, not a fixed amount (the kernel counts in 10 ms ticks).
  const workerSpan = { others: afterWorker.others - before.others, main: afterWorker.main - before.main };
  const mainSpan = { others: afterMain.others - afterWorker.others, main: afterMain.main - afterWorker.main };
  expect(workerSpan.others).toBeGreaterThan(Math.max(50_000, 2 * workerSpan.main));
  expect(mainSpan.main).toBeGreaterThan(Math.max(50_000, 2 * mainSpan.others));
});
