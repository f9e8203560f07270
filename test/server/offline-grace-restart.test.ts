// Offline grace through a crash and across nodes: the receipt keys live in the database, so after
// a `kill -9` and a restart the same keys are published and receipts issued before still verify,
// the hold survives the restart, and two nodes on one PostgreSQL publish (and sign with) the same keys.
import path from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeSocket, connectAndAdmit, granted, type Proc, sign, sleep, startProcess, tempDir, until } from '../support/harness';
import { describeWith, type Postgres, postgresMissing, type Redis, redisMissing, startPostgres, startRedis } from '../support/services';

const jwks = async (url: string) => (await (await fetch(`${url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> };

describe('offline grace through kill -9 (SQLite)', () => {
  it('the restarted server publishes the same keys, receipts issued before verify, and the hold survives', async () => {
    const db = path.join(tempDir(), 'seats.db');
    const env = { DATABASE_URL: db, IDLE_TIMEOUT_MIN_SEC: '1', SWEEP_INTERVAL_MS: '200' };
    const first = await startProcess(env);
    const { license, admin } = await first.api.setup({ seats: 1, idleTimeoutSec: 1, offlineGraceSec: 10 });
    const token = await sign(license, { sid: 'pos-1' });
    const before = await jwks(first.url);
    const { socket, grant } = await granted(first.url, token);
    await closeSocket(socket);
    await first.kill9();

    const second = await startProcess({ ...env, PORT: String(first.port) });
    const restartedAt = Date.now();
    const after = await jwks(second.url);
    expect(after).toEqual(before);
    const { payload } = await jwtVerify(grant.receipt!, createLocalJWKSet(after as never));
    expect(payload.sid).toBe(grant.sessionId);
    // The same key signs after the restart.
    const again = await granted(second.url, await sign(license, { sid: 'pos-1' }));
    expect(again.grant).toMatchObject({ resumed: true, sessionId: grant.sessionId });
    expect(decodeProtectedHeader(again.grant.receipt!).kid).toBe(decodeProtectedHeader(grant.receipt!).kid);
    await closeSocket(again.socket);

    // Past the idle timeout from the restart: still held by the receipt, a newcomer is denied.
    await sleep(Math.max(0, restartedAt + 1800 - Date.now()));
    const adminAfter = second.api.as(admin.token);
    const { sessions } = await adminAfter.ok('GET', `/licenses/${license.id}/sessions`);
    expect(sessions).toMatchObject([{ id: grant.sessionId, state: 'idle' }]);
    expect(Date.parse(sessions[0].expiresAt)).toBe(Date.parse(sessions[0].receiptUntil));
    expect((await connectAndAdmit(second.url, await sign(license, { sid: 'pos-2' }))).result).toMatchObject({ kind: 'denied' });
    // And the offline client, back in time, resumes its own session.
    const back = await granted(second.url, token);
    expect(back.grant).toMatchObject({ resumed: true, sessionId: grant.sessionId });
  });
});

describeWith([postgresMissing(), redisMissing()])('offline grace on two nodes (PostgreSQL, Redis)', { timeout: 60_000 }, () => {
  let pg: Postgres;
  let redis: Redis;
  beforeAll(async () => {
    [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled([pg?.destroy(), redis?.destroy()]);
  });

  it('nodes started together agree on one key; a key rotated on one is published and signs on the other', async () => {
    const env = { DATABASE_URL: await pg.createDatabase('grace'), REDIS_URL: redis.url, IDLE_TIMEOUT_MIN_SEC: '1', PG_POOL_SIZE: '3' };
    // Started at once: both generate a first key, one is kept.
    const [a, b] = (await Promise.all([startProcess({ ...env, NODE_ID: 'node-a' }), startProcess({ ...env, NODE_ID: 'node-b' })])) as [Proc, Proc];
    const [onA, onB] = await Promise.all([jwks(a.url), jwks(b.url)]);
    expect(onA.keys).toHaveLength(1);
    expect(onB).toEqual(onA);

    const { license } = await a.api.setup({ seats: 5, offlineGraceSec: 60 });
    const fromA = await granted(a.url, await sign(license, { sid: 'on-a' }));
    const fromB = await granted(b.url, await sign(license, { sid: 'on-b' }));
    expect(decodeProtectedHeader(fromB.grant.receipt!).kid).toBe(onA.keys[0]!.kid);

    const { kid } = await a.api.ok<{ kid: string }>('POST', '/receipt-keys');
    // Published by the other node at once (its JWKS looks for new keys before answering)…
    const published = await jwks(b.url);
    expect(published.keys.map((k) => k.kid)).toEqual([onA.keys[0]!.kid, kid]);
    // …and signing there within its refresh (5 s).
    await until(async () => {
      const g = await granted(b.url, await sign(license, { sid: `probe-${Date.now()}` }));
      await closeSocket(g.socket);
      return decodeProtectedHeader(g.grant.receipt!).kid === kid;
    }, 8000, 250);
    // Receipts of the old key, from either node, still verify against either node's keys.
    for (const r of [fromA.grant.receipt!, fromB.grant.receipt!]) await jwtVerify(r, createLocalJWKSet(published as never));
  });
});
