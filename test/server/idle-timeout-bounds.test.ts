// A license's idle timeout lies within IDLE_TIMEOUT_MIN_SEC and IDLE_TIMEOUT_MAX_SEC; outside is 422 naming them (the internal spec's 5-60 minutes).
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { startServer, tempDir } from '../support/harness';

describe('idle timeout bounds', () => {
  it('refuses an idle timeout outside the server bounds with 422 naming them', async () => {
    const { api } = await startServer({ config: { idleTimeoutMinSec: 300, idleTimeoutMaxSec: 3600 } });
    const tenant = await api.ok('POST', '/tenants', { name: 'Shift Co' });
    const admin = api.as(tenant.adminToken);
    // Beyond the safe integers too: told the server's bounds, not zod's.
    for (const idleTimeoutSec of [299, 3601, 0, 2 ** 60, -(2 ** 60)]) {
      const r = await admin.call('POST', '/licenses', { seats: 2, idleTimeoutSec });
      expect(r.status).toBe(422);
      expect(r.body.error.code).toBe('out_of_range');
      expect(r.body.error.message).toContain('300');
      expect(r.body.error.message).toContain('3600');
      expect(r.body.error.details).toMatchObject({ field: 'idleTimeoutSec', min: 300, max: 3600 });
    }
    const fraction = await admin.call('POST', '/licenses', { seats: 2, idleTimeoutSec: 300.5 });
    expect([fraction.status, fraction.body.error.code, fraction.body.error.details.field]).toEqual([400, 'bad_request', 'idleTimeoutSec']);
    expect(fraction.body.error.message).toBe('idleTimeoutSec: Invalid input: expected int, received number');
    const lic = await admin.ok('POST', '/licenses', { seats: 2, idleTimeoutSec: 900 });
    expect(lic.idleTimeoutSec).toBe(900);
    expect((await admin.call('PATCH', `/licenses/${lic.id}`, { idleTimeoutSec: 60 })).status).toBe(422);
    expect((await admin.ok('GET', `/licenses/${lic.id}`)).idleTimeoutSec).toBe(900);
    expect((await admin.ok('PATCH', `/licenses/${lic.id}`, { idleTimeoutSec: 3600 })).idleTimeoutSec).toBe(3600);
    // Defaults to 300 s when not given.
    expect((await admin.ok('POST', '/licenses', { seats: 1 })).idleTimeoutSec).toBe(300);
  });

  it('holds the bounds to the values a change sends: a license made under wider ones can still be renamed, resized and suspended', async () => {
    const databaseUrl = path.join(tempDir(), 'seats.db');
    const before = await startServer({ databaseUrl, config: { idleTimeoutMinSec: 1, idleTimeoutMaxSec: 3600, inactivityTimeoutMaxSec: 7200 } });
    const lic = await before.api.ok('POST', '/licenses', { id: 'wide', seats: 3, idleTimeoutSec: 300, inactivityTimeoutSec: 1800 });
    await before.server.close();
    // The operator narrows both bounds; the license keeps its timeouts.
    const { api } = await startServer({ databaseUrl, config: { idleTimeoutMinSec: 10, idleTimeoutMaxSec: 100, inactivityTimeoutMaxSec: 900 } });
    expect(await api.ok('POST', `/licenses/${lic.id}/preview`, { seats: 2 })).toEqual({ wouldEnd: [] });
    for (const patch of [{ name: 'renamed' }, { seats: 2 }, { status: 'suspended' }]) {
      expect(await api.ok('PATCH', `/licenses/${lic.id}`, patch)).toMatchObject({ ...patch, idleTimeoutSec: 300, inactivityTimeoutSec: 1800 });
    }
    // A value sent is held to them, and changes nothing.
    const sent = await api.call('PATCH', `/licenses/${lic.id}`, { name: 'again', idleTimeoutSec: 300 });
    expect([sent.status, sent.body.error.details]).toEqual([422, { field: 'idleTimeoutSec', min: 10, max: 100 }]);
    const inactivity = await api.call('PATCH', `/licenses/${lic.id}`, { inactivityTimeoutSec: 1800 });
    expect([inactivity.status, inactivity.body.error.details.field]).toEqual([422, 'inactivityTimeoutSec']);
    const huge = await api.call('PATCH', `/licenses/${lic.id}`, { inactivityTimeoutSec: 2 ** 60 });
    expect([huge.status, huge.body.error.message]).toEqual([422, 'inactivityTimeoutSec must be between 1 and 900 seconds']);
    expect(await api.ok('GET', `/licenses/${lic.id}`)).toMatchObject({ name: 'renamed', seats: 2, status: 'suspended', idleTimeoutSec: 300 });
    expect((await api.ok('PATCH', `/licenses/${lic.id}`, { idleTimeoutSec: 100 })).idleTimeoutSec).toBe(100);
  });

  it('names seatCap when a lowered seatCap is what falls below the seats', async () => {
    const { api } = await startServer();
    const lic = await api.ok('POST', '/licenses', { seats: 3 });
    const capped = await api.call('PATCH', `/licenses/${lic.id}`, { seatCap: 2 });
    expect([capped.status, capped.body.error.code, capped.body.error.details]).toEqual([422, 'out_of_range', { field: 'seatCap', min: 3 }]);
    const both = await api.call('PATCH', `/licenses/${lic.id}`, { seatCap: 2, seats: 5 });
    expect([both.status, both.body.error.details]).toEqual([422, { field: 'seats', max: 2 }]);
    expect((await api.ok('PATCH', `/licenses/${lic.id}`, { seatCap: 2, seats: 2 })).seatCap).toBe(2);
  });
});
