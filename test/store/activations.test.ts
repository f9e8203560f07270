// Activations on every store (docs/contract.md section 8, `maxActivations`): a device is activated
// on its first grant, in the admission's transaction; a new device beyond the limit is denied
// `too_many_activations` and the denial logged; deactivating ends the device's live sessions.
import { expect, it } from 'vitest';
import { admit, claimant, forEachStore, grant, newLicense } from './store-dialects';

const device = (dev: string, extra = {}) => claimant(`sid-${dev}`, 1, { deviceId: dev, ...extra });

forEachStore('activations', (nodes) => {
  it('two machines, one at a time: a third is refused, the second waits for the seat, not the activation', async () => {
    const [store] = await nodes(1);
    const license = await newLicense(store!, { seats: 1, seatKey: ['device'], maxActivations: 2 });
    const first = await grant(store!, license, device('pc-1'), 100);
    // The second machine while the first holds the seat: no seat, and no activation taken.
    expect(await admit(store!, license, device('pc-2'), 110)).toMatchObject({ kind: 'denied', denial: { reason: 'no_free_seats', deviceId: 'pc-2' } });
    expect((await store!.listActivations(license.id)).map((a) => a.deviceId)).toEqual(['pc-1']);
    await store!.endSession(first.session.id, 'ended_by_app', 120);
    // The activation stays after the seat is released.
    expect(await store!.listActivations(license.id)).toEqual([{ licenseId: license.id, deviceId: 'pc-1', activatedAt: 100, lastSeenAt: 100 }]);
    const second = await grant(store!, license, device('pc-2'), 130);
    await store!.endSession(second.session.id, 'ended_by_app', 140);
    // A third machine: refused, however many seats are free, and the denial is on record.
    const third = await admit(store!, license, device('pc-3'), 150);
    expect(third).toMatchObject({ kind: 'denied', denial: { reason: 'too_many_activations', deviceId: 'pc-3' }, seatsInUse: 0 });
    expect((await store!.listDenials(license.id)).map((d) => d.reason)).toEqual(['too_many_activations', 'no_free_seats']);
    // An activated machine comes back under the seat rules; its last seen time moves.
    await grant(store!, license, device('pc-1'), 160);
    expect(await store!.listActivations(license.id)).toEqual([
      { licenseId: license.id, deviceId: 'pc-1', activatedAt: 100, lastSeenAt: 160 },
      { licenseId: license.id, deviceId: 'pc-2', activatedAt: 130, lastSeenAt: 130 },
    ]);
    expect(await store!.countActivations([license.id, 'lic-none'])).toEqual(new Map([[license.id, 2]]));
  });

  it('a resume (another tab, a reconnect) moves the last seen time in the same transaction', async () => {
    const [store] = await nodes(1);
    const license = await newLicense(store!, { seats: 1, seatKey: ['device'], maxActivations: 1 });
    await grant(store!, license, device('pc-1'), 100);
    const again = await grant(store!, license, device('pc-1'), 200);
    expect(again.resumed).toBe(true);
    expect(await store!.listActivations(license.id)).toMatchObject([{ deviceId: 'pc-1', activatedAt: 100, lastSeenAt: 200 }]);
  });

  it('a session keyed by user resumed from a new device beyond the limit is refused', async () => {
    const [store] = await nodes(1);
    const license = await newLicense(store!, { seats: 2, seatKey: ['user'], maxActivations: 1 });
    await grant(store!, license, claimant('s', 1, { userId: 'ann', deviceId: 'pc-1' }), 100);
    expect(await admit(store!, license, claimant('s', 1, { userId: 'ann', deviceId: 'pc-2' }), 110)).toMatchObject({
      kind: 'denied',
      denial: { reason: 'too_many_activations' },
    });
  });

  it('deactivating ends the device sessions (active and idle) and frees the activation; unknown devices are undefined', async () => {
    const [store] = await nodes(1);
    const license = await newLicense(store!, { seats: 3, seatKey: ['user', 'device'], maxActivations: 2 });
    const a = await grant(store!, license, claimant('s1', 1, { userId: 'ann', deviceId: 'pc-1' }), 100, 'sock-a');
    const b = await grant(store!, license, claimant('s2', 1, { userId: 'bob', deviceId: 'pc-1' }), 100, 'sock-b');
    await store!.detach('sock-b', 105); // bob's session idles: still held, still the device's
    const other = await grant(store!, license, claimant('s3', 1, { userId: 'cy', deviceId: 'pc-2' }), 100);
    expect(await admit(store!, license, claimant('s4', 1, { userId: 'dee', deviceId: 'pc-3' }), 110)).toMatchObject({ kind: 'denied', denial: { reason: 'too_many_activations' } });

    expect(await store!.deactivate(license.id, 'pc-9', 120)).toBeUndefined();
    const result = await store!.deactivate(license.id, 'pc-1', 120);
    expect(result?.ended.map((e) => [e.session.id, e.reason]).sort()).toEqual([[a.session.id, 'deactivated'], [b.session.id, 'deactivated']].sort());
    expect(result?.license.seatsInUse).toBe(1);
    expect((await store!.listSessions(license.id)).map((s) => s.id)).toEqual([other.session.id]);
    expect((await store!.listActivations(license.id)).map((d) => d.deviceId)).toEqual(['pc-2']);
    // The activation is free for another device.
    await grant(store!, license, claimant('s4', 1, { userId: 'dee', deviceId: 'pc-3' }), 130);
    expect(await store!.deactivate(license.id, 'pc-1', 140)).toBeUndefined();
  });

  it('lowering maxActivations ends nobody and deactivates nobody: it only refuses new devices', async () => {
    const [store] = await nodes(1);
    const license = await newLicense(store!, { seats: 5, seatKey: ['device'], maxActivations: null });
    for (const d of ['pc-1', 'pc-2', 'pc-3']) await grant(store!, license, device(d), 100);
    // Unlimited licenses record devices too, so a limit set later counts them.
    const changed = await store!.updateLicense(license.id, { maxActivations: 1 }, 110);
    expect(changed?.ended).toEqual([]);
    expect(changed?.license.maxActivations).toBe(1);
    expect((await store!.getLicense(license.id))?.maxActivations).toBe(1);
    expect((await store!.listSessions(license.id)).length).toBe(3);
    expect((await store!.listActivations(license.id)).length).toBe(3);
    expect((await admit(store!, license, device('pc-2'), 120)).kind).toBe('granted');
    expect(await admit(store!, license, device('pc-4'), 120)).toMatchObject({ kind: 'denied', denial: { reason: 'too_many_activations' } });
  });

  it('a claimant without a dev claim on a license that counts activations is refused, nothing written', async () => {
    const [store] = await nodes(1);
    const license = await newLicense(store!, { seats: 5, maxActivations: 3 });
    expect(await admit(store!, license, claimant('no-device'), 100)).toMatchObject({ kind: 'missing_claim', claim: 'dev', activations: true });
    expect(await store!.listSessions(license.id)).toEqual([]);
    expect(await store!.listDenials(license.id)).toEqual([]);
    // Without a limit, no dev claim is needed, and nothing is recorded.
    const open = await newLicense(store!, { seats: 5 });
    await grant(store!, open, claimant('no-device'), 100);
    expect(await store!.listActivations(open.id)).toEqual([]);
  });

  it('never activates more devices than maxActivations under concurrent admissions from several nodes', async () => {
    const stores = await nodes(4);
    for (let round = 0; round < 5; round++) {
      const max = 1 + round;
      const license = await newLicense(stores[0]!, { seats: 50, seatKey: ['device'], maxActivations: max });
      const outcomes = await Promise.all(
        Array.from({ length: 24 }, (_, i) => admit(stores[i % stores.length]!, license, device(`pc-${i % 12}`), 1000 + round, `r${round}-s${i}`, `node-${i % 4}`)),
      );
      const activated = await stores[1]!.listActivations(license.id);
      expect(activated.length).toBe(max);
      const granted = new Set(outcomes.flatMap((o) => (o.kind === 'granted' ? [o.session.deviceId] : [])));
      expect([...granted].sort()).toEqual(activated.map((a) => a.deviceId).sort());
      for (const o of outcomes) if (o.kind === 'denied') expect(o.denial.reason).toBe('too_many_activations');
    }
  });
});
