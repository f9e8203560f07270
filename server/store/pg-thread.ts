// PostgreSQL's answers to the hot seat moves, read on a thread of their own.
//
// A node learns that PostgreSQL answered when its event loop reads the connection's socket, and
// the loop reads ready sockets in the order they became ready. When 10,000 clients close at once,
// thousands of their connections are ready ahead of PostgreSQL's, and each takes several turns
// (its close frame, its end, its own end written, its close): answers sent within milliseconds were
// read 0.85–1.1 s later in the bench's burst on a 2-core Xeon, and every idle seat of the burst was
// released that late. A worker's message is no sooner by itself: its port is one more descriptor
// at the back of the same queue.
//
// So while a mass disconnect is under way, the one-trip functions it calls (one-trip-seats.ts:
// sockets of a license, or of many licenses, leaving faster than a round trip, and the release
// passes meanwhile) go through a worker thread with a pool of its own: the worker reads
// PostgreSQL's answers as they come, and the node takes them from the port in two ways. As any
// message, in its turn; and at once, with `pump()` (`receiveMessageOnPort`), which the engine
// calls where a long turn still runs its code: each leaving socket's `disconnect`, each later
// stage of its connection's teardown (teardown-checks.ts), each deadline check. An answer pumped
// settles its call's promise there, and what awaited it runs right after that callback, as it
// would after the socket's. The other calls stay on the loop's connections: through the thread, a
// call wakes two sleeping threads.
//
// The reply column comes as PostgreSQL's text and is parsed by the caller, so the worker sends a
// string (copied, not walked) and the node does the one parse it did before.
import { createRequire } from 'node:module';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';

// CommonJS, evaluated in the worker; the driver's path comes from here, so the worker finds it
// whatever the working directory, bundled or not. The pool's settings are the main pool's.
const WORKER = `
const { workerData } = require('node:worker_threads');
const pg = require(workerData.driver);
const port = workerData.port;
const INT8 = 20, JSON_OID = 114, JSONB = 3802;
const getTypeParser = (oid, format) =>
  oid === INT8 ? Number : oid === JSONB || oid === JSON_OID ? (v) => v : pg.types.getTypeParser(oid, format);
const pool = new pg.Pool({ connectionString: workerData.url, max: workerData.max, types: { getTypeParser }, connectionTimeoutMillis: workerData.connectMs });
// A client losing its connection emits 'error'; its query in flight fails on its own.
pool.on('error', () => {});
pool.on('connect', (client) => client.on('error', () => {}));
const failure = (err) => {
  const fields = {};
  if (err && typeof err === 'object') for (const [k, v] of Object.entries(err)) if (typeof v === 'string' || typeof v === 'number') fields[k] = v;
  return { message: String(err && err.message || err), name: err && err.name || 'Error', fields };
};
port.on('message', (m) => {
  if (m === null) {
    pool.end().catch(() => {}).finally(() => port.close());
    return;
  }
  pool.query({ name: m.name, text: m.text, values: m.values, rowMode: 'array' }).then(
    (r) => port.postMessage({ id: m.id, value: r.rows.length ? r.rows[0][0] : undefined }),
    (err) => port.postMessage({ id: m.id, error: failure(err) }),
  );
});
`;

type Answer = { id: number; value?: unknown; error?: { message: string; name: string; fields: Record<string, string | number> } };

export interface PgThreadOptions {
  url: string;
  /** The worker's pool size. */
  max: number;
  connectMs: number;
}

/** One value per call: the first column of the first row (json and jsonb as their text, bigint as a number; null for SQL null). */
export class PgThread {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (err: Error) => void }>();
  private next = 1;
  private closed = false;
  private gone?: Error;
  private readonly exited: Promise<void>;

  constructor(o: PgThreadOptions) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const driver = createRequire(import.meta.url).resolve('pg');
    this.worker = new Worker(WORKER, { eval: true, workerData: { driver, url: o.url, max: o.max, connectMs: o.connectMs, port: port2 }, transferList: [port2] });
    this.port.on('message', (m: Answer) => void this.settle(m));
    // Held open only while a call waits (see `call`).
    this.port.unref();
    this.worker.unref();
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`the PostgreSQL thread exited (${code})`)));
  }

  /** False once the thread is gone (closed, or failed: its calls then rejected); callers go on without it. */
  get usable(): boolean {
    return this.gone === undefined;
  }

  /**
   * The first column of the first row of `text` run with `values`; undefined when no row came.
   * `name`: run as that named prepared statement (parsed once per connection), one per text.
   */
  call(text: string, values: readonly unknown[], name?: string): Promise<unknown> {
    if (this.gone) return Promise.reject(this.gone);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      if (this.waiting.size === 0) this.port.ref();
      this.waiting.set(id, { resolve, reject });
      this.port.postMessage({ id, text, values, name });
    });
  }

  /** Settles at once the calls whose answers have come, whatever the event loop is doing; returns how many. */
  pump(): number {
    let settled = 0;
    if (this.waiting.size === 0) return settled;
    for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) settled += this.settle(m.message as Answer);
    return settled;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // The pool ends its connections, then the worker has nothing left and exits (at once if it failed).
    this.port.postMessage(null);
    const timer = setTimeout(() => void this.worker.terminate(), 5000);
    await this.exited;
    clearTimeout(timer);
    this.port.close();
  }

  private settle(m: Answer): number {
    const w = this.waiting.get(m.id);
    if (!w) return 0;
    this.waiting.delete(m.id);
    if (this.waiting.size === 0) this.port.unref();
    if (m.error) w.reject(Object.assign(new Error(m.error.message), m.error.fields, { name: m.error.name }));
    else w.resolve(m.value);
    return 1;
  }

  private fail(err: Error): void {
    if (this.gone === undefined && !this.closed) process.emitWarning(`PostgreSQL's answers are back on the event loop: ${err.message}`);
    this.gone ??= this.closed ? new Error('the store is closed') : err;
    for (const w of this.waiting.values()) w.reject(this.gone);
    this.waiting.clear();
    this.port.unref();
  }
}
