// The embedded store: SQLite through better-sqlite3, in WAL mode. One process owns the file;
// Kysely's single connection runs one transaction at a time, which serialises every admission.
//
// Commits are grouped. Writing a commit to the WAL costs more than all of an admission's
// statements (70-150 us against about 60 us here), so transactions that arrive in the same turn
// of the event loop, or while a group runs, share one commit, and no caller hears of its result
// before the commit holds it. While connects stream in, a commit also waits a few milliseconds for
// more (commit-pace.ts). Should one of them fail, none of the group commits and each runs again
// alone: the outcome is always that of running them one after the other.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, type Selectable, SqliteDialect, type SqliteDatabase, type SqliteStatement, type Transaction } from 'kysely';
import { afterWait, COMMIT_DELAY_MS, type Pace, STILL, shouldWait } from './commit-pace';
import { KyselySeatStore } from './kysely-store';
import { prepare, runSynchronously, type SyncExecutor } from './prepared';
import { type Checkpointer, startCheckpointer } from './sqlite-checkpointer';
import type { Database, LicensesTable } from './schema';
import type { StoreDialect } from './store-dialect';

/** At most this many transactions share a commit (the connection is busy while a group runs). */
const GROUP_MAX = 64;
/** How long a window the event loop's utilization is read over (commit-pace.ts). */
const UTILIZATION_WINDOW_MS = 100;
/** How often the worker checkpoints the WAL. */
const CHECKPOINT_INTERVAL_MS = 250;
/**
 * Past this many frames (about 64 MB, as `journal_size_limit`) commits pause for a checkpoint so
 * the WAL starts over (`startWalOver`); at most this long, and not for a transaction that goes
 * first. Mutable for the tests, which lower the limit.
 */
export const WAL_START_OVER = { frames: 16_384, maxWaitMs: 200 };

/** The shared store with SQLite's dialect; it adds the opening of the file and its commit counts. */
export class SqliteSeatStore extends KyselySeatStore {
  static open(file: string): SqliteSeatStore {
    return openSqlite(file);
  }

  constructor(
    db: Kysely<Database>,
    private readonly sqlite: SqliteStoreDialect,
  ) {
    super(db, sqlite);
  }

  /** Transactions committed, the commits they shared, and how many of those waited for more (commit-pace.ts). */
  commitStats(): { transactions: number; commits: number; waits: number; walStartOvers: number } {
    return { ...this.sqlite.stats };
  }
}

function openSqlite(file: string): SqliteSeatStore {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const sqlite = new BetterSqlite3(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  // Reads through mmap skip a copy per page.
  sqlite.pragma('mmap_size = 268435456');
  // Checkpoints run in a worker (sqlite-checkpointer.ts); should it fail, this connection
  // checkpoints again itself. A WAL that grew under a burst is cut back to 64 MB after it.
  let checkpointer: Checkpointer | undefined;
  if (file !== ':memory:') {
    sqlite.pragma('wal_autocheckpoint = 0');
    sqlite.pragma('journal_size_limit = 67108864');
    checkpointer = startCheckpointer(file, CHECKPOINT_INTERVAL_MS, (err) => {
      sqlite.pragma('wal_autocheckpoint = 1000');
      process.emitWarning(`SQLite checkpoints are back on the main thread: ${err instanceof Error ? err.message : String(err)}`);
    });
  }
  const cached = withStatementCache(sqlite);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cached }) });
  return new SqliteSeatStore(db, new SqliteStoreDialect(db, checkpointer, syncExecutor(cached)));
}

interface Pending {
  fn: (trx: Transaction<Database>) => Promise<unknown>;
  first: boolean;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export class SqliteStoreDialect implements StoreDialect {
  private pending: Pending[] = [];
  /** Settles when the queue has drained; undefined while nothing is queued. */
  private draining: Promise<void> | undefined;
  /** Whether a commit waits for more (commit-pace.ts). */
  private pace: Pace = { ...STILL };
  /** The event loop's utilization over the last window of at least UTILIZATION_WINDOW_MS. */
  private busy = { at: 0, since: performance.eventLoopUtilization(), value: 0 };
  /** No wait for the WAL to start over before this (performance.now()). */
  private walWaitAfter = 0;
  /** Ends a commit's wait for more at once (an idle release due now arrived). */
  private wake: (() => void) | undefined;
  /** Starts the drain scheduled for the turn's end now; undefined once it started. */
  private startNow: (() => void) | undefined;
  /** The drain under way waits for nothing (`hurry`). */
  private hurried = false;
  /** Transactions committed, commits, commits that waited for more, and waits for the WAL to start over (SqliteSeatStore.commitStats). */
  readonly stats = { transactions: 0, commits: 0, waits: 0, walStartOvers: 0 };
  readonly inProcess = true;
  // SQLite's write lock serialises the whole transaction: a plain read is enough.
  private readonly license = prepare((p: { id: string }) => this.db.selectFrom('licenses').selectAll().where('id', '=', p.id));

  constructor(
    private readonly db: Kysely<Database>,
    private readonly checkpointer?: Checkpointer,
    /** Runs the prepared queries of a transaction synchronously (prepared.ts); none: through Kysely. */
    private readonly execute?: SyncExecutor,
  ) {}

  async lockLicense(trx: Transaction<Database>, id: string): Promise<Selectable<LicensesTable> | undefined> {
    return (await this.license(trx, { id })).rows[0];
  }

  isUniqueViolation(err: unknown): boolean {
    return typeof err === 'object' && err !== null && String((err as { code?: unknown }).code).startsWith('SQLITE_CONSTRAINT');
  }

  transaction<T>(fn: (trx: Transaction<Database>) => Promise<T>, opts: { first?: boolean } = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const item = { fn, first: opts.first === true, resolve: resolve as (v: unknown) => void, reject };
      // Serialised either way: going first only changes which of the waiting ones runs next.
      if (item.first) {
        this.pending.unshift(item);
        this.wake?.();
      } else {
        this.pending.push(item);
      }
      // Wait for the rest of this turn's arrivals (sockets read in the same poll phase)...
      this.draining ??= new Promise<void>((done) => {
        let started = false;
        this.startNow = () => {
          if (started) return;
          started = true;
          this.startNow = undefined;
          void this.drain().finally(done);
        };
        setImmediate(this.startNow);
      });
      // ...unless it is due now: that turn may be a mass disconnect's poll phase, seconds long.
      if (item.first) this.hurry();
    });
  }

  /**
   * The transactions queued start now, without waiting for the turn's end, nor for more to share
   * their commit (a group large enough to commit at once, one due now).
   */
  hurry(): void {
    this.hurried = true;
    if (this.startNow) queueMicrotask(this.startNow);
    else this.wake?.();
  }

  async close(): Promise<void> {
    await this.draining;
    await this.checkpointer?.stop();
  }

  private async drain(): Promise<void> {
    if (!this.hurried) await this.startWalOver();
    const before = this.pending.length;
    const now = performance.now();
    if (shouldWait(this.pace, before, this.pending[0]!.first || this.hurried, now, this.utilization(now))) {
      this.stats.waits += 1;
      await new Promise<void>((woken) => {
        const timer = setTimeout(woken, COMMIT_DELAY_MS);
        this.wake = () => {
          clearTimeout(timer);
          woken();
        };
      });
      this.wake = undefined;
      this.pace = { ...this.pace, ...afterWait(this.pace, before, this.pending.length, performance.now()) };
    }
    while (this.pending.length > 0) await this.commitGroup(this.pending.splice(0, GROUP_MAX));
    this.pace.lastDrain = performance.now();
    this.hurried = false;
    this.draining = undefined;
  }

  /**
   * The WAL starts over from its beginning only when a transaction begins with every frame in it
   * copied to the database, and commits that follow each other without a pause never leave that
   * moment: the WAL then grows as long as they do (300 MB over 30,000 admissions in a loop), and
   * every write past its end costs the kernel a block zeroed. Past WAL_START_OVER.frames the
   * commits wait for a checkpoint of what is left (not for longer than maxWaitMs, nor when an end
   * or an idle release goes first, which also cuts a wait short).
   */
  private async startWalOver(): Promise<void> {
    const cp = this.checkpointer;
    if (!cp || cp.walFrames < WAL_START_OVER.frames || this.pending[0]!.first || performance.now() < this.walWaitAfter) return;
    this.stats.walStartOvers += 1;
    await new Promise<void>((done) => {
      let over = false;
      const finish = () => {
        if (over) return;
        over = true;
        clearTimeout(timer);
        done();
      };
      const timer = setTimeout(finish, WAL_START_OVER.maxWaitMs);
      this.wake = finish;
      void cp.now().then(finish);
    });
    this.wake = undefined;
    // Should the WAL not start over (a checkpoint that could not copy everything), commits wait
    // again one checkpoint interval later at the earliest, not before each commit.
    this.walWaitAfter = performance.now() + CHECKPOINT_INTERVAL_MS;
  }

  private async commitGroup(group: Pending[]): Promise<void> {
    if (group.length > 1) {
      try {
        const values = await this.run(async (trx) => {
          const out: unknown[] = [];
          for (const item of group) out.push(await item.fn(trx));
          return out;
        });
        this.counted(group.length);
        group.forEach((item, i) => item.resolve(values[i]));
        return;
      } catch {
        // One of them failed, so none of the group committed: each runs again in a transaction
        // of its own, in the same order, and only what fails on its own fails.
      }
    }
    for (const item of group) {
      try {
        const value = await this.run(item.fn);
        this.counted(1);
        item.resolve(value);
      } catch (err) {
        item.reject(err);
      }
    }
  }

  private utilization(now: number): number {
    if (now - this.busy.at >= UTILIZATION_WINDOW_MS) {
      const current = performance.eventLoopUtilization();
      this.busy = { at: now, since: current, value: performance.eventLoopUtilization(current, this.busy.since).utilization };
    }
    return this.busy.value;
  }

  private counted(transactions: number): void {
    this.stats.transactions += transactions;
    this.stats.commits += 1;
  }

  /** One transaction, its prepared queries run synchronously on the connection it holds. */
  private run<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(async (trx) => {
      const sync = this.execute && runSynchronously(trx, this.execute);
      try {
        return await fn(trx);
      } finally {
        sync?.release();
      }
    });
  }
}

/** What Kysely's SQLite driver does with a compiled query, without its promise (on the same statements). */
function syncExecutor(db: SqliteDatabase): SyncExecutor {
  return ({ sql, parameters }) => {
    const stmt = db.prepare(sql);
    if (stmt.reader) return { rows: stmt.all(parameters) };
    const { changes, lastInsertRowid } = stmt.run(parameters);
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
  };
}

/**
 * A statement whose reads come back as raw rows (better-sqlite3's raw mode), made objects by a
 * function built once from its column names. On Node 20 better-sqlite3 builds an object row by
 * setting each column through V8's API, its name decoded and interned again for every row (the
 * license row, 25 columns, 8.7 µs against 5.6 µs read raw and built here, in a loop).
 */
function withRawRows(stmt: BetterSqlite3.Statement): SqliteStatement {
  if (!stmt.reader) return stmt;
  const row = rowBuilder(stmt.columns().map((c) => c.name));
  stmt.raw(true);
  return {
    reader: true,
    all: (parameters) => (stmt.all(parameters as unknown[]) as unknown[][]).map(row),
    run: (parameters) => stmt.run(parameters as unknown[]),
    *iterate(parameters) {
      for (const values of stmt.iterate(parameters as unknown[])) yield row(values as unknown[]);
    },
  };
}

/** `(values) => ({ name0: values[0], … })` for these column names; a name given twice keeps its last value, as an object row does. */
function rowBuilder(names: string[]): (values: unknown[]) => unknown {
  // A literal of one shape is what V8 builds fastest; the names are quoted, never code.
  return new Function('v', `return { ${names.map((name, i) => `${JSON.stringify(name)}: v[${i}]`).join(', ')} };`) as (values: unknown[]) => unknown;
}

/**
 * Kysely prepares every query anew; parsing the SQL was an eighth of an admission's CPU in the
 * bench profile. Statements are reused by their text (the store never streams, so none is busy),
 * each reading one returning raw rows made objects (`withRawRows`).
 */
function withStatementCache(db: BetterSqlite3.Database, max = 500): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => db.close(),
    prepare(text: string) {
      let stmt = cache.get(text);
      if (!stmt) {
        stmt = withRawRows(db.prepare(text));
        if (cache.size >= max) cache.delete(cache.keys().next().value!);
        cache.set(text, stmt);
      }
      return stmt;
    },
  };
}
