// Lowered seats: seats lowered below those in use end the newest sessions with seats_reduced (RMH POS).
import { describe, expect, it } from 'vitest';
import { granted, nextEvent, sign, startServer } from '../support/harness';

describe('lowered seats', () => {
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
