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
  // The kernel counts in 10 ms ticks; a busy 400 ms reads well over 250 on a loaded machine too.
  expect(afterWorker.others - before.others).toBeGreaterThan(250_000);
  expect(afterWorker.main - before.main).toBeLessThan(200_000);
  expect(afterMain.main - afterWorker.main).toBeGreaterThan(250_000);
  expect(afterMain.others - afterWorker.others).toBeLessThan(200_000);
});
