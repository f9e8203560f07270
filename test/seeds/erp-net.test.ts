// Seed: ERP.net Small Business. One seat per running client instance; the plan's cap on seats
// (35) refuses more with 422; an external connector serving several people takes several seats.
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

  it('refuses seats above the plan cap with 422 and accepts up to it', async () => {
    const { api } = await startServer();
    const { license, admin } = await api.setup({ seats: 3, seatKey: ['instance'], seatCap: 35 });
    const over = await admin.call('PATCH', `/licenses/${license.id}`, { seats: 36 });
    expect(over.status).toBe(422);
    expect(over.body.error).toMatchObject({ code: 'out_of_range' });
    expect(over.body.error.message).toContain('35');
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seats).toBe(3);
    expect((await admin.ok('PATCH', `/licenses/${license.id}`, { seats: 35 })).seats).toBe(35);
    const create = await admin.call('POST', '/licenses', { seats: 40, seatCap: 35 });
    expect(create.status).toBe(422);
  });

  it('a weight-3 connector takes three seats, and is refused when three do not fit', async () => {
    const { url, api } = await startServer();
    const { license } = await api.setup({ seats: 5, seatKey: ['instance'] });
    const connector = await granted(url, await sign(license, { ins: 'connector', app: 'EDI bridge', weight: 3 }));
    expect(connector.grant.seatsInUse).toBe(3);
    await granted(url, await sign(license, { ins: 'i-1' }));
    const big = await connectAndAdmit(url, await sign(license, { ins: 'connector-2', weight: 3 }));
    expect(big.result).toMatchObject({ kind: 'denied', payload: { reason: 'no_free_seats', seatsInUse: 4 } });
    const small = await granted(url, await sign(license, { ins: 'i-2' }));
    expect(small.grant.seatsInUse).toBe(5);
  });
});
