// HTTP leases across nodes: two in-process servers on one PostgreSQL and one Redis. A lease taken
// on one node is renewed on the other (the lease is in the database, not in a node), and when it
// is not renewed every node's sweep finds it due and exactly one lapses it. A license deleted on
// one node: its leases' renewals and releases on the other are told so at once.
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sign, startServer, until, type Running } from '../support/harness';
import { describeWith, type Postgres, type Redis, startPostgres, startRedis } from '../support/services';
import { acquire, release, renew, shortLeases } from '../server/leases-support';
import { clusterMissing } from './cluster-support';

async function seatEvents(databaseUrl: string, sessionId: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ type: string }>('select type from seat_events where session_id = $1 order by id', [sessionId]);
    return rows.map((r) => r.type);
  } finally {
    await client.end();
  }
}

describeWith(clusterMissing())('HTTP leases on two nodes', { timeout: 60_000 }, () => {
  let postgres: Postgres;
  let redis: Redis;
  beforeAll(async () => {
    [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled([postgres?.destroy(), redis?.destroy()]);
  });

  const twoNodes = async (): Promise<[Running, Running, string]> => {
    const databaseUrl = await postgres.createDatabase('leases');
    const node = (nodeId: string) => startServer({ databaseUrl, config: { redisUrl: redis.url, nodeId, pgPoolSize: 4 } });
    const a = await node('node-a');
    return [a, await node('node-b'), databaseUrl];
  };

  it('a lease granted on node A is renewed on node B, and when it is not, it lapses once', async () => {
    const [a, b, databaseUrl] = await twoNodes();
    const { license, admin } = await a.api.setup({ seats: 1, seatKey: ['device'], idleTimeoutSec: 30 });
    await shortLeases(a.server, license.id, 1);
    const token = await sign(license, { dev: 'till-1' });
    const granted = await acquire(a.url, token);
    expect(granted.status).toBe(201);
    const { leaseId, sessionId } = granted.body;

    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 500));
      const renewed = await renew(b.url, token, leaseId);
      expect(renewed.body).toMatchObject({ leaseId, sessionId, resumed: false });
    }
    const sessions = async (node: Running) => (await node.api.as(admin.token).ok('GET', `/licenses/${license.id}/sessions`)).sessions;
    expect(await sessions(b)).toMatchObject([{ id: sessionId, state: 'active', leases: 1 }]);

    // Both nodes sweep every 200 ms; the lease lapses on one of them, once.
    await until(async () => (await sessions(a))[0]?.state === 'idle', 4000);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await seatEvents(databaseUrl, sessionId)).toEqual(['granted', 'idle']);
    expect(await sessions(b)).toMatchObject([{ id: sessionId, state: 'idle', leases: 0 }]);
    // Still held: back through node B within the idle hold, the same session.
    expect((await renew(b.url, token, leaseId)).body).toMatchObject({ resumed: true, sessionId });
    expect(await seatEvents(databaseUrl, sessionId)).toEqual(['granted', 'idle', 'resumed']);
  });

  it('a license deleted on node A: a renewal or release of its lease on node B, which read the license a moment before, is 401 license_not_found, not 404', async () => {
    const [a, b] = await twoNodes();
    const { license, admin } = await a.api.setup({ seats: 2, seatKey: ['device'], idleTimeoutSec: 30 });
    const token = await sign(license, { dev: 'till-1' });
    const other = await sign(license, { dev: 'till-2' });
    const first = (await acquire(a.url, token)).body.leaseId;
    const second = (await acquire(a.url, other)).body.leaseId;
    // Node B reads the license for these tokens (and keeps it a second).
    expect((await renew(b.url, token, first)).status).toBe(200);
    expect((await renew(b.url, other, second)).status).toBe(200);
    await admin.ok('DELETE', `/licenses/${license.id}`);
    const renewed = await renew(b.url, token, first);
    expect([renewed.status, renewed.body]).toMatchObject([401, { error: { code: 'license_not_found' } }]);
    const released = await release(b.url, other, second);
    expect([released.status, released.body]).toMatchObject([401, { error: { code: 'license_not_found' } }]);
  });
});
