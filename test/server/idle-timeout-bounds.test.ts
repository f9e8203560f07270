// A license's idle timeout lies within IDLE_TIMEOUT_MIN_SEC and IDLE_TIMEOUT_MAX_SEC; outside is 422 naming them (the internal spec's 5-60 minutes).
import { describe, expect, it } from 'vitest';
import { startServer } from '../support/harness';

describe('idle timeout bounds', () => {
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
});
