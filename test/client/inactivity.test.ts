// The SDK and inactivity release: `warning` and `warning-cleared` events, `activity()` keeping the
// seat (throttled, but at once while warned), and the seamless return: after `inactive`, the next
// activity connects again and is granted when a seat is free, else denied with the license's message.
import { describe, expect, it, onTestFinished } from 'vitest';
import { SeatClient, type SeatClientOptions } from '../../client/sdk';
import { granted, sign, sleep, startServer, until } from '../support/harness';

function client(url: string, token: string, opts: Partial<SeatClientOptions> = {}): SeatClient {
  const c = new SeatClient({ url, token, socketOptions: { reconnectionDelay: 100, reconnectionDelayMax: 200 }, ...opts });
  onTestFinished(() => c.close());
  return c;
}

describe('SeatClient inactivity', () => {
  it('warns, clears on activity, and activity keeps the seat past the timeout', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1, inactivityTimeoutSec: 2, inactivityWarningSec: 1 });
    const c = client(url, await sign(license, { sid: 'a' }), { activityThrottleMs: 60_000 });
    const warnings: string[] = [];
    c.on('warning', (w) => warnings.push(`warning:${w.reason}`));
    c.on('warning-cleared', (w) => warnings.push(`cleared:${w.reason}`));
    await until(() => c.state === 'granted');
    await until(() => c.warning !== undefined, 5000);
    expect(Date.parse(c.warning!.releasesAt)).toBeGreaterThan(Date.now() - 1000);
    // Throttled to once a minute, but a pending warning lets it through at once.
    c.activity();
    await until(() => c.warning === undefined, 5000);
    expect(warnings).toEqual(['warning:inactive', 'cleared:inactive']);
    expect(c.state).toBe('granted');
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(1);
  });

  it('after an inactivity release, the next activity re-admits when a seat is free, else shows the denied message', async () => {
    const { url, api } = await startServer();
    const deniedMessage = 'All seats are taken; ask IT for another';
    const { license } = await api.setup({ seats: 1, inactivityTimeoutSec: 2, inactivityWarningSec: 0, deniedMessage });
    const c = client(url, await sign(license, { sid: 'a' }), { activityThrottleMs: 500 });
    await until(() => c.state === 'granted');
    const first = c.grant!.sessionId;
    await until(() => c.state === 'ended', 6000);
    expect(c.ended).toMatchObject({ reason: 'inactive' });
    // Seamless when a seat is free: no new login, a new seat.
    c.activity();
    await until(() => c.state === 'granted');
    expect(c.grant!.sessionId).not.toBe(first);
    // Released again, and this time someone else took the seat meanwhile.
    await until(() => c.state === 'ended', 6000);
    const other = await granted(url, await sign(license, { sid: 'b' }));
    c.activity();
    await until(() => c.state === 'denied');
    expect(c.denial).toMatchObject({ reason: 'no_free_seats', message: deniedMessage });
    // Once the other user leaves for good, a later activity gets the seat back.
    other.socket.emit('session:end', () => {});
    await sleep(600);
    c.activity();
    await until(() => c.state === 'granted');
  });

  it('comes back on activity at the moment of the release, before the server has closed the socket', async () => {
    const { url, api } = await startServer();
    const { license } = await api.setup({ seats: 1, inactivityTimeoutSec: 1, inactivityWarningSec: 0 });
    const c = client(url, await sign(license, { sid: 'a' }));
    await until(() => c.state === 'granted');
    const first = c.grant!.sessionId;
    // The user acts as the ending arrives: the server's close of the socket is still to come.
    c.on('ended', () => c.activity());
    await until(() => c.state === 'granted' && c.grant!.sessionId !== first, 6000);
    expect(c.ended).toBeUndefined();
  });
});
