// One running process per node, and one node per database where nodes do not share it: a node
// started beside a running one it would harm refuses to start instead.
//
// - A SQLite file serves one node. A second process on it would let go of the first one's sockets'
//   rows as a restart does (their sessions idle, then released while their tabs are open), and
//   neither would hear of the other's kicks and ends (no Redis). The node holds an exclusive lock
//   on `<file>-lock` for its life; the kernel lets go of it the moment the process dies, so a
//   restart after a crash is not held up.
// - On PostgreSQL, each node holds a session-level advisory lock on its NODE_ID (a second process
//   with a running node's id would let go of that node's rows at its start), and a lock that all
//   nodes share with Redis and one node without Redis holds alone (it takes every other node's rows
//   for a past life's). PostgreSQL lets go of them when the node's connection ends, as it does when
//   the process dies; a lock still held by a connection PostgreSQL has not yet seen die (a lost
//   machine) is taken over once that node's heartbeat is older than NODE_TIMEOUT_MS. Should the
//   database restart, the node takes its locks again, and says so in its log if another took them.
import { lstatSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type pgModule from 'pg';
import { isPostgresUrl, sqliteFileOf } from './open-store';
import { loadPg } from './postgres-store';

/** The start stops: another running node holds what this one would take. */
export class NodeInUseError extends Error {
  readonly code = 'NODE_IN_USE';
}

export interface NodeClaim {
  release(): Promise<void>;
}

export interface NodeClaimOptions {
  databaseUrl: string;
  nodeId: string;
  /** The nodes share the database (REDIS_URL set). */
  cluster: boolean;
  nodeTimeoutMs: number;
  /** How often a claim a database restart lost is taken again. */
  retryMs: number;
  /** The claim could not be taken again after a database restart (another node took it). */
  onLost: (err: unknown) => void;
}

export async function claimNode(o: NodeClaimOptions): Promise<NodeClaim> {
  if (isPostgresUrl(o.databaseUrl)) return PostgresClaim.take(o);
  const file = sqliteFileOf(o.databaseUrl);
  if (file === ':memory:' || file === '') return { release: async () => {} };
  return sqliteClaim(file);
}

/**
 * The file's own path, symbolic links resolved (the file's, or, before its first start, its
 * directory's), so that every name of one file takes one lock: a second node on the file through
 * a link was let start, and the two let go of each other's sockets' rows.
 */
function realFile(file: string, depth = 0): string {
  try {
    return realpathSync(file);
  } catch {
    // Not there yet: a link to where it will be is followed, else its directory is resolved.
  }
  try {
    if (depth < 40 && lstatSync(file).isSymbolicLink()) return realFile(path.resolve(path.dirname(file), readlinkSync(file)), depth + 1);
    return path.join(realpathSync(path.dirname(file)), path.basename(file));
  } catch {
    // A directory that does not exist: opening the store says so.
    return file;
  }
}

function sqliteClaim(given: string): NodeClaim {
  const file = realFile(given);
  // Hard links give one file several paths, which no lock named by path can cover; SQLite itself
  // names a database's WAL by its path, so two names of one file are two WALs and a corrupt file.
  const links = statSync(file, { throwIfNoEntry: false })?.nlink ?? 1;
  if (links > 1) {
    throw new NodeInUseError(
      `DATABASE_URL=${given} is a file with ${links} names (hard links): a node on another of them would go unseen and the two would corrupt it; keep one name (a symbolic link is fine)`,
    );
  }
  const lock = new Database(`${file}-lock`, { timeout: 0 });
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    lock.close();
    if ((err as { code?: unknown }).code !== 'SQLITE_BUSY') throw err;
    throw new NodeInUseError(
      `DATABASE_URL=${given} is in use by another running node (a process holds ${file}-lock): a SQLite file serves one node; stop the other, or run several nodes on PostgreSQL with REDIS_URL`,
    );
  }
  return {
    release: async () => {
      lock.close();
    },
  };
}

/** How long a take-over waits for the backends it ended to exit (their locks go with them). */
const TERMINATE_WAIT_MS = 2000;

/** The advisory locks' first key ("seat" in hex, near enough); the second is 0 for the all-nodes lock, else the NODE_ID's hash. */
const LOCK_CLASS = 0x5ea7;
const tagOf = (nodeId: string) => `seat-node:${nodeId}`.slice(0, 63);

class PostgresClaim implements NodeClaim {
  private client: pgModule.Client | undefined;
  private retry: NodeJS.Timeout | undefined;
  private released = false;
  private toldLost = false;

  private constructor(private readonly o: NodeClaimOptions) {}

  static async take(o: NodeClaimOptions): Promise<PostgresClaim> {
    const claim = new PostgresClaim(o);
    await claim.lock();
    return claim;
  }

  async release(): Promise<void> {
    this.released = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  /** Connects and takes both locks, or throws (NodeInUseError when a running node holds one). */
  private async lock(): Promise<void> {
    const pg = loadPg();
    const client = new pg.Client({ connectionString: this.o.databaseUrl, application_name: tagOf(this.o.nodeId), connectionTimeoutMillis: 5000 });
    // A database restart ends the connection, and the locks with it: take them again.
    let gone = false;
    const onGone = () => {
      gone = true;
      this.lost(client);
    };
    client.on('error', onGone);
    client.on('end', onGone);
    try {
      await client.connect();
      if (!(await this.tryLocks(client))) {
        await this.takeOverStale(client);
        if (!(await this.tryLocks(client))) throw new NodeInUseError(await this.holders(client));
      }
    } catch (err) {
      client.removeAllListeners('end');
      await client.end().catch(() => {});
      throw err;
    }
    this.client = client;
    // Ended while the locks were being taken: taken again, as after any loss.
    if (gone) this.lost(client);
  }

  private async tryLocks(client: pgModule.Client): Promise<boolean> {
    const all = this.o.cluster ? 'pg_try_advisory_lock_shared($1, 0)' : 'pg_try_advisory_lock($1, 0)';
    const { rows } = await client.query<{ own: boolean; all: boolean }>(`SELECT pg_try_advisory_lock($1, hashtext($2)) AS own, ${all} AS all`, [LOCK_CLASS, this.o.nodeId]);
    if (rows[0]!.own && rows[0]!.all) return true;
    await client.query('SELECT pg_advisory_unlock_all()');
    return false;
  }

  /**
   * Ends the connections that hold the locks for nodes whose heartbeat is older than the node
   * timeout (or that never wrote one): a process PostgreSQL has not seen die. A running node's are
   * left alone.
   */
  private async takeOverStale(client: pgModule.Client): Promise<void> {
    // No heartbeats yet (a first start, still migrating): every holder counts as running.
    const { rows } = await client.query<{ nodes: string | null }>(`SELECT to_regclass('nodes')::text AS nodes`);
    if (rows[0]!.nodes === null) return;
    const { rows: ended } = await client.query<{ pid: number }>(
      `SELECT l.pid, pg_terminate_backend(l.pid)
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.classid = $1 AND (l.objid = 0 OR l.objid = hashtext($2)::oid) AND l.pid <> pg_backend_pid()
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND a.application_name LIKE 'seat-node:%'
          AND NOT EXISTS (SELECT 1 FROM nodes n WHERE 'seat-node:' || n.id = a.application_name AND n.heartbeat_at >= $3)`,
      [LOCK_CLASS, this.o.nodeId, Date.now() - this.o.nodeTimeoutMs],
    );
    // pg_terminate_backend only signals: the locks go when each backend has exited.
    const pids = [...new Set(ended.map((r) => r.pid))];
    for (const until = Date.now() + TERMINATE_WAIT_MS; pids.length > 0 && Date.now() < until; ) {
      const { rows: left } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ANY($1)', [pids]);
      if (left[0]!.n === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Which running node holds what this one would take, in words for the start's failure. */
  private async holders(client: pgModule.Client): Promise<string> {
    const { rows } = await client.query<{ tag: string; own: boolean }>(
      `SELECT DISTINCT a.application_name AS tag, l.objid <> 0 AS own
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.classid = $1 AND (l.objid = 0 OR l.objid = hashtext($2)::oid) AND l.pid <> pg_backend_pid()
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [LOCK_CLASS, this.o.nodeId],
    );
    const name = (tag: string) => tag.replace(/^seat-node:/, '');
    if (rows.some((r) => r.own && name(r.tag) === this.o.nodeId)) {
      return `NODE_ID=${this.o.nodeId} is in use by another running node on this database: give each node its own NODE_ID`;
    }
    const others = [...new Set(rows.filter((r) => !r.own).map((r) => name(r.tag)))].join(', ');
    return this.o.cluster
      ? `a node without REDIS_URL runs on this database (${others || 'unnamed'}), taking it for its own: set the same REDIS_URL on every node of the database`
      : `other nodes run on this database (${others || 'unnamed'}): without REDIS_URL a node runs alone on its database; set the same REDIS_URL on every node to run several`;
  }

  private lost(client: pgModule.Client): void {
    if (this.released || this.client !== client) return;
    this.client = undefined;
    this.retry = setTimeout(() => void this.again(), this.o.retryMs);
    this.retry.unref();
  }

  private async again(): Promise<void> {
    if (this.released) return;
    try {
      await this.lock();
    } catch (err) {
      // A database still away fails quietly here (the heartbeat says so); a lock another node took
      // is told, once until this node has it again.
      if (err instanceof NodeInUseError && !this.toldLost) {
        this.toldLost = true;
        this.o.onLost(err);
      }
      if (!this.released) {
        this.retry = setTimeout(() => void this.again(), this.o.retryMs);
        this.retry.unref();
      }
      return;
    }
    this.toldLost = false;
    if (this.released) await this.release();
  }
}
