// A seat that falls due while the server is closing other sockets' connections is released then,
// not when the timers phase comes back (server/realtime/teardown-checks.ts): 10,000 sockets
// closing at once keep the loop out of that phase for seconds after their detaches are done.
//
// Here the engine's clock is the test's own. A seat's deadline passes (the clock moves on) right
// after a socket is denied, before the server closes that socket's connection; no seat move follows
// (a denied socket has nothing to detach), the sweep is a minute away and the engine's timer half a
// minute. Only a check by a stage of that connection's teardown can release the seat in time.
import { describe, expect, it } from 'vitest';
import type { DomainEvent } from '../../server/seats/hooks';
import { closeSocket, connectAndAdmit, granted, sign, startServer } from '../support/harness';

describe('deadlines checked as connections close', () => {
  it('releases a seat that fell due while a denied socket’s connection was closing, with no timer and no seat move after it', async () => {
    let now = Date.now();
    const { url, api, server } = await startServer({ now: () => now, config: { sweepIntervalMs: 60_000 } });
    const { license } = await api.setup({ seats: 1, idleTimeoutSec: 30 });
    const held = await granted(url, await sign(license, { sid: 'held' }));

    const events: DomainEvent[] = [];
    server.engine.subscribe((e) => {
      events.push(e);
      // Once the denial was published (and the deadlines checked for it), the held seat's deadline is past.
      if (e.type === 'denied') queueMicrotask(() => (now += 11_000));
    });
    await closeSocket(held.socket);
    await expect.poll(() => events.some((e) => e.type === 'session.idle' && e.session.id === held.grant.sessionId)).toBe(true);
    now += 20_000;

    // The seat is still held: the newcomer is denied, and the server closes its connection.
    const denied = await connectAndAdmit(url, await sign(license, { sid: 'newcomer' }));
    expect(denied.result.kind).toBe('denied');

    await expect
      .poll(() => events.find((e) => e.type === 'session.ended' && e.session.id === held.grant.sessionId), { timeout: 10_000, interval: 20 })
      .toMatchObject({ reason: 'idle_timeout' });
    expect(events.filter((e) => e.type !== 'session.ended').map((e) => e.type)).toEqual(['session.idle', 'denied']);
  });
});
