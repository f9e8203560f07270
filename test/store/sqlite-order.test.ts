// SQLite runs its transactions one after another, in arrival order, except an idle release due
// now: it goes ahead of those waiting, so a seat falls free on time even behind thousands of
// transactions of a mass disconnect (invariant 4: within a second of its deadline).
import path from 'node:path';
import { expect, it } from 'vitest';
import { SqliteSeatStore } from '../../server/store/sqlite-store';
import { tempDir } from '../support/harness';
import { claimant, grant, newLicense } from './store-dialects';

it('an idle release due now runs ahead of the transactions waiting, and each still runs once', async () => {
  const store = SqliteSeatStore.open(path.join(tempDir('seats-order-'), 'seats.db'));
  try {
    await store.migrate();
    const license = await newLicense(store, { seats: 5000, idleTimeoutSec: 1 });
    await grant(store, license, claimant('gone'), 1000, 'gone-s');
    await store.detach('gone-s', 1000);
    const order: string[] = [];
    // 3,000 admissions wait to run; the release of the seat due at 2000 comes after them all.
    const admissions = Array.from({ length: 3000 }, (_, i) =>
      store.admit({ licenseId: license.id, socketId: `s${i}`, nodeId: 'n', claimant: claimant(`k${i}`), now: 3000 }).then((o) => {
        order.push(o.kind);
      }),
    );
    const release = store.expireLicense(license.id, 3000).then((ended) => {
      order.push(`released ${ended.map((e) => e.session.sessionRef).join()}`);
    });
    await Promise.all([...admissions, release]);
    expect(order.indexOf('released gone')).toBeLessThan(64);
    expect(order.filter((o) => o === 'granted')).toHaveLength(3000);
    expect((await store.getLicense(license.id))?.seatsInUse).toBe(3000);
  } finally {
    await store.close();
  }
});
