// The operator's store operations on SQLite and PostgreSQL (test/store/store-dialects.ts): a
// deletion ends the license's sessions and removes the rows naming it (its seat history stays until
// pruned) in one transaction under its lock, racing admissions never leave a seat behind, and
// rotations keep the old secret with its deadline. (REST tests: operator-delete, operator-secret, operator-tenants.)
import { describe, expect, it } from 'vitest';
import { admit, claimant, forEachStore, grant, newLicense } from '../store/store-dialects';

describe('operator store operations', () => {
  forEachStore('deleting a license', (nodes) => {
    it('ends its live sessions with license_deleted, removes its rows, and keeps its seat history (and id) until pruned', async () => {
      const [store] = await nodes(1);
      const license = await newLicense(store!, { seats: 2, maxActivations: 5 });
      const other = await newLicense(store!, { seats: 1 });
      await grant(store!, license, claimant('a', 1, { deviceId: 'd1' }), 1000);
      await grant(store!, license, claimant('b', 1, { deviceId: 'd2' }), 1001);
      await admit(store!, license, claimant('c', 1, { deviceId: 'd3' }), 1002); // a denial
      await grant(store!, other, claimant('x'), 1003);

      const result = await store!.deleteLicense(license.id, 2000);
      expect(result?.ended.map((e) => [e.session.sessionRef, e.reason])).toEqual([
        ['a', 'license_deleted'],
        ['b', 'license_deleted'],
      ]);
      expect(result?.ended.at(-1)?.seatsInUse).toBe(0);
      expect(await store!.getLicense(license.id)).toBeUndefined();
      expect(await store!.listSessions(license.id)).toEqual([]);
      expect(await store!.listDenials(license.id)).toEqual([]);
      expect(await store!.listActivations(license.id)).toEqual([]);
      expect(await store!.deleteLicense(license.id, 2001)).toBeUndefined();
      expect((await admit(store!, license, claimant('late'), 2002)).kind).toBe('license_not_found');
      // The seat history stays (the webhooks' outbox): a node whose sockets missed the news learns why.
      const endedIds = result!.ended.map((e) => e.session.id);
      expect(await store!.endedAmong(endedIds)).toEqual(endedIds.map((sessionId) => ({ sessionId, reason: 'license_deleted' })));
      // Its id is not free for a new license until the retention prunes that history.
      await expect(newLicense(store!, { id: license.id })).rejects.toMatchObject({ name: 'StoreConflictError', reason: 'deleted' });
      await store!.pruneHistory(3000);
      expect((await newLicense(store!, { id: license.id })).seatsInUse).toBe(0);
      expect(await store!.listActivations(license.id)).toEqual([]);
      // Another license is untouched; a new admission for the deleted one finds no license.
      expect((await store!.getLicense(other.id))?.seatsInUse).toBe(1);
    });

    it('never leaves a seat behind when admissions race the deletion from other nodes', async () => {
      const stores = await nodes(3);
      const license = await newLicense(stores[0]!, { seats: 50 });
      const racing = Array.from({ length: 30 }, (_, i) => admit(stores[i % 3]!, license, claimant(`s${i}`), 1000 + i));
      const deletion = stores[1]!.deleteLicense(license.id, 1010);
      const outcomes = await Promise.all(racing);
      const deleted = await deletion;
      expect(deleted).toBeDefined();
      // Whatever was granted before the deletion was ended by it; nothing was granted after.
      const grantedIds = outcomes.flatMap((o) => (o.kind === 'granted' ? [o.session.id] : []));
      expect(deleted!.ended.map((e) => e.session.id).sort()).toEqual(grantedIds.sort());
      expect(outcomes.every((o) => o.kind === 'granted' || o.kind === 'license_not_found')).toBe(true);
      expect(await stores[2]!.listSessions(license.id)).toEqual([]);
    });
  });

  forEachStore('rotating a secret and a tenant token', (nodes) => {
    it("keeps the replaced secret until its deadline, and forgets an older one", async () => {
      const [store] = await nodes(1);
      const license = await newLicense(store!, { secret: 'first' });
      const once = await store!.rotateSecret(license.id, 'second', 5000, 1000);
      expect(once).toMatchObject({ secret: 'second', previousSecret: 'first', previousSecretUntil: 5000, updatedAt: 1000 });
      expect(await store!.getLicense(license.id)).toMatchObject({ secret: 'second', previousSecret: 'first', previousSecretUntil: 5000 });
      await store!.rotateSecret(license.id, 'third', 9000, 2000);
      expect(await store!.getLicense(license.id)).toMatchObject({ secret: 'third', previousSecret: 'second', previousSecretUntil: 9000 });
      // A license change keeps the rotation as it is.
      await store!.updateLicense(license.id, { seats: 7 }, 3000);
      expect(await store!.getLicense(license.id)).toMatchObject({ seats: 7, secret: 'third', previousSecret: 'second', previousSecretUntil: 9000 });
      expect(await store!.rotateSecret('no-such-license', 'x', 1, 1)).toBeUndefined();
    });

    it('replaces a tenant token hash and lists tenants with their license counts', async () => {
      const [store] = await nodes(1);
      const license = await newLicense(store!);
      await newLicense(store!, { tenantId: license.tenantId, id: 'lic_second' });
      expect(await store!.rotateTenantToken(license.tenantId, 'new-hash')).toBe(true);
      expect((await store!.findTenantByTokenHash('new-hash'))?.id).toBe(license.tenantId);
      expect(await store!.rotateTenantToken('no-such-tenant', 'other-hash')).toBe(false);
      expect(await store!.listTenants(license.tenantId)).toEqual([{ id: license.tenantId, name: 't', createdAt: 1, licenses: 2 }]);
    });
  });
});
