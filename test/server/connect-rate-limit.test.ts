// Invariant 7, floods: connects from one address beyond CONNECT_BURST are refused with rate_limited.
import { describe, expect, it } from 'vitest';
import { connectAndAdmit, sign, startServer } from '../support/harness';

describe('connect rate limit', () => {
  it('a flood of connects from one address is rate-limited with a code', async () => {
    const { url, api } = await startServer({ config: { connectRatePerSec: 5, connectBurst: 10 } });
    const { license, admin } = await api.setup({ seats: 100 });
    const tokens = await Promise.all(Array.from({ length: 30 }, (_, i) => sign(license, { sid: `s${i}` })));
    const results = await Promise.all(tokens.map((t) => connectAndAdmit(url, t)));
    const limited = results.filter((r) => r.result.kind === 'connect_error' && (r.result as any).data.reason === 'rate_limited');
    const grantedCount = results.filter((r) => r.result.kind === 'granted').length;
    expect(grantedCount).toBe(10);
    expect(limited).toHaveLength(20);
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(10);
  });
});
