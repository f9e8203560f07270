// Invariant 5: every denial is stored with its time and reason, and kept for DENIAL_RETENTION_DAYS
// (the internal spec's rolling sixty days).
import { describe, expect, it } from 'vitest';
import { SqliteSeatStore } from '../../server/store/sqlite-store';
import { connectAndAdmit, granted, sign, startServer } from '../support/harness';

describe('denial log', () => {
  it('stores each denial with its time and keeps it on a rolling window', async () => {
    const store = SqliteSeatStore.open(':memory:');
    const { url, api } = await startServer({ store, config: { denialRetentionDays: 60 } });
    const { license, admin } = await api.setup({ seats: 1 });
    await granted(url, await sign(license, { sid: 'a', sub: 'amy', dev: 'pc-1' }));
    const t0 = Date.now();
    for (const sid of ['b', 'c']) await connectAndAdmit(url, await sign(license, { sid, sub: `u-${sid}`, dev: 'pc-2' }));
    const { denials } = await admin.ok('GET', `/licenses/${license.id}/denials`);
    expect(denials).toHaveLength(2);
    expect(denials[0]).toMatchObject({ reason: 'no_free_seats', sessionRef: 'c', userId: 'u-c', deviceId: 'pc-2' });
    for (const d of denials) expect(Math.abs(Date.parse(d.at) - t0)).toBeLessThan(5000);
    const since = await admin.ok('GET', `/licenses/${license.id}/denials?since=${encodeURIComponent(new Date(t0 + 60_000).toISOString())}`);
    expect(since.denials).toHaveLength(0);
    const bad = await admin.call('GET', `/licenses/${license.id}/denials?since=yesterday`);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'bad_request', message: expect.stringMatching(/^since: expected an ISO 8601 date or date-time/) });
    expect((await admin.call('GET', `/licenses/${license.id}/denials?until=2026-02-30`)).status).toBe(400);
    // Other ISO 8601 forms: a date alone (its midnight, UTC), the basic format, no seconds, no zone (UTC).
    // Two minutes on, so that the time cut to its minute is still after the denials.
    const iso = new Date(t0 + 120_000).toISOString();
    const basic = iso.replace(/[-:]/g, '').replace(/\.\d+/, '');
    const today = new Date(t0).toISOString().slice(0, 10);
    const read = async (q: string) => (await admin.ok('GET', `/licenses/${license.id}/denials?${q}`)).denials.length;
    expect(await read(`since=${today}`)).toBe(2);
    expect(await read(`since=${basic}`)).toBe(0);
    expect(await read(`since=${iso.slice(0, 16)}`)).toBe(0);
    expect(await read(`since=${encodeURIComponent(iso.slice(0, 16) + '+01:00')}`)).toBe(2);
    // An offset's `+` left unencoded (it reaches the server as a space) is still the offset.
    expect(await read(`since=${iso.slice(0, 16)}+01:00`)).toBe(2);
    expect(await read(`since=${iso.slice(0, 16)}-01:00`)).toBe(0);
    expect(await read(`until=${basic}`)).toBe(2);

    // The rolling window: a denial 61 days old is pruned, one 59 days old is kept.
    const day = 86_400_000;
    const base = { licenseId: license.id, reason: 'no_free_seats' as const, sessionRef: 'old', userId: null, deviceId: null, instanceId: null };
    await store.recordDenial({ ...base, at: Date.now() - 61 * day });
    await store.recordDenial({ ...base, at: Date.now() - 59 * day, sessionRef: 'kept' });
    expect((await admin.ok('GET', `/licenses/${license.id}/denials`)).denials).toHaveLength(4);
    await store.pruneHistory(Date.now() - 60 * day);
    const after = (await admin.ok('GET', `/licenses/${license.id}/denials`)).denials;
    expect(after.map((d: any) => d.sessionRef)).toEqual(['c', 'b', 'kept']);
  });
});
