// Seed: RMH POS. One seat per app installation (device), whoever logs into it; an unpaid
// subscription sets seats to nothing (suspension) and good standing restores them.
import { describe, expect, it } from 'vitest';
import { connectAndAdmit, granted, nextEvent, sign, startServer } from '../support/harness';

describe('RMH POS: one seat per device, suspension', () => {
  it('every user of one checkout lane shares its seat', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 12, seatKey: ['device'] });
    const cashier = await granted(url, await sign(license, { dev: 'lane-1', sub: 'cashier', app: 'RMH POS' }));
    const manager = await granted(url, await sign(license, { dev: 'lane-1', sub: 'manager', app: 'RMH POS' }));
    expect(manager.grant).toMatchObject({ resumed: true, sessionId: cashier.grant.sessionId, seatsInUse: 1 });
    const lane2 = await granted(url, await sign(license, { dev: 'lane-2', sub: 'cashier' }));
    expect(lane2.grant.seatsInUse).toBe(2);
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(2);
  });

  it('suspending ends every session with license_suspended and refuses new ones; restoring admits again', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 12, seatKey: ['device'] });
    const lanes = [await granted(url, await sign(license, { dev: 'lane-1' })), await granted(url, await sign(license, { dev: 'lane-2' }))];
    const ended = lanes.map((l) => nextEvent(l.socket, 'session:ended'));
    const suspended = await admin.ok('PATCH', `/licenses/${license.id}`, { status: 'suspended' });
    expect(suspended).toMatchObject({ status: 'suspended', seatsInUse: 0 });
    for (const e of await Promise.all(ended)) expect(e).toMatchObject({ reason: 'license_suspended' });
    const refused = await connectAndAdmit(url, await sign(license, { dev: 'lane-1' }));
    expect(refused.result).toMatchObject({ kind: 'denied', payload: { reason: 'license_suspended', seatsInUse: 0 } });
    const { denials } = await admin.ok('GET', `/licenses/${license.id}/denials`);
    expect(denials[0]).toMatchObject({ reason: 'license_suspended', deviceId: 'lane-1' });

    await admin.ok('PATCH', `/licenses/${license.id}`, { status: 'active' });
    const back = await granted(url, await sign(license, { dev: 'lane-1' }));
    expect(back.grant).toMatchObject({ resumed: false, seatsInUse: 1 });
  });

  it('lowering seats below those in use ends the newest sessions with seats_reduced', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 3, seatKey: ['device'] });
    const oldest = await granted(url, await sign(license, { dev: 'lane-1' }));
    const middle = await granted(url, await sign(license, { dev: 'lane-2' }));
    const newest = await granted(url, await sign(license, { dev: 'lane-3' }));
    const endedNewest = nextEvent(newest.socket, 'session:ended');
    const endedMiddle = nextEvent(middle.socket, 'session:ended');
    let oldestEnded = false;
    oldest.socket.on('session:ended', () => (oldestEnded = true));
    const r = await admin.ok('PATCH', `/licenses/${license.id}`, { seats: 1 });
    expect(r).toMatchObject({ seats: 1, seatsInUse: 1 });
    expect(await endedNewest).toMatchObject({ reason: 'seats_reduced' });
    expect(await endedMiddle).toMatchObject({ reason: 'seats_reduced' });
    const { sessions } = await admin.ok('GET', `/licenses/${license.id}/sessions`);
    expect(sessions.map((s: any) => s.id)).toEqual([oldest.grant.sessionId]);
    expect(oldestEnded).toBe(false);
  });
});
