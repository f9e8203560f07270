import { io } from 'socket.io-client';
// Clients on socket.io's default transports (long-polling first, or polling only) see the same contract.
import { describe, expect, it } from 'vitest';
import { nextEvent, sign, startServer } from '../support/harness';
describe('HTTP long-polling clients', () => {
it('get grants, denials, kicks and session:end acks as websocket clients do', async () => {
  const { url, api } = await startServer();
  const { license, admin } = await api.setup({ seats: 1 });
  const a = io(url, { auth: { token: await sign(license, { sid: 'a' }) }, forceNew: true });
  const g: any = await nextEvent(a, 'seat:granted');
  const b = io(url, { auth: { token: await sign(license, { sid: 'b' }) }, forceNew: true });
  const d: any = await nextEvent(b, 'seat:denied');
  expect(d.reason).toBe('no_free_seats');
  const ended = nextEvent(a, 'session:ended');
  await admin.ok('DELETE', `/sessions/${g.sessionId}`);
  expect(await ended).toMatchObject({ reason: 'kicked' });
  const c = io(url, { auth: { token: await sign(license, { sid: 'c' }) }, forceNew: true, transports: ['polling'] });
  await nextEvent(c, 'seat:granted');
  const e = io(url, { auth: { token: await sign(license, { sid: 'e' }) }, forceNew: true, transports: ['polling'] });
  expect(await nextEvent(e, 'seat:denied')).toMatchObject({ reason: 'no_free_seats' });
  const c2 = io(url, { auth: { token: await sign(license, { sid: 'c' }) }, forceNew: true, transports: ['polling'] });
  await nextEvent(c2, 'seat:granted');
  const endedC = nextEvent(c, 'session:ended');
  const ack = await c2.timeout(3000).emitWithAck('session:end');
  expect(ack).toEqual({ ok: true });
  expect(await endedC).toMatchObject({ reason: 'ended_by_app' });
  for (const s of [a, b, c, c2, e]) s.disconnect();
});
});
