// Invariant 7, sockets: unknown events and oversized payloads get an error or a disconnect, never a crash or a lost seat.
import { describe, expect, it } from 'vitest';
import { granted, nextEvent, sign, sleep, startServer } from '../support/harness';

describe('bad socket traffic', () => {
  it('unknown events and oversized payloads get errors or a disconnect, never a crash or lost seat', async () => {
    const { url, api } = await startServer({ config: { maxPayloadBytes: 4096 } });
    const { license, admin } = await api.setup({ seats: 2 });
    const a = await granted(url, await sign(license, { sid: 'a' }));
    const err = nextEvent(a.socket, 'seat:error');
    (a.socket as any).emit('steal:seat', { licenseId: 'other' });
    expect(await err).toMatchObject({ code: 'unknown_event' });
    // session:end with a payload and no ack function: refused with seat:error, and its session stays.
    const b = await granted(url, await sign(license, { sid: 'b' }));
    const refused = nextEvent(b.socket, 'seat:error');
    (b.socket as any).emit('session:end', 'not-a-function');
    expect(await refused).toMatchObject({ code: 'bad_request' });
    expect(b.socket.connected).toBe(true);

    const c = await granted(url, await sign(license, { sid: 'a' }));
    const closed = nextEvent(c.socket, 'disconnect');
    (c.socket as any).emit('x', 'y'.repeat(10_000));
    expect(await closed).toBeDefined();
    await sleep(200);
    // The oversized sender lost its socket, not the session's seat (a still holds it).
    const { sessions } = await admin.ok('GET', `/licenses/${license.id}/sessions`);
    expect(sessions.find((s: any) => s.sessionRef === 'a')).toMatchObject({ state: 'active', sockets: 1 });
    expect(a.socket.connected).toBe(true);
  });
});
