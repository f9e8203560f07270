// SQLite's WAL is checkpointed by a worker thread, not by the connection that commits: the
// database file grows as the worker copies pages into it, while the serving connection never does.
import { POLICY_DEFAULTS } from '../../server/seats/types';
import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { SqliteSeatStore } from '../../server/store/sqlite-store';
import { tempDir, until } from '../support/harness';

let store: SqliteSeatStore | undefined;
afterEach(async () => {
  await store?.close();
});

it('copies committed pages into the database file from a worker, while admissions go on', async () => {
  const file = path.join(tempDir('seats-ckpt-'), 'seats.db');
  store = SqliteSeatStore.open(file);
  await store.migrate();
  const now = Date.now();
  const tenant = await store.createTenant({ id: randomUUID(), name: 't', createdAt: now }, randomUUID());
  const license = await store.createLicense({
    id: `lic_${randomUUID()}`, tenantId: tenant.id, name: 'L', seats: 10_000, seatCap: null, seatKey: ['session'],
    idleTimeoutSec: 60, status: 'active', deniedMessage: 'full', ...POLICY_DEFAULTS, secret: 's', createdAt: now, updatedAt: now,
  });
  const before = statSync(file).size;
  for (let batch = 0; batch < 20; batch++) {
    await Promise.all(
      Array.from({ length: 100 }, (_, i) => {
        const key = `k${batch}-${i}`;
        return store!.admit({
          licenseId: license.id, socketId: key, nodeId: 'n', now,
          claimant: { sessionRef: key, userId: null, deviceId: null, instanceId: null, app: null, name: null, weight: 1 },
        });
      }),
    );
  }
  // 2,000 sessions, their connections and events: a megabyte or so, all in the WAL until copied.
  await until(() => statSync(file).size > before + 512 * 1024, 5000);
  expect((await store.getLicense(license.id))?.seatsInUse).toBe(2000);
});
