// An HTTP lease through a kill -9: the lease belongs to no node, so the node that granted it dying
// does not let it go with that node's sockets (their seats idle at once on the next start); the
// lease is held until its own deadline, then lapses and idles, and its holder renews it meanwhile
// on whichever node answers.
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { expect, it } from 'vitest';
import type { SessionView } from '../../shared';
import { granted, sign, sleep, startProcess, tempDir, until } from '../support/harness';
import { acquire, renew } from './leases-support';

const LEASE_SEC = 8;

it('a lease survives the kill -9 of the node that granted it, and lapses only by its deadline', { timeout: 60_000 }, async () => {
  const file = path.join(tempDir(), 'seats.db');
  const env = { DATABASE_URL: file, SWEEP_INTERVAL_MS: '200', HEARTBEAT_INTERVAL_MS: '200', NODE_TIMEOUT_MS: '1500', IDLE_TIMEOUT_MIN_SEC: '1' };
  const first = await startProcess({ ...env, NODE_ID: 'node-x' });
  const { license, admin } = await first.api.setup({ seats: 2, seatKey: ['device'], idleTimeoutSec: 3 });
  // Below the API's 10 s bound, written as the administration would (timeouts are configuration).
  const db = new BetterSqlite3(file);
  db.prepare('update licenses set lease_interval_sec = ? where id = ?').run(LEASE_SEC, license.id);
  db.close();

  const leaseToken = await sign(license, { dev: 'till-lease' });
  const lease = (await acquire(first.url, leaseToken)).body;
  const renewBy = Date.parse(lease.renewBy);
  const tab = await granted(first.url, await sign(license, { dev: 'till-socket' }));
  await first.kill9();

  // Another node on the same database: on start it lets go of every other node's sockets.
  const second = await startProcess({ ...env, NODE_ID: 'node-y' });
  const sessions = async () => (await second.api.as(admin.token).ok('GET', `/licenses/${license.id}/sessions`)).sessions as SessionView[];
  await until(async () => (await sessions()).find((s) => s.id === tab.grant.sessionId)?.state === 'idle', 5000);
  // A few heartbeats and sweeps later, the lease still holds its seat.
  await sleep(1000);
  expect(Date.now()).toBeLessThan(renewBy);
  expect((await sessions()).find((s) => s.id === lease.sessionId)).toMatchObject({ state: 'active', leases: 1, sockets: 0 });

  // Its own deadline lets it go: the seat idles for the idle timeout.
  await until(async () => (await sessions()).find((s) => s.id === lease.sessionId)?.state === 'idle', LEASE_SEC * 1000);
  expect(Date.now()).toBeGreaterThanOrEqual(renewBy);
  expect((await sessions()).find((s) => s.id === lease.sessionId)).toMatchObject({ leases: 0 });
  // Held still: renewed on the surviving node, the same session.
  expect((await renew(second.url, leaseToken, lease.leaseId)).body).toMatchObject({ resumed: true, sessionId: lease.sessionId });
});
