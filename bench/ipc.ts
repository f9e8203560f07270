// A small request/reply protocol over a forked child's IPC channel, used between the bench
// driver and its server and load processes.
import type { ChildProcess } from 'node:child_process';

interface Reply {
  id: number;
  result?: unknown;
  error?: string;
}

export type Call = <T = any>(op: string, args?: unknown, timeoutMs?: number) => Promise<T>;

/** Driver side: `call(op, args)` resolves with the child's reply. */
export function rpc(child: ChildProcess, name: string): Call {
  let seq = 0;
  const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  child.on('message', (m: unknown) => {
    const reply = m as Reply;
    if (typeof reply?.id !== 'number') return;
    const p = pending.get(reply.id);
    if (!p) return;
    pending.delete(reply.id);
    clearTimeout(p.timer);
    if (reply.error !== undefined) p.reject(new Error(`${name}: ${reply.error}`));
    else p.resolve(reply.result);
  });
  child.on('exit', (code, signal) => {
    for (const p of pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error(`${name} exited (${code ?? signal}) during a call`));
    }
    pending.clear();
  });
  return (op, args, timeoutMs = 120_000) =>
    new Promise((resolve, reject) => {
      const id = ++seq;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`${name}: "${op}" took over ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(id, { resolve, reject, timer });
      child.send({ id, op, args });
    });
}

/** Child side: answers the driver's calls; exits when the driver goes away. */
export function serve(handlers: Record<string, (args: any) => unknown>): void {
  process.on('message', async (m: unknown) => {
    const { id, op, args } = m as { id: number; op: string; args: unknown };
    try {
      const handler = handlers[op];
      if (!handler) throw new Error(`unknown op "${op}"`);
      process.send!({ id, result: (await handler(args)) ?? null });
    } catch (err) {
      process.send!({ id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
  });
  process.on('disconnect', () => process.exit(0));
}
