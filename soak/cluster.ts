// The system under soak: three nodes (the bundle `npm start` runs) on a throwaway PostgreSQL and
// redis-server, or one node on SQLite; and the faults the soak injects into it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Proc, spawnServer } from '../test/support/server-process';
import { type Postgres, type Redis, startPostgres, startRedis } from '../test/support/throwaway-services';
import { DbProxies } from './db-proxies';
import type { Gaps, OpLog } from './record';

export const SOAK_ADMIN_TOKEN = 'soak-operator-token-0123456789';

/**
 * Every node's timeouts, shrunk so holds, reaping and sweeps happen in seconds. The node timeout
 * keeps a margin over what a loaded 2-core machine stalls a node for: a live node taken for dead
 * lets its sessions go idle under its connected clients, which the checker rightly reports.
 */
export const TIMING = {
  heartbeatMs: 500,
  nodeTimeoutMs: 3000,
  sweepMs: 200,
  pingIntervalMs: 1000,
  pingTimeoutMs: 1000,
  kickCooldownSec: 1,
  /** How often a node writes the `session:activity` it heard (an inactivity release waits this long). */
  activityFlushMs: 200,
  /** A webhook attempt's timeout, and how long a node's claim on a webhook lasts (a dead node's lapses). */
  webhookTimeoutMs: 1000,
  webhookClaimMs: 3000,
};

/** SQLite's and PostgreSQL's words for a write refused on a unique key. */
const CONSTRAINT = /UNIQUE constraint failed|duplicate key value violates unique constraint/;

export interface SoakNode {
  id: string;
  proc?: Proc;
  /** Up and listening: clients and REST calls may use it. */
  up: boolean;
}

export class SoakCluster {
  readonly nodes: SoakNode[] = [];
  private pg?: Postgres;
  private redis?: Redis;
  private dir?: string;
  private env: Record<string, string> = {};
  /**
   * On PostgreSQL, each node's own way to the database (by node index, kept across its restarts):
   * a loopback proxy that can hold its traffic, for the database gone silent (`silentPostgres`).
   */
  private pgProxies?: DbProxies;
  private readonly gaps: Gaps;
  private readonly log: OpLog;
  /** Set while a fault runs: faults do not overlap. */
  busy = false;
  readonly faults = new Map<string, number>();
  databaseUrl = '';

  private constructor(gaps: Gaps, log: OpLog) {
    this.gaps = gaps;
    this.log = log;
  }

  /**
   * `dbProxies`: each node reaches PostgreSQL through a proxy of its own (for `pg-silent`). Only
   * when asked for: the proxies carry every query of every node through one more process, and on
   * two cores that cost the other checks their margins (full runs read 6 and 14 violations of
   * rows outliving sockets and seats released early by the clients' late clocks, and 15,000 to
   * 18,500 grants, against 0 violations and about 20,000 grants without them).
   */
  static async start(opts: { sqlite: boolean; gaps: Gaps; log: OpLog; dbProxies?: boolean }): Promise<SoakCluster> {
    const c = new SoakCluster(opts.gaps, opts.log);
    try {
      await c.boot(opts.sqlite, opts.dbProxies ?? false);
    } catch (err) {
      await c.stop();
      throw err;
    }
    return c;
  }

  private async boot(sqlite: boolean, dbProxies: boolean): Promise<void> {
    const common = {
      ADMIN_TOKEN: SOAK_ADMIN_TOKEN,
      HEARTBEAT_INTERVAL_MS: String(TIMING.heartbeatMs),
      NODE_TIMEOUT_MS: String(TIMING.nodeTimeoutMs),
      SWEEP_INTERVAL_MS: String(TIMING.sweepMs),
      PING_INTERVAL_MS: String(TIMING.pingIntervalMs),
      PING_TIMEOUT_MS: String(TIMING.pingTimeoutMs),
      KICK_COOLDOWN_SEC: String(TIMING.kickCooldownSec),
      IDLE_TIMEOUT_MIN_SEC: '1',
      INACTIVITY_TIMEOUT_MIN_SEC: '1',
      ACTIVITY_FLUSH_MS: String(TIMING.activityFlushMs),
      // Every client comes from loopback: no per-address connect limit.
      CONNECT_RATE_PER_SEC: '0',
      PG_POOL_SIZE: '5',
      // The soak's webhook receiver (soak/webhooks.ts) listens on loopback; retries and a dead
      // node's claims come round in seconds.
      WEBHOOK_ALLOW_PRIVATE: 'on',
      WEBHOOK_TIMEOUT_MS: String(TIMING.webhookTimeoutMs),
      WEBHOOK_CLAIM_MS: String(TIMING.webhookClaimMs),
      WEBHOOK_RETRY_BASE_MS: '100',
      WEBHOOK_RETRY_MAX_MS: '1000',
      WEBHOOK_POLL_MS: '200',
    };
    if (sqlite) {
      this.dir = mkdtempSync(path.join(tmpdir(), 'seats-soak-'));
      this.databaseUrl = path.join(this.dir, 'seats.db');
      this.env = { ...common, DATABASE_URL: this.databaseUrl };
      this.nodes.push({ id: 'soak-A', up: false });
    } else {
      [this.pg, this.redis] = await Promise.all([startPostgres({ durableCommits: true }), startRedis()]);
      this.databaseUrl = await this.pg.createDatabase('soak');
      this.env = { ...common, DATABASE_URL: this.databaseUrl, REDIS_URL: this.redis.url };
      for (const id of ['soak-A', 'soak-B', 'soak-C']) this.nodes.push({ id, up: false });
      if (dbProxies) this.pgProxies = await DbProxies.start(this.pg.port, this.nodes.length);
    }
    // Started together, as a deployment would.
    await Promise.all(this.nodes.map((n) => this.launch(n)));
  }

  get sqlite(): boolean {
    return this.pg === undefined;
  }

  private async launch(node: SoakNode): Promise<void> {
    node.proc = await spawnServer({ ...this.env, ...this.nodeEnv(node), NODE_ID: node.id }).ready;
    this.watchConstraints(node);
    node.up = true;
  }

  /**
   * The store refusing a write for a unique key, in a node's log: a seat move that tried to write
   * what cannot be (two sessions of one seat key, say). No fault explains one, yet its request is
   * answered 503, which the workload takes for the store being away and tries again: reported
   * here, or it would pass unseen.
   */
  readonly constraintErrors: string[] = [];

  private watchConstraints(node: SoakNode): void {
    for (const stream of [node.proc!.child.stdout, node.proc!.child.stderr]) {
      let carry = '';
      stream?.on('data', (d: Buffer) => {
        const lines = (carry + d.toString()).split('\n');
        carry = lines.pop() ?? '';
        for (const line of lines) {
          if (!CONSTRAINT.test(line) || this.constraintErrors.length >= 20) continue;
          this.constraintErrors.push(`${node.id} logged a unique key refused: ${line.slice(0, 400)}`);
        }
      });
    }
  }

  /** On PostgreSQL, the node's DATABASE_URL through its own proxy (the checker's URL goes direct). */
  private nodeEnv(node: SoakNode): Record<string, string> {
    const port = this.pgProxies?.ports[this.nodes.indexOf(node)];
    if (port === undefined) return {};
    const url = new URL(this.databaseUrl);
    url.port = String(port);
    return { DATABASE_URL: url.toString() };
  }

  /** The nodes up now, each with its process's id (a restart is another life). */
  liveNodes(): Array<{ id: string; life: number }> {
    return this.nodes.filter((n) => n.up && n.proc?.child.pid !== undefined).map((n) => ({ id: n.id, life: n.proc!.child.pid! }));
  }

  liveUrls(): string[] {
    return this.nodes.filter((n) => n.up && n.proc).map((n) => n.proc!.url);
  }

  /** The fault kinds this deployment can suffer (`pg-silent` with the database proxies only). */
  faultKinds(): string[] {
    if (this.sqlite) return ['kill9', 'silent-client'];
    return ['kill9', 'redis-restart', 'pg-restart-fast', 'pg-restart-immediate', ...(this.pgProxies ? ['pg-silent'] : []), 'silent-client'];
  }

  /** `kill -9` of a node, and its restart under the same id after `downMs`. */
  async kill9(index: number, downMs: number): Promise<void> {
    const node = this.nodes[index]!;
    node.up = false;
    if (this.liveUrls().length === 0) this.gaps.begin('no-node');
    await node.proc?.kill9();
    this.log.add({ kind: 'fault', detail: `kill -9 ${node.id}; restart in ${downMs} ms` });
    await sleep(downMs);
    await this.launch(node);
    this.gaps.end('no-node');
    this.log.add({ kind: 'fault', detail: `${node.id} restarted at ${node.proc!.url}` });
  }

  async restartRedis(downMs: number): Promise<void> {
    await this.redis!.stop();
    this.log.add({ kind: 'fault', detail: `redis-server killed; restart in ${downMs} ms` });
    await sleep(downMs);
    await this.redis!.start();
    this.log.add({ kind: 'fault', detail: 'redis-server restarted' });
  }

  async restartPostgres(mode: 'fast' | 'immediate', downMs: number): Promise<void> {
    this.gaps.begin('database');
    await this.pg!.stop(mode);
    this.log.add({ kind: 'fault', detail: `PostgreSQL ${mode} shutdown; restart in ${downMs} ms` });
    await sleep(downMs);
    await this.pg!.start();
    this.gaps.end('database');
    this.log.add({ kind: 'fault', detail: 'PostgreSQL restarted' });
  }

  /**
   * PostgreSQL gone silent, as over a network that drops packets: every node's proxy holds its
   * traffic (queries neither answered nor failed, connections not closed) for `holdMs`, then the
   * node `first` hears back (what it sent is passed on in order) and, `laterMs` after, the others.
   * `holdMs` is meant longer than the node timeout (every beat as old as the silence) and shorter
   * than a pool's 5 s wait for a connection, so the silence itself fails nothing.
   */
  async silentPostgres(first: number, holdMs: number, laterMs: number): Promise<void> {
    this.gaps.begin('database');
    await this.pgProxies!.hold();
    this.log.add({ kind: 'fault', detail: `PostgreSQL silent to every node; ${this.nodes[first]!.id} hears back in ${holdMs} ms, the others ${laterMs} ms later` });
    try {
      await sleep(holdMs);
      await this.pgProxies!.pass(first);
      this.log.add({ kind: 'fault', detail: `PostgreSQL answers ${this.nodes[first]!.id} again` });
      await sleep(laterMs);
    } finally {
      await this.pgProxies!.pass();
      this.gaps.end('database');
    }
    this.log.add({ kind: 'fault', detail: 'PostgreSQL answers every node again' });
  }

  /** Every node's output (the newest part), for a failed run. */
  output(): string {
    return this.nodes.map((n) => `---- ${n.id}\n${n.proc?.output().slice(-20_000) ?? ''}`).join('\n');
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.nodes.map((n) => n.proc?.kill9()));
    await this.pgProxies?.close();
    await Promise.allSettled([this.pg?.destroy(), this.redis?.destroy()]);
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
