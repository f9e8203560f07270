// Invariant 1 on one node: 200 simultaneous connects against a 50-seat license grant exactly 50.
import { describe, expect, it } from 'vitest';
import { connectAndAdmit, sign, startServer } from '../support/harness';

describe('admission storm', () => {
  it('200 simultaneous connects to 50 seats: 50 granted, 150 denied, 150 denials recorded', async () => {
    const { url, api } = await startServer({ databaseUrl: ':memory:' });
    const { license, admin } = await api.setup({ seats: 50 });
    const tokens = await Promise.all(Array.from({ length: 200 }, (_, i) => sign(license, { sid: `portal-${i}` })));
    const results = await Promise.all(tokens.map((t) => connectAndAdmit(url, t)));
    const kinds = results.map((r) => r.result.kind);
    expect(kinds.filter((k) => k === 'granted')).toHaveLength(50);
    expect(kinds.filter((k) => k === 'denied')).toHaveLength(150);
    const sessionIds = new Set(results.flatMap((r) => (r.result.kind === 'granted' ? [r.result.payload.sessionId] : [])));
    expect(sessionIds.size).toBe(50);
    for (const r of results) {
      if (r.result.kind === 'granted') expect(r.result.payload.seatsInUse).toBeLessThanOrEqual(50);
    }
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(50);
    const { denials } = await admin.ok('GET', `/licenses/${license.id}/denials`);
    expect(denials).toHaveLength(150);
    expect(new Set(denials.map((d: any) => d.reason))).toEqual(new Set(['no_free_seats']));
  });
});
