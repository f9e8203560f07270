// Each node's own way to PostgreSQL (for the database gone silent, `pg-silent`): loopback proxies
// that can hold their traffic (test/support/blackhole.ts), run in a process of their own. Every
// byte of every node's database traffic passes through them; in the soak's own process they
// waited behind its thousands of clients, its checker and its webhook receiver, and every query
// of every node was that much slower (a node restarted after `kill -9` took 6 s instead of 2,
// live nodes were taken for dead).
import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { blackholeProxy } from '../test/support/blackhole';

type Op = 'hold' | 'pass' | 'close';
interface Ask {
  id: number;
  op: Op;
  /** One proxy, else all of them. */
  index?: number;
}

export class DbProxies {
  private asked = 0;
  /** Asks not answered yet, by id: done, or failed (the process is gone). */
  private readonly waiting = new Map<number, { done: () => void; failed: (err: Error) => void }>();

  private constructor(
    private readonly child: ChildProcess,
    /** Each proxy's port, by node index. */
    readonly ports: number[],
  ) {
    child.on('message', (m: { id?: number }) => {
      if (m.id === undefined) return;
      this.waiting.get(m.id)?.done();
      this.waiting.delete(m.id);
    });
    child.on('exit', (code) => {
      for (const w of this.waiting.values()) w.failed(new Error(`the database proxies exited (${code})`));
      this.waiting.clear();
    });
  }

  /** `count` proxies to PostgreSQL on `target`, in a child process. */
  static async start(target: number, count: number): Promise<DbProxies> {
    const child = fork(path.join(import.meta.dirname, 'db-proxies.ts'), ['--serve', String(target), String(count)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const ports = await new Promise<number[]>((resolve, reject) => {
      child.once('message', (m: { ports: number[] }) => resolve(m.ports));
      child.once('exit', (code) => reject(new Error(`the database proxies exited (${code})`)));
    });
    return new DbProxies(child, ports);
  }

  /** Nothing passes either way on any proxy; what is sent is kept. */
  hold(): Promise<void> {
    return this.ask('hold');
  }

  /** One proxy (else all) sends on what it kept, and passes again. */
  pass(index?: number): Promise<void> {
    return this.ask('pass', index);
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    await this.ask('close').catch(() => {});
    await exited;
  }

  private ask(op: Op, index?: number): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.reject(new Error('the database proxies exited'));
    const id = ++this.asked;
    return new Promise<void>((done, failed) => {
      this.waiting.set(id, { done, failed });
      this.child.send({ id, op, index } satisfies Ask);
    });
  }
}

/** The child: the proxies, and each ask answered once done. */
async function serve(target: number, count: number): Promise<void> {
  const proxies = await Promise.all(Array.from({ length: count }, () => blackholeProxy(target)));
  process.on('message', async (m: Ask) => {
    const which = m.index === undefined ? proxies : [proxies[m.index]!];
    if (m.op === 'hold') for (const p of which) p.hold();
    if (m.op === 'pass') for (const p of which) p.pass();
    if (m.op === 'close') await Promise.allSettled(proxies.map((p) => p.close()));
    process.send!({ id: m.id });
    if (m.op === 'close') process.disconnect();
  });
  // The soak gone (killed, or crashed): nothing of it stays.
  process.on('disconnect', () => process.exit(0));
  process.send!({ ports: proxies.map((p) => p.port) });
}

if (process.argv[2] === '--serve') await serve(Number(process.argv[3]), Number(process.argv[4]));
