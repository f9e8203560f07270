// What each database does its own way, and what every part of the store is given. The parts
// (seat-ledger.ts, licenses.ts, history.ts, audit.ts, nodes.ts) share every query; a dialect
// (sqlite-store.ts, postgres-store.ts) owns only how a license is locked, how a unique violation
// looks, and how a transaction runs.
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { OpenTransactions } from '../seats/webhook-store';
import type { OneTripSeats } from './one-trip-seats';
import type { HotQueries } from './queries';
import type { Database, LicensesTable } from './schema';

export type Db = Kysely<Database> | Transaction<Database>;

export interface StoreDialect {
  /** Reads the license row so that no other transaction changes the license's seats until commit. */
  lockLicense(trx: Transaction<Database>, id: string): Promise<Selectable<LicensesTable> | undefined>;
  /**
   * Locks these session rows until commit, in id order, after any transaction writing them has
   * committed; what the transaction reads of them next is what was committed last. For decisions
   * made on a session's columns that other transactions write without the license's lock (the
   * activity a flush records). Absent where transactions run one at a time (SQLite).
   */
  lockSessions?(trx: Transaction<Database>, ids: readonly string[]): Promise<void>;
  /**
   * The transactions open on the database now (see `WebhookStore.openTransactions`). Absent where
   * transactions commit in the order they take ids (SQLite).
   */
  openTransactions?(db: Kysely<Database>): Promise<OpenTransactions | undefined>;
  /** Whether an error is a unique-constraint violation in this dialect. */
  isUniqueViolation(err: unknown): boolean;
  /**
   * Runs `fn` as one transaction: all of it commits, or none of it. `first`: ahead of the
   * transactions waiting to run (an idle release due now, behind thousands of detaches of a mass
   * disconnect), where the dialect queues them (SQLite), and started at once (`hurry`).
   */
  transaction<T>(fn: (trx: Transaction<Database>) => Promise<T>, opts?: { first?: boolean }): Promise<T>;
  /** Settles what is in flight and lets go of what the dialect holds besides the connection. */
  close(): Promise<void>;
  /** The hot seat moves in one round trip each, where the database runs them as functions (PostgreSQL). */
  readonly oneTrip?: OneTripSeats;
  /**
   * A connection of its own for the node's heartbeat (PostgreSQL): on the pool's, a beat waited
   * behind every query queued there (sockets blocked on a license's lock, a reconnect wave after
   * an outage) and landed late, and a live node was taken for dead.
   */
  readonly liveness?: Kysely<Database>;
  /**
   * Statements run in this process, with no round trip each (SQLite): a few prepared statements
   * cost less than one statement built for the call.
   */
  readonly inProcess?: boolean;
  /**
   * Present where the dialect gathers a turn's transactions (SQLite): one asked for starts only
   * once the rest of the turn's callbacks have run (the check phase, setImmediate), with what they
   * asked for. There a caller gathering a turn's work into one transaction asks at once, and its
   * `fn` takes what was gathered when it runs: a deferral of its own would start the transaction a
   * whole turn later (the next poll phase, a second and more amid a mass disconnect). `hurry`
   * starts the transactions queued now (a full batch).
   */
  hurry?(): void;
  /** Present where answers are read off the event loop (PostgreSQL's one-trip calls): settles those that came, at once. */
  pump?(): void;
}

/** What every part of the store works with. */
export interface StoreContext {
  readonly db: Kysely<Database>;
  /** The hot paths' statements, compiled once. */
  readonly q: HotQueries;
  readonly dialect: StoreDialect;
}
