// The queue through a kill -9 and a restart on the same SQLite file and port: the queued client
// reconnects by itself (queue: true again) and takes back its place ahead of a later one; the
// seat the dead node's holder left idle goes to it when its idle timeout ends.
import path from 'node:path';
import { io } from 'socket.io-client';
import { expect, it, onTestFinished } from 'vitest';
import { type AppSocket, granted, nextEvent, sign, startProcess, tempDir } from '../support/harness';

function waiter(url: string, token: string): AppSocket {
  const socket: AppSocket = io(url, { auth: { token, queue: true }, transports: ['websocket'], reconnectionDelay: 200, reconnectionDelayMax: 400, forceNew: true });
  onTestFinished(() => void socket.disconnect());
  return socket;
}

it('a queued client keeps its place through a kill -9 and restart, and gets the seat its holder left', { timeout: 60_000 }, async () => {
  const file = path.join(tempDir(), 'seats.db');
  const env = { DATABASE_URL: file, SWEEP_INTERVAL_MS: '200', HEARTBEAT_INTERVAL_MS: '200', NODE_TIMEOUT_MS: '1500', IDLE_TIMEOUT_MIN_SEC: '1', NODE_ID: 'node-q' };
  const first = await startProcess(env);
  const { license, admin } = await first.api.setup({ seats: 1, queue: true, idleTimeoutSec: 3 });
  const holder = await granted(first.url, await sign(license, { sid: 'holder' }));
  const early = waiter(first.url, await sign(license, { sid: 'early' }));
  expect(await nextEvent(early, 'seat:queued')).toEqual({ position: 1, queueLength: 1 });
  await first.kill9();
  holder.socket.close();

  const second = await startProcess({ ...env, PORT: String(first.port) });
  // The early client is back in its place (it reconnected by itself); a later one queues behind it.
  expect(await nextEvent(early, 'seat:queued', 10_000)).toEqual({ position: 1, queueLength: 1 });
  const late = waiter(second.url, await sign(license, { sid: 'late' }));
  expect(await nextEvent(late, 'seat:queued')).toEqual({ position: 2, queueLength: 2 });
  // The holder's seat idles from the restart and goes to the head of the queue when it runs out.
  expect(await nextEvent(early, 'seat:granted', 10_000)).toMatchObject({ resumed: false, seatsInUse: 1 });
  const { sessions } = await second.api.as(admin.token).ok('GET', `/licenses/${license.id}/sessions`);
  expect(sessions.map((s: { sessionRef: string }) => s.sessionRef)).toEqual(['early']);
});
