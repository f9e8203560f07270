// Weight: a claimant with `weight` n takes n seats, and is refused when n do not fit (ERP.net's connector).
import { describe, expect, it } from 'vitest';
import { connectAndAdmit, granted, sign, startServer } from '../support/harness';

describe('weight', () => {
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
