// Queries built and compiled once, run many times with new values. Building a Kysely query and
// compiling it to SQL cost more than running it in SQLite (a third of an admission's CPU in the
// bench profile), and the hot paths run the same dozen queries with different values.
//
// A query is built once with named placeholders (`p.licenseId`) where values go; compiling it
// leaves each placeholder in its slot of the parameter list, and every run fills the slots from
// its arguments. The compiled query then runs through Kysely's own `executeQuery`, on the store
// or inside a transaction, as the "split build, compile and execute" recipe does.
import type { Compilable, CompiledQuery, Kysely, QueryResult, Transaction } from 'kysely';

/** A value's slot, filled per run: Kysely sees an ordinary value and makes it a parameter. */
class Placeholder {
  constructor(readonly name: string) {}
}

export type Runner<A, R> = (db: Kysely<any> | Transaction<any>, args: A) => Promise<QueryResult<R>>;

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
    return db.executeQuery<R>({ ...query, parameters });
  };
}
