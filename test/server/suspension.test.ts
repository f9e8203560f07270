// Suspension: a suspended license ends every session with license_suspended and refuses new ones;
// restoring it admits again (RMH POS's unpaid subscription).
import { describe, expect, it } from 'vitest';
import { connectAndAdmit, granted, nextEvent, sign, startServer } from '../support/harness';

describe('suspension', () => {
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
});
