// License changes on every store: suspension ends every session, fewer seats end the newest,
// and admissions racing a change never leave more held than the new count.
import { expect, it } from 'vitest';
import { admit, claimant, forEachStore, grant, held, newLicense } from './store-dialects';

forEachStore('license changes', (nodes) => {
  it('updateLicense: suspension ends every session and refuses new ones; fewer seats end the newest', async () => {
    const stores = await nodes(2);
    const store = stores[0]!;
    const license = await newLicense(store, { seats: 5 });
    const s1 = await grant(store, license, claimant('s1'), 1);
    const s2 = await grant(store, license, claimant('s2', 2), 2);
    const s3 = await grant(stores[1]!, license, claimant('s3'), 3);
    const s4 = await grant(store, license, claimant('s4'), 4);

    const reduced = (await store.updateLicense(license.id, { seats: 3 }, 10))!;
    expect(reduced.license.seats).toBe(3);
    expect(reduced.ended.map((e) => [e.session.id, e.reason])).toEqual([
      [s4.session.id, 'seats_reduced'],
      [s3.session.id, 'seats_reduced'],
    ]);
    expect(await held(store, license.id)).toBe(3);
    // The count comes back with the license: from the change itself, and with every read of the row.
    expect(reduced.license.seatsInUse).toBe(3);
    expect(reduced.ended.map((e) => [e.seatsInUse, e.license.seatsInUse])).toEqual([[4, 4], [3, 3]]);
    expect((await stores[1]!.listLicenses(license.tenantId)).map((l) => [l.id, l.seatsInUse])).toEqual([[license.id, 3]]);
    expect((await admit(store, license, claimant('new'), 11)).kind).toBe('denied');

    const suspended = (await stores[1]!.updateLicense(license.id, { status: 'suspended' }, 20))!;
    expect(suspended.ended.map((e) => e.reason)).toEqual(['license_suspended', 'license_suspended']);
    expect(suspended.license.seatsInUse).toBe(0);
    expect(suspended.ended.map((e) => e.session.id).sort()).toEqual([s1.session.id, s2.session.id].sort());
    expect(await held(store, license.id)).toBe(0);
    expect(await admit(store, license, claimant('s1'), 21)).toMatchObject({ kind: 'denied', denial: { reason: 'license_suspended' } });

    const back = (await store.updateLicense(license.id, { status: 'active', seats: 1 }, 30))!;
    expect(back.ended).toEqual([]);
    expect((await admit(store, license, claimant('s1'), 31)).kind).toBe('granted');
    expect(await store.updateLicense('missing', { seats: 1 }, 40)).toBeUndefined();
  });

  it('lowering seats while admissions race never leaves more held than the new count', async () => {
    const stores = await nodes(4);
    for (let round = 0; round < 6; round++) {
      const license = await newLicense(stores[0]!, { seats: 8 });
      const work: Array<Promise<unknown>> = [];
      for (let i = 0; i < 24; i++) work.push(admit(stores[i % 4]!, license, claimant(`k${i}`), 100 + i, `u${round}-${i}`));
      work.splice(8, 0, stores[1]!.updateLicense(license.id, { seats: 3 }, 105));
      await Promise.all(work);
      expect(await held(stores[0]!, license.id)).toBeLessThanOrEqual(3);
    }
  });
});
