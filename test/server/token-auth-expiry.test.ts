// The licenses tokens are verified against are used a second; once it is over they are dropped
// (with the verifiers made for their secrets), not kept until a connect on the license reads it
// again: with thousands of licenses in use, each would hold about 2 KiB for nothing.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StoreTrouble, TokenAuth } from '../../server/seats/token-auth';
import { POLICY_DEFAULTS } from '../../server/seats/types';
import { SqliteSeatStore } from '../../server/store/sqlite-store';
import { sign } from '../support/harness';

const stores: SqliteSeatStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

async function withLicenses(n: number) {
  const store = SqliteSeatStore.open(':memory:');
  stores.push(store);
  await store.migrate();
  const now = Date.now();
  const tenant = await store.createTenant({ id: randomUUID(), name: 't', createdAt: now }, randomUUID());
  const licenses = [];
  for (let i = 0; i < n; i++) {
    const secret = randomUUID().repeat(2);
    const row = { id: `lic_${randomUUID()}`, tenantId: tenant.id, name: `l${i}`, seats: 5, seatCap: null, seatKey: ['session'], idleTimeoutSec: 60, status: 'active', ...POLICY_DEFAULTS, deniedMessage: 'no', secret, createdAt: now, updatedAt: now };
    await store.createLicense(row as Parameters<SqliteSeatStore['createLicense']>[0]);
    licenses.push({ id: row.id, secret });
  }
  return { store, licenses };
}

function tokenAuth(store: SqliteSeatStore, now: () => number) {
  return new TokenAuth({ store, options: { tokenClockSkewSec: 60 }, trouble: new StoreTrouble(now), now });
}

describe('the licenses kept for verifying tokens', () => {
  it('are dropped once their second is over, and read again by the next connect', async () => {
    const { store, licenses } = await withLicenses(1);
    const t0 = Date.now();
    let clock = t0;
    const auth = tokenAuth(store, () => clock);
    const token = await sign(licenses[0]!, { sid: 'a' });
    await auth.authenticate(token);
    expect(auth.kept).toBe(1);
    clock = t0 + 999;
    auth.sweep();
    expect(auth.kept).toBe(1);
    clock = t0 + 1000;
    auth.sweep();
    expect(auth.kept).toBe(0);
    const reads = vi.spyOn(store, 'getLicense');
    const again = await auth.authenticate(token);
    expect(again.license.id).toBe(licenses[0]!.id);
    expect(reads).toHaveBeenCalledTimes(1);
    expect(auth.kept).toBe(1);
  });

  it('are dropped in the order they expire, a license read again counting from its new read', async () => {
    const { store, licenses } = await withLicenses(2);
    const [a, b] = licenses as [(typeof licenses)[0], (typeof licenses)[0]];
    const t0 = Date.now();
    let clock = t0;
    const auth = tokenAuth(store, () => clock);
    await auth.authenticate(await sign(a, { sid: 'a' }));
    clock = t0 + 500;
    await auth.authenticate(await sign(b, { sid: 'b' }));
    // a's second is over: this connect reads it again, good until t0 + 2100.
    clock = t0 + 1100;
    await auth.authenticate(await sign(a, { sid: 'a2' }));
    expect(auth.kept).toBe(2);
    clock = t0 + 1600;
    auth.sweep();
    expect(auth.kept).toBe(1);
    clock = t0 + 2100;
    auth.sweep();
    expect(auth.kept).toBe(0);
  });

  it('are dropped without anything asking, on a timer that keeps no process alive', async () => {
    const { store, licenses } = await withLicenses(3);
    const auth = tokenAuth(store, Date.now);
    for (const [i, l] of licenses.entries()) await auth.authenticate(await sign(l, { sid: `s${i}` }));
    expect(auth.kept).toBe(3);
    await vi.waitFor(() => expect(auth.kept).toBe(0), { timeout: 5000, interval: 100 });
  });
});
