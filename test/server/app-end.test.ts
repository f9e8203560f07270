// App end: the app's own logic ends its session (`session:end`); every tab is told `ended_by_app`
// and the seat is free at once, with no cool-down (AIMMS PRO).
import { describe, expect, it } from 'vitest';
import { granted, nextEvent, sign, startServer } from '../support/harness';

describe('app end', () => {
  it("the app's own logic ends its session and frees the seat at once", async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1 });
    const token = await sign(license, { sid: 'portal-a' });
    const a = await granted(url, token);
    const b = await granted(url, token);
    const endedOnB = nextEvent(b.socket, 'session:ended');
    const ack = await a.socket.timeout(5000).emitWithAck('session:end');
    expect(ack).toEqual({ ok: true });
    expect(await endedOnB).toMatchObject({ reason: 'ended_by_app' });
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(0);
    // Not a kick: the same portal session may take a seat again straight away.
    const again = await granted(url, token);
    expect(again.grant.resumed).toBe(false);
  });
});
