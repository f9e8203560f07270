// Seed: RMH POS, the acceptance index. What the seed asks for, and where it is tested:
// - one seat per app installation (device), whoever logs into it: here
// - an unpaid subscription sets seats to nothing (suspension) and good standing restores them:
//   test/server/suspension.test.ts
// - fewer seats than those in use end the newest sessions: test/server/lowered-seats.test.ts
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
});
