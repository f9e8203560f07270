// The admins' reads (server/seats/reads.ts), each scoped to the actor: a tenant's admin gets 403
// for every read of another tenant's license and sees nothing of it in the lists; the operator
// sees every tenant. A read added to Reads must be added to the table here.
import { describe, expect, it, onTestFinished } from 'vitest';
import { parseConfig } from '../../server/config';
import { wireSeats } from '../../server/seat-server';
import { type Actor, OPERATOR } from '../../server/seats/actor';
import { Reads } from '../../server/seats/reads';
import { SqliteSeatStore } from '../../server/store/sqlite-store';
import { sign } from '../support/harness';

async function twoTenants() {
  const store = SqliteSeatStore.open(':memory:');
  await store.migrate();
  const parts = wireSeats(store, parseConfig({}, { adminToken: 'operator-token-for-tests', logLevel: 'silent' }));
  await parts.start();
  onTestFinished(async () => {
    await parts.stop();
    await store.close();
  });
  const { admin, auth, engine, reads } = parts;
  const tenants = await Promise.all(['A', 'B'].map((name) => admin.createTenant(OPERATOR, name)));
  const actors = tenants.map((t): Actor => ({ kind: 'tenant', tenantId: t.id, tenantName: t.name }));
  const licenses = await Promise.all(tenants.map((t) => admin.createLicense(OPERATOR, { tenantId: t.id, seats: 1 })));
  // A session and a denial on each license, and an audit entry of each tenant's own.
  for (const [i, l] of licenses.entries()) {
    for (const sid of ['held', 'refused']) await engine.admit(await auth.authenticate(await sign(l, { sid, dev: `${sid}-device` })), `${l.id}-${sid}`);
    await admin.updateLicense(actors[i]!, l.id, { name: `renamed ${i}` });
  }
  return { reads, actors, licenses };
}

type PerLicenseRead = (reads: Reads, actor: Actor, licenseId: string) => Promise<unknown>;
const perLicense: Record<string, PerLicenseRead> = {
  license: (r, a, id) => r.license(a, id),
  findLicense: (r, a, id) => r.findLicense(a, id),
  sessions: (r, a, id) => r.sessions(a, id),
  denials: (r, a, id) => r.denials(a, id),
  history: (r, a, id) => r.history(a, id, { bucket: 'hour' }),
  activations: (r, a, id) => r.activations(a, id),
  seatRequests: (r, a, id) => r.seatRequests(a, id),
  queue: (r, a, id) => r.queue(a, id),
  sessionPage: (r, a, id) => r.sessionPage(a, id, { limit: 10 }),
};
const lists = ['licenses', 'audit', 'snapshot', 'tenants'];

describe('reads scoped to the actor', () => {
  it('every read of Reads is in this test', () => {
    const methods = Object.getOwnPropertyNames(Reads.prototype).filter((m) => m !== 'constructor');
    expect(methods.sort()).toEqual([...Object.keys(perLicense), ...lists].sort());
  });

  it.each(Object.keys(perLicense))("%s: 403 for another tenant's license, its own for the tenant and the operator", async (name) => {
    const { reads, actors, licenses } = await twoTenants();
    const read = perLicense[name]!;
    const [a, b] = licenses;
    await expect(read(reads, actors[1]!, a!.id)).rejects.toMatchObject({ code: 'forbidden' });
    await expect(read(reads, actors[0]!, b!.id)).rejects.toMatchObject({ code: 'forbidden' });
    await expect(read(reads, actors[0]!, a!.id)).resolves.toBeDefined();
    await expect(read(reads, OPERATOR, b!.id)).resolves.toBeDefined();
  });

  it('the lists hold the tenant\'s own only; the operator\'s hold every tenant', async () => {
    const { reads, actors, licenses } = await twoTenants();
    const [a, b] = licenses;
    expect((await reads.licenses(actors[1]!)).map((l) => l.id)).toEqual([b!.id]);
    expect((await reads.licenses(OPERATOR)).map((l) => l.id).sort()).toEqual([a!.id, b!.id].sort());
    expect((await reads.tenants(actors[1]!)).map((t) => t.id)).toEqual([b!.tenantId]);
    expect((await reads.tenants(OPERATOR)).map((t) => t.id).sort()).toEqual([a!.tenantId, b!.tenantId].sort());
    const audit = await reads.audit(actors[1]!, { limit: 100 });
    expect(audit.map((e) => e.action)).toContain('license.update');
    expect(audit.every((e) => e.tenantId === b!.tenantId)).toBe(true);
    const snapshot = await reads.snapshot(actors[1]!, { denialsPerLicense: 100, audit: 100 });
    expect(snapshot.licenses.map((l) => l.id)).toEqual([b!.id]);
    expect(snapshot.sessions.map((s) => s.licenseId)).toEqual([b!.id]);
    expect(snapshot.denials.map((d) => d.licenseId)).toEqual([b!.id]);
    expect(snapshot.audit.every((e) => e.tenantId === b!.tenantId)).toBe(true);
    expect(snapshot.activations).toEqual(new Map([[b!.id, 1]]));
    const all = await reads.snapshot(OPERATOR, { denialsPerLicense: 100, audit: 100 });
    expect(all.sessions.map((s) => s.licenseId).sort()).toEqual([a!.id, b!.id].sort());
    expect(all.denials).toHaveLength(2);
    expect(all.activations).toEqual(new Map([[a!.id, 1], [b!.id, 1]]));
  });

  it('a license that does not exist is 404 (findLicense: undefined)', async () => {
    const { reads, actors } = await twoTenants();
    await expect(reads.license(actors[0]!, 'nope')).rejects.toMatchObject({ code: 'not_found' });
    await expect(reads.sessions(actors[0]!, 'nope')).rejects.toMatchObject({ code: 'not_found' });
    expect(await reads.findLicense(actors[0]!, 'nope')).toBeUndefined();
  });
});
