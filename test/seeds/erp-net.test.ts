// Seed: ERP.net Small Business, the acceptance index. What the seed asks for, and where it is tested:
// - one seat per running client instance: here
// - the plan's cap on seats (35) refuses more with 422: test/server/seat-cap.test.ts
// - an external connector serving several people takes several seats: test/server/weight.test.ts
import { describe, expect, it } from 'vitest';
import { connectAndAdmit, granted, sign, startServer } from '../support/harness';

describe('ERP.net: one seat per client instance', () => {
  it('counts each instance, even of one user on one device', async () => {
    const { url, api } = await startServer();
    const { license } = await api.setup({ seats: 3, seatKey: ['instance'], seatCap: 35 });
    const desktop = await granted(url, await sign(license, { ins: 'i-1', sub: 'u1', dev: 'pc', app: 'desktop' }));
    const web = await granted(url, await sign(license, { ins: 'i-2', sub: 'u1', dev: 'pc', app: 'web' }));
    const mobile = await granted(url, await sign(license, { ins: 'i-3', sub: 'u1', dev: 'phone', app: 'mobile' }));
    expect([desktop, web, mobile].map((g) => g.grant.seatsInUse)).toEqual([1, 2, 3]);
    const fourth = await connectAndAdmit(url, await sign(license, { ins: 'i-4', sub: 'u2' }));
    expect(fourth.result).toMatchObject({ kind: 'denied', payload: { reason: 'no_free_seats', seatsInUse: 3, seats: 3 } });
  });
});
