// Clients on socket.io's default transports (long-polling first, or polling only) see the same contract.
import { io } from 'socket.io-client';
import { describe, expect, it, onTestFinished } from 'vitest';
import { nextEvent, sign, startServer } from '../support/harness';

describe('HTTP long-polling clients', () => {
  it('get grants, denials, kicks and session:end acks as websocket clients do', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1 });
    const open = async (sid: string, transports?: string[]) => {
      const s = io(url, { auth: { token: await sign(license, { sid }) }, forceNew: true, ...(transports ? { transports } : {}) });
      onTestFinished(() => void s.disconnect());
      return s;
    };
    const a = await open('a');
    const grant: any = await nextEvent(a, 'seat:granted');
    const b = await open('b');
    expect(await nextEvent(b, 'seat:denied')).toMatchObject({ reason: 'no_free_seats' });
    const kicked = nextEvent(a, 'session:ended');
    await admin.ok('DELETE', `/sessions/${grant.sessionId}`);
    expect(await kicked).toMatchObject({ reason: 'kicked' });

    const c = await open('c', ['polling']);
    await nextEvent(c, 'seat:granted');
    const e = await open('e', ['polling']);
    expect(await nextEvent(e, 'seat:denied')).toMatchObject({ reason: 'no_free_seats' });
    const c2 = await open('c', ['polling']);
    expect(await nextEvent(c2, 'seat:granted')).toMatchObject({ resumed: true });
    const endedOnC = nextEvent(c, 'session:ended');
    expect(await c2.timeout(3000).emitWithAck('session:end')).toEqual({ ok: true });
    expect(await endedOnC).toMatchObject({ reason: 'ended_by_app' });
  });
});
