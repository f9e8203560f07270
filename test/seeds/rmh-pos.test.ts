// Seed: RMH POS, the acceptance index. What the seed asks for, and where it is tested:
// - one seat per app installation (device), whoever logs into it: here
// - an unpaid subscription sets seats to nothing (suspension) and good standing restores them:
//   test/server/suspension.test.ts
// - fewer seats than those in use end the newest sessions: test/server/lowered-seats.test.ts
// - "whether the maximum number of activations has been exceeded": here and
//   test/server/activations.test.ts
// - an app that renews its seat over HTTP and, when a renewal is missed, keeps it for a timeout
//   period: here and test/server/leases.test.ts, test/client/seat-lease.test.ts
// - 48 hours offline with a warning, on a signed receipt: here and test/server/offline-grace.test.ts,
//   test/client/offline-grace.test.ts
import { createLocalJWKSet, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { granted, sign, startServer } from '../support/harness';

describe('RMH POS: one seat per device', () => {
  it('every user of one checkout lane shares its seat', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 12, seatKey: ['device'] });
    const cashier = await granted(url, await sign(license, { dev: 'lane-1', sub: 'cashier', app: 'RMH POS' }));
    const manager = await granted(url, await sign(license, { dev: 'lane-1', sub: 'manager', app: 'RMH POS' }));
    expect(manager.grant).toMatchObject({ resumed: true, sessionId: cashier.grant.sessionId, seatsInUse: 1 });
    const lane2 = await granted(url, await sign(license, { dev: 'lane-2', sub: 'cashier' }));
    expect(lane2.grant.seatsInUse).toBe(2);
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(2);
  });

  it('the RMH settings: device seats, a cap on activations, HTTP leases renewed hourly, and a signed receipt for offline work', async () => {
    const { url, api } = await startServer({ config: { idleTimeoutMaxSec: 7200 } });
    const rmh = { seats: 12, seatKey: ['device'], maxActivations: 2, leaseIntervalSec: 3600, idleTimeoutSec: 7200, offlineGraceSec: 172_800 };
    const { license, admin } = await api.setup(rmh);
    expect(license).toMatchObject(rmh);
    const lease = async (dev: string) =>
      fetch(`${url}/api/v1/leases`, { method: 'POST', headers: { authorization: `Bearer ${await sign(license, { dev, sub: 'cashier' })}` } });
    const lane1 = await lease('lane-1');
    expect(lane1.status).toBe(201);
    const grant = await lane1.json();
    // Renew within the hour; the app may run 48 hours without the service on its receipt.
    expect(Date.parse(grant.renewBy) - Date.now()).toBeGreaterThan(3_590_000);
    const jwks = createLocalJWKSet(await (await fetch(`${url}/.well-known/jwks.json`)).json());
    const { payload } = await jwtVerify(grant.receipt, jwks);
    expect(payload).toMatchObject({ lic: license.id, sid: grant.sessionId, dev: 'lane-1' });
    expect(payload.exp! - payload.iat!).toBe(172_800);
    expect((await lease('lane-2')).status).toBe(201);
    // A third installation is beyond the activations, however many seats are free.
    const lane3 = await lease('lane-3');
    expect(lane3.status).toBe(409);
    expect((await lane3.json()).error.code).toBe('too_many_activations');
    expect((await admin.ok('GET', `/licenses/${license.id}/activations`)).activations.map((a: { deviceId: string }) => a.deviceId)).toEqual(['lane-1', 'lane-2']);
  });
});
