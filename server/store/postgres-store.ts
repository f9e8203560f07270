// The multi-node store: PostgreSQL through Kysely's dialect and `pg`. Admissions serialise per
// license with `SELECT … FOR UPDATE` on the license row.
import { createRequire } from 'node:module';
import type pgModule from 'pg';
import { Kysely, PostgresDialect, type Selectable, sql, type Transaction } from 'kysely';
import type { OpenTransactions } from '../seats/webhook-store';
import { KyselySeatStore } from './kysely-store';
import { OneTripSeats } from './one-trip-seats';
import { PgThread } from './pg-thread';
import { prepare } from './prepared';
import { chunked } from './seat-moves';
import type { Database, LicensesTable } from './schema';
import type { StoreDialect } from './store-dialect';

const INT8_OID = 20;

/** The shared store with PostgreSQL's dialect; it adds nothing but the opening of the pool. */
export class PostgresSeatStore extends KyselySeatStore {
  /** `oneTrip: false` runs every seat move as a transaction from Node (to compare, and to test that path). */
  static open(url: string, poolSize = 10, opts: { oneTrip?: boolean } = {}): PostgresSeatStore {
    return openPostgres(url, poolSize, opts.oneTrip ?? true);
  }
}

/**
 * `pg`, loaded when a PostgreSQL store opens (from node_modules, outside the bundle): a SQLite node
 * never loads it. On Node 20 loading it builds a `Response` (its Cloudflare check), which loads
 * Node's own fetch: about 40 ms of every start (README, Performance).
 */
export const loadPg = () => createRequire(import.meta.url)('pg') as typeof pgModule;

function openPostgres(url: string, poolSize: number, oneTrip: boolean): PostgresSeatStore {
  const pg = loadPg();
  // Times and serial ids are bigint; they fit a JS number, so parse them as numbers.
  const types = {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
  };
  const connectMs = 5000;
  // The answers of the one-trip moves a mass disconnect makes are read on a thread of their own
  // (pg-thread.ts), with a quarter of the node's connections (at least one; none with a pool of one).
  const threadSize = oneTrip && poolSize >= 2 ? Math.max(1, Math.floor(poolSize / 4)) : 0;
  const pool = new pg.Pool({ connectionString: url, max: poolSize - threadSize, types, connectionTimeoutMillis: connectMs });
  // A client losing its connection (a database restart) emits 'error'; the pool listens only
  // while the client is idle, and an unheard 'error' ends the process. The query in flight
  // fails on its own (callers see `unavailable`), so every client gets a listener of its own.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const thread = threadSize > 0 ? new PgThread({ url, max: threadSize, connectMs }) : undefined;
  // The heartbeat's own connection, beside the pool (PG_POOL_SIZE), as the node claim's is.
  const livePool = new pg.Pool({ connectionString: url, max: 1, types, connectionTimeoutMillis: connectMs });
  livePool.on('error', () => {});
  livePool.on('connect', (client) => client.on('error', () => {}));
  const liveness = new Kysely<Database>({ dialect: new PostgresDialect({ pool: livePool }) });
  return new PostgresSeatStore(db, new PostgresStoreDialect(db, oneTrip ? pool : undefined, thread, liveness));
}

export class PostgresStoreDialect implements StoreDialect {
  private readonly license = prepare((p: { id: string }) => this.db.selectFrom('licenses').selectAll().where('id', '=', p.id).forUpdate());

  readonly oneTrip: OneTripSeats | undefined;

  /** `oneTripPool`: the pool the one-trip moves run on (the Kysely instance's); none runs every move as a transaction. */
  constructor(
    private readonly db: Kysely<Database>,
    oneTripPool?: pgModule.Pool,
    private readonly thread?: PgThread,
    readonly liveness?: Kysely<Database>,
  ) {
    this.oneTrip = oneTripPool ? new OneTripSeats(oneTripPool, thread) : undefined;
  }

  /** Settles at once the one-trip calls PostgreSQL has answered, whatever the event loop is doing. */
  pump(): void {
    this.thread?.pump();
  }

  /** What it reads under the lock is what the one-trip moves decide on next (with its revision). */
  async lockLicense(trx: Transaction<Database>, id: string): Promise<Selectable<LicensesTable> | undefined> {
    const row = (await this.license(trx, { id })).rows[0];
    if (row) this.oneTrip?.remember(row);
    return row;
  }

  async lockSessions(trx: Transaction<Database>, ids: readonly string[]): Promise<void> {
    for (const chunk of chunked([...ids].sort())) {
      await trx.selectFrom('sessions').select('id').where('id', 'in', chunk).orderBy('id').forUpdate().execute();
    }
  }

  /**
   * From `pg_stat_activity`: the client backends of this database in a transaction, this one's
   * aside. A transaction's start counts, not its xid: one that has taken an id from a sequence
   * (`bigserial`, one id at a time) has begun, though it may have no xid yet. A backend shows no
   * transaction only once its end is visible to every later snapshot (PostgreSQL clears
   * `xact_start` at the end of its commit or abort). Undefined when some backend's transaction is
   * hidden from this role, or when this backend's own does not show (`track_activities` off).
   */
  async openTransactions(db: Kysely<Database>): Promise<OpenTransactions | undefined> {
    const { rows } = await sql<{ at: number; oldest: number | null; hidden: boolean }>`
      select (extract(epoch from clock_timestamp()) * 1000)::float8 as at,
             (extract(epoch from min(xact_start) filter (where pid <> pg_backend_pid())) * 1000)::float8 as oldest,
             coalesce(bool_or(query = '<insufficient privilege>'), false)
               or not coalesce(bool_or(pid = pg_backend_pid() and xact_start is not null), false) as hidden
      from pg_stat_activity
      where datname = current_database() and (backend_type = 'client backend' or backend_type is null)`.execute(db);
    const row = rows[0]!;
    return row.hidden ? undefined : { at: row.at, oldestSince: row.oldest };
  }

  isUniqueViolation(err: unknown): boolean {
    return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
  }

  /** Transactions wait for a connection of the pool in arrival order (`first` is not heeded). */
  transaction<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(fn);
  }

  async close(): Promise<void> {
    await this.thread?.close();
    await this.liveness?.destroy();
  }
}
