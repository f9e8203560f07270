// Seed: the internal requirement specification. Idle timeout settable within 5–60 minutes;
// an admin can log a user out; every "no licence available" is recorded with its time and kept
// on a rolling sixty days; the message "No available licenses, please contact IT".
import { describe, expect, it } from 'vitest';
import { SqliteSeatStore } from '../../server/store/sqlite-store';
import { connectAndAdmit, granted, nextEvent, sign, startServer } from '../support/harness';

describe('Internal specification: bounds, logout, denial log, message', () => {
  it('refuses an idle timeout outside the server bounds with 422 naming them', async () => {
    const { api } = await startServer({ config: { idleTimeoutMinSec: 300, idleTimeoutMaxSec: 3600 } });
    const tenant = await api.ok('POST', '/tenants', { name: 'Shift Co' });
    const admin = api.as(tenant.adminToken);
    for (const idleTimeoutSec of [299, 3601, 0]) {
      const r = await admin.call('POST', '/licenses', { seats: 2, idleTimeoutSec });
      expect(r.status).toBe(422);
      expect(r.body.error.code).toBe('out_of_range');
      expect(r.body.error.message).toContain('300');
      expect(r.body.error.message).toContain('3600');
      expect(r.body.error.details).toMatchObject({ field: 'idleTimeoutSec', min: 300, max: 3600 });
    }
    const lic = await admin.ok('POST', '/licenses', { seats: 2, idleTimeoutSec: 900 });
    expect(lic.idleTimeoutSec).toBe(900);
    expect((await admin.call('PATCH', `/licenses/${lic.id}`, { idleTimeoutSec: 60 })).status).toBe(422);
    expect((await admin.ok('GET', `/licenses/${lic.id}`)).idleTimeoutSec).toBe(900);
    expect((await admin.ok('PATCH', `/licenses/${lic.id}`, { idleTimeoutSec: 3600 })).idleTimeoutSec).toBe(3600);
    // Defaults to 300 s when not given.
    expect((await admin.ok('POST', '/licenses', { seats: 1 })).idleTimeoutSec).toBe(300);
  });

  it('an admin logs a user out so a waiting user gets in, and the custom message reaches the client', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1, deniedMessage: 'No available licenses, please contact IT' });
    const holder = await granted(url, await sign(license, { sid: 's-day', sub: 'dana' }));
    const waiting = await connectAndAdmit(url, await sign(license, { sid: 's-night', sub: 'nico' }));
    expect(waiting.result).toMatchObject({
      kind: 'denied',
      payload: { reason: 'no_free_seats', message: 'No available licenses, please contact IT' },
    });
    const ended = nextEvent(holder.socket, 'session:ended');
    await admin.ok('DELETE', `/sessions/${holder.grant.sessionId}`);
    expect(await ended).toMatchObject({ reason: 'kicked' });
    await granted(url, await sign(license, { sid: 's-night', sub: 'nico' }));
    const audit = await admin.ok('GET', '/audit');
    expect(audit.audit.map((a: any) => a.action)).toContain('session.kick');
  });

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
