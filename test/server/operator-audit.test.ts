// GET /audit reads well: a license change records what each field was (`before`) beside what it
// became; the log filters by license and action, pages with `before` and `nextBefore`, and a
// tenant admin never reads another tenant's entries.
import { describe, expect, it } from 'vitest';
import { startServer } from '../support/harness';

describe('the audit log', () => {
  it("records a license change's before and after values", async () => {
    const { api } = await startServer();
    const { license, admin } = await api.setup({ seats: 3, idleTimeoutSec: 60 });
    await admin.ok('PATCH', `/licenses/${license.id}`, { seats: 5, deniedMessage: 'Ask IT', maxActivations: 4 });
    const [entry] = (await admin.ok('GET', `/audit?licenseId=${license.id}&action=license.update`)).audit;
    expect(entry.detail).toEqual({
      seats: 5,
      deniedMessage: 'Ask IT',
      maxActivations: 4,
      before: { seats: 3, deniedMessage: 'There are no free seats available', maxActivations: null },
      endedSessions: 0,
    });
  });

  it('filters by license and action, pages newest first, and keeps each tenant to its own entries', async () => {
    const { api } = await startServer();
    const a = await api.setup({ seats: 1 });
    const b = await api.setup({ seats: 1 });
    for (let seats = 2; seats <= 6; seats += 1) await a.admin.ok('PATCH', `/licenses/${a.license.id}`, { seats });
    await b.admin.ok('PATCH', `/licenses/${b.license.id}`, { seats: 9 });

    const updatesOfA = (await api.ok('GET', `/audit?licenseId=${a.license.id}&action=license.update`)).audit;
    expect(updatesOfA.map((e: any) => e.detail.seats)).toEqual([6, 5, 4, 3, 2]);
    expect((await api.ok('GET', `/audit?licenseId=${a.license.id}`)).audit.map((e: any) => e.action)).toEqual([...Array(5).fill('license.update'), 'license.create']);

    // Pages of two: nextBefore leads on until the log runs out.
    const seen: number[] = [];
    let path = `/audit?licenseId=${a.license.id}&action=license.update&limit=2`;
    for (let page = 0; page < 5; page += 1) {
      const r = await a.admin.ok('GET', path);
      seen.push(...r.audit.map((e: any) => e.detail.seats));
      if (r.nextBefore === null) break;
      expect(r.nextBefore).toBe(r.audit.at(-1).id);
      path = `/audit?licenseId=${a.license.id}&action=license.update&limit=2&before=${r.nextBefore}`;
    }
    expect(seen).toEqual([6, 5, 4, 3, 2]);

    // A tenant admin: its own entries only, and another tenant's license is 403.
    const ofB = (await b.admin.ok('GET', '/audit')).audit;
    expect(ofB.length).toBeGreaterThan(0);
    expect(ofB.every((e: any) => e.tenantId === b.tenant.id)).toBe(true);
    expect((await b.admin.call('GET', `/audit?licenseId=${a.license.id}`)).status).toBe(403);
    // Deleted, it is still another tenant's (its tenant reads its entries); an id never used is an empty page.
    const gone = await a.admin.ok('POST', '/licenses', { id: 'lic-audit-gone', seats: 1 });
    await a.admin.ok('DELETE', `/licenses/${gone.id}`);
    expect((await b.admin.call('GET', `/audit?licenseId=${gone.id}`)).status).toBe(403);
    expect((await a.admin.ok('GET', `/audit?licenseId=${gone.id}`)).audit.map((e: any) => e.action)).toEqual(['license.delete', 'license.create']);
    expect(await b.admin.ok('GET', '/audit?licenseId=lic-never-made')).toEqual({ audit: [], nextBefore: null });
    expect((await b.admin.ok('GET', '/audit?action=license.update')).audit.map((e: any) => e.licenseId)).toEqual([b.license.id]);
  });

  it('refuses malformed filters (400) and an out-of-range limit (422)', async () => {
    const { api } = await startServer();
    expect((await api.call('GET', '/audit?before=abc')).status).toBe(400);
    expect((await api.call('GET', '/audit?limit=0')).status).toBe(422);
    expect((await api.call('GET', '/audit?limit=1001')).status).toBe(422);
    expect((await api.call('GET', '/audit?limit=10')).body).toEqual({ audit: [], nextBefore: null });
  });
});
