// Queries built and compiled once, run many times with new values. Building a Kysely query and
// compiling it to SQL cost more than running it in SQLite (a third of an admission's CPU in the
// bench profile), and the hot paths run the same dozen queries with different values.
//
// A query is built once with named placeholders (`p.licenseId`) where values go; compiling it
// leaves each placeholder in its slot of the parameter list, and every run fills the slots from
// its arguments. The compiled query then runs through Kysely's own `executeQuery`, on the store
// or inside a transaction, as the "split build, compile and execute" recipe does.
//
// Inside a SQLite transaction the compiled query runs at once, on the connection the transaction
// holds (sqlite-store.ts registers it): SQLite's driver is synchronous, and going through
// Kysely's asynchronous executor cost more per statement than SQLite running it (several
// promises and their allocation each, eight statements to a grant).
import type { Compilable, CompiledQuery, Kysely, QueryResult, Transaction } from 'kysely';

/** A value's slot, filled per run: Kysely sees an ordinary value and makes it a parameter. */
class Placeholder {
  constructor(readonly name: string) {}
}

/** Runs a compiled query to its result synchronously, on the connection a transaction holds. */
export type SyncExecutor = (query: CompiledQuery) => QueryResult<unknown>;

/** Transactions whose queries may run synchronously: set by the dialect for the transaction's life. */
const syncExecutors = new WeakMap<object, SyncExecutor>();

/**
 * Lets the prepared queries run on `trx` synchronously through `execute` until `release` is
 * called. Only for a transaction that holds the connection: a query outside it would otherwise
 * run inside someone else's transaction.
 */
export function runSynchronously(trx: Transaction<any>, execute: SyncExecutor): { release(): void } {
  syncExecutors.set(trx, execute);
  return { release: () => void syncExecutors.delete(trx) };
}

/** A result at once inside a synchronous transaction, a promise of it otherwise: `await` takes both. */
export type Runner<A, R> = (db: Kysely<any> | Transaction<any>, args: A) => Promise<QueryResult<R>> | QueryResult<R>;

/**
 * `prepare(db, (p) => db.selectFrom('t').selectAll().where('id', '=', p.id))` compiles the query
 * on first use and returns a runner taking `{ id }`. Placeholders stand only where a single
 * value goes (not lists, not identifiers); every other value is fixed at build time.
 */
export function prepare<A extends Record<string, unknown>, R>(build: (p: A) => Compilable<R>): Runner<A, R> {
  let compiled: { query: CompiledQuery<R>; slots: Array<{ name: string } | { value: unknown }> } | undefined;
  return (db, args) => {
    if (!compiled) {
      const p = new Proxy({} as A, { get: (_t, name) => new Placeholder(String(name)) });
      const query = build(p).compile();
      const slots = query.parameters.map((v) => (v instanceof Placeholder ? { name: v.name } : { value: v }));
      compiled = { query, slots };
    }
    const { query, slots } = compiled;
    const parameters = slots.map((s) => {
      if (!('name' in s)) return s.value;
      const value = args[s.name];
      if (value === undefined) throw new Error(`prepared query: no value for ${s.name}`);
      return value;
    });
    const sync = syncExecutors.get(db);
    if (sync) return sync({ ...query, parameters }) as QueryResult<R>;
    return db.executeQuery<R>({ ...query, parameters });
  };
}

/**
 * A prepared query per shape: `prepareEach((shape) => (p) => …)` compiles the query for a shape
 * (what its build reads beyond the placeholders: a filter's presence, a list's length) on its
 * first use and keeps it. Shapes must be few.
 */
export function prepareEach<K, A extends Record<string, unknown>, R>(build: (shape: K) => (p: A) => Compilable<R>): (shape: K) => Runner<A, R> {
  const runners = new Map<K, Runner<A, R>>();
  return (shape) => {
    let runner = runners.get(shape);
    if (!runner) runners.set(shape, (runner = prepare(build(shape))));
    return runner;
  };
}
