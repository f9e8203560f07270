// An ending found by a node's beat (node-liveness.ts: the session is gone from the store, Redis
// said nothing) races the ending's own word through Redis, which carries the message given. The
// beat's default message must not reach the sockets first: its word gets a grace to arrive.
import { expect, it } from 'vitest';
import type { EventBus } from '../../server/seats/event-bus';
import { granted, nextEvent, sign, sleep, startServer } from '../support/harness';

it("a session found ended by a beat waits for its ending's own word, and tells the message given", async () => {
  const { url, api, server } = await startServer();
  const { license } = await api.setup({ seats: 1 });
  const tab = await granted(url, await sign(license, { sid: 'portal-a' }));
  const sessionId = tab.grant.sessionId;
  const told: unknown[] = [];
  tab.socket.on('session:ended', (e) => told.push(e));
  const gone = nextEvent(tab.socket, 'disconnect');
  // What node liveness publishes when its beat finds the session gone (the reason's default message).
  const bus = (server.engine as unknown as { bus: EventBus }).bus;
  bus.publish({ type: 'session.ended-elsewhere', sessionId, reason: 'kicked', message: 'Your session was ended by an administrator' });
  await sleep(50);
  // The ending's word through Redis arrives: what another node's serverSideEmit hands this one.
  for (const listener of server.io.of('/').listeners('session:ended')) listener(sessionId, { reason: 'kicked', message: 'night shift' });
  await gone;
  // The grace passes: the beat's word is not told on top.
  await sleep(1200);
  expect(told).toEqual([{ reason: 'kicked', message: 'night shift' }]);
});

it('a session found ended by a beat with no word through Redis is told after the grace, with the default message', async () => {
  const { url, api, server } = await startServer();
  const { license } = await api.setup({ seats: 1 });
  const tab = await granted(url, await sign(license, { sid: 'portal-a' }));
  const ended = nextEvent(tab.socket, 'session:ended', 5000);
  const bus = (server.engine as unknown as { bus: EventBus }).bus;
  bus.publish({ type: 'session.ended-elsewhere', sessionId: tab.grant.sessionId, reason: 'kicked', message: 'Your session was ended by an administrator' });
  expect(await ended).toEqual({ reason: 'kicked', message: 'Your session was ended by an administrator' });
});
