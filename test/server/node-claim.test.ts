// A node started beside a running one it would harm refuses to start, and changes nothing
// (server/store/node-claim.ts): a second process on a SQLite file, a second process with a running
// node's NODE_ID, and nodes without Redis sharing a PostgreSQL database. A crashed node's
// successor is not held up, and one PostgreSQL has not seen die is taken over once its heartbeat is
// older than the node timeout.
import { linkSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { granted, type Proc, sign, startProcess, tempDir, until } from '../support/harness';
import { claimNode, NodeInUseError } from '../../server/store/node-claim';
import { spawnServer } from '../support/server-process';
import { describeWith, type Postgres, postgresMissing, type Redis, redisMissing, startPostgres, startRedis } from '../support/services';

const FAST = { HEARTBEAT_INTERVAL_MS: '300', NODE_TIMEOUT_MS: '1500', SWEEP_INTERVAL_MS: '200', IDLE_TIMEOUT_MIN_SEC: '1' };

/** The start's failure: the process exits 1 with its words on stderr. */
async function refusedStart(env: Record<string, string>): Promise<string> {
  const started = spawnServer({ ...FAST, ...env });
  onTestFinished(() => started.kill9());
  const err = await started.ready.then(
    () => undefined,
    (e: Error) => e,
  );
  expect(err?.message).toMatch(/^server exited/);
  return err!.message;
}

/** A license with one live session on `node`, which must stay active whatever the refused start did. */
async function liveSession(node: Proc): Promise<{ check: () => Promise<void> }> {
  const { license, admin } = await node.api.setup({ seats: 2, idleTimeoutSec: 1 });
  const client = await granted(node.url, await sign(license, { sid: 'kept' }));
  onTestFinished(() => void client.socket.disconnect());
  const sessions = async () => (await admin.ok('GET', `/licenses/${license.id}/sessions`)).sessions as Array<{ state: string; sockets: number }>;
  expect(await sessions()).toMatchObject([{ state: 'active', sockets: 1 }]);
  return {
    check: async () => {
      // Past a heartbeat, an idle timeout and a sweep: a row let go would show by now.
      await new Promise((r) => setTimeout(r, 1800));
      expect(await sessions()).toMatchObject([{ state: 'active', sockets: 1 }]);
      expect(client.socket.connected).toBe(true);
    },
  };
}

describe('one node per SQLite file', () => {
  it('a second process on the file refuses to start and lets go of nothing; after a kill -9 a new one starts at once', async () => {
    const file = path.join(tempDir(), 'seats.db');
    const first = await startProcess({ ...FAST, DATABASE_URL: file }, { untilTestEnds: false });
    onTestFinished(() => first.kill9());
    const kept = await liveSession(first);
    const said = await refusedStart({ DATABASE_URL: file });
    expect(said).toContain(`the seat server could not start: DATABASE_URL=${file} is in use by another running node`);
    expect(said).not.toMatch(/\n\s+at /);
    await kept.check();

    await first.kill9();
    const t0 = Date.now();
    const next = await startProcess({ ...FAST, DATABASE_URL: file });
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect((await fetch(`${next.url}/healthz`)).status).toBe(200);
  });
});

describe('one lock per SQLite file, whatever its name', () => {
  const claim = (databaseUrl: string) => claimNode({ databaseUrl, nodeId: 'n', cluster: false, nodeTimeoutMs: 1000, retryMs: 100, onLost: () => {} });

  it('a second node through a symbolic link to the file, or to its directory, is refused; so is a link made before the file', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'seats.db');
    // The link made while the file does not exist yet, as the first start will make it.
    symlinkSync(file, path.join(dir, 'early.db'));
    const first = await claim(file);
    onTestFinished(() => first.release());
    await expect(claim(path.join(dir, 'early.db'))).rejects.toThrow(`DATABASE_URL=${path.join(dir, 'early.db')} is in use by another running node`);
    writeFileSync(file, '');
    symlinkSync(file, path.join(dir, 'alias.db'));
    await expect(claim(path.join(dir, 'alias.db'))).rejects.toThrow(NodeInUseError);
    const elsewhere = path.join(tempDir(), 'data');
    symlinkSync(dir, elsewhere);
    await expect(claim(path.join(elsewhere, 'seats.db'))).rejects.toThrow(NodeInUseError);
    await first.release();
    (await claim(path.join(dir, 'alias.db'))).release();
  });

  it('a file with hard links is refused, naming them: no lock by path covers its other names', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'seats.db'), '');
    linkSync(path.join(dir, 'seats.db'), path.join(dir, 'copy.db'));
    await expect(claim(path.join(dir, 'seats.db'))).rejects.toThrow(`DATABASE_URL=${path.join(dir, 'seats.db')} is a file with 2 names (hard links)`);
  });
});

describeWith([postgresMissing(), redisMissing()])('nodes on one PostgreSQL database', () => {
  let pgServer: Postgres;
  let redis: Redis;
  beforeAll(async () => {
    [pgServer, redis] = await Promise.all([startPostgres(), startRedis()]);
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled([pgServer?.destroy(), redis?.destroy()]);
  });

  it("a second process with a running node's NODE_ID refuses to start and lets go of nothing; after a kill -9 the same NODE_ID starts at once", async () => {
    const env = { ...FAST, DATABASE_URL: await pgServer.createDatabase('claim'), REDIS_URL: redis.url };
    const a = await startProcess({ ...env, NODE_ID: 'node-a' }, { untilTestEnds: false });
    onTestFinished(() => a.kill9());
    const kept = await liveSession(a);
    const said = await refusedStart({ ...env, NODE_ID: 'node-a' });
    expect(said).toContain('the seat server could not start: NODE_ID=node-a is in use by another running node on this database');
    await kept.check();
    // Another NODE_ID with the same Redis is another node of the cluster.
    await startProcess({ ...env, NODE_ID: 'node-b' });

    await a.kill9();
    await startProcess({ ...env, NODE_ID: 'node-a' });
  });

  it('a node without REDIS_URL runs alone on its database: a second one, or a cluster node beside it, refuses to start', async () => {
    const env = { ...FAST, DATABASE_URL: await pgServer.createDatabase('alone') };
    const alone = await startProcess({ ...env, NODE_ID: 'alone' });
    const kept = await liveSession(alone);
    expect(await refusedStart({ ...env, NODE_ID: 'second' })).toContain('other nodes run on this database (alone): without REDIS_URL a node runs alone on its database');
    expect(await refusedStart({ ...env, NODE_ID: 'clustered', REDIS_URL: redis.url })).toContain('a node without REDIS_URL runs on this database (alone)');
    await kept.check();

    // And a node without Redis does not start beside a cluster's. Locks are each database's: the
    // refusal names only this database's nodes, and ends no lock connection of another database's
    // (the node `alone`, whose heartbeat this database has never seen).
    const clusterEnv = { ...FAST, DATABASE_URL: await pgServer.createDatabase('clustered'), REDIS_URL: redis.url };
    await startProcess({ ...clusterEnv, NODE_ID: 'c1' });
    const lockPid = async () => {
      const probe = new pg.Client({ connectionString: env.DATABASE_URL });
      await probe.connect();
      try {
        return (await probe.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name = 'seat-node:alone'`)).rows.map((r) => r.pid);
      } finally {
        await probe.end();
      }
    };
    const before = await lockPid();
    expect(before).toHaveLength(1);
    const refused = await refusedStart({ ...clusterEnv, REDIS_URL: '', NODE_ID: 'c2' });
    expect(refused).toContain('other nodes run on this database (c1):');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await lockPid()).toEqual(before);
    await kept.check();
  });

  it("takes over the lock of a node PostgreSQL has not seen die once its heartbeat is older than the node timeout, and takes its locks again after a database restart", async () => {
    const url = await pgServer.createDatabase('stale');
    const env = { ...FAST, DATABASE_URL: url, REDIS_URL: redis.url };
    // A first node writes the schema and its heartbeat, then stops.
    const first = await startProcess({ ...env, NODE_ID: 'node-x' });
    await first.kill9();
    // A connection holding node-x's lock, as a lost machine's would (its process gone, its connection not).
    const ghost = new pg.Client({ connectionString: url, application_name: 'seat-node:node-x' });
    ghost.on('error', () => {});
    await ghost.connect();
    onTestFinished(() => ghost.end().catch(() => {}));
    await ghost.query("SELECT pg_advisory_lock(x'5ea7'::int, hashtext('node-x')), pg_advisory_lock_shared(x'5ea7'::int, 0)");
    // While its heartbeat is fresh, the node counts as running.
    await ghost.query('UPDATE nodes SET heartbeat_at = $1 WHERE id = $2', [Date.now() + 60_000, 'node-x']);
    expect(await refusedStart({ ...env, NODE_ID: 'node-x' })).toContain('NODE_ID=node-x is in use by another running node');
    // Past the node timeout, it is taken for dead: its connection is ended and the lock taken.
    await ghost.query('UPDATE nodes SET heartbeat_at = $1 WHERE id = $2', [Date.now() - 60_000, 'node-x']);
    const node = await startProcess({ ...env, NODE_ID: 'node-x' });

    const locks = async () => {
      const probe = new pg.Client({ connectionString: url });
      await probe.connect();
      try {
        const { rows } = await probe.query(
          "SELECT a.application_name AS tag FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted AND l.classid = x'5ea7'::int::oid",
        );
        return rows.map((r) => r.tag as string).sort();
      } finally {
        await probe.end();
      }
    };
    expect(await locks()).toEqual(['seat-node:node-x', 'seat-node:node-x']);
    // A restart of the database ends every connection: the node takes its locks again.
    await pgServer.stop('fast');
    await pgServer.start();
    await until(async () => (await locks().catch(() => [])).length === 2, 15_000);
    expect(await locks()).toEqual(['seat-node:node-x', 'seat-node:node-x']);
    expect((await fetch(`${node.url}/healthz`)).status).toBe(200);
  });
});
