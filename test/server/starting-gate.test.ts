// A restarted node opens its port before it has started (let go of its last run's sockets, set its
// timers), and holds what arrives until then: clients in a reconnect storm wait a moment instead of
// being refused into seconds of backoff. Nothing is admitted, nor any request answered, before it.
// And its listen backlog holds a storm's handshakes that the event loop has not accepted yet.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { expect, it } from 'vitest';
import { createSeatServer } from '../../server/seat-server';
import { SqliteSeatStore } from '../../server/store/sqlite-store';
import { admission, Api, connect, FAST, OPERATOR_TOKEN, sign, sleep, startServer, tempDir, until } from '../support/harness';

/**
 * A license made on a server that then stopped, and that server restarted on the same file, its
 * first heartbeat (part of starting) waiting for `release`, or failing with `fail`.
 */
async function slowRestart() {
  const file = path.join(tempDir(), 'seats.db');
  const before = await startServer({ databaseUrl: file });
  const { license } = await before.api.setup({ seats: 2 });
  await before.server.close();
  const store = SqliteSeatStore.open(file);
  const beat = store.heartbeat.bind(store);
  let release!: () => void;
  let fail!: (err: Error) => void;
  const held = new Promise<void>((resolve, reject) => {
    release = resolve;
    fail = reject;
  });
  let first = true;
  store.heartbeat = async (...args) => {
    if (first) {
      first = false;
      await held;
    }
    return beat(...args);
  };
  const server = createSeatServer({ store, env: {}, config: { ...FAST, databaseUrl: file } });
  const listening = server.listen(0);
  listening.catch(() => {});
  // The port is open while starting waits.
  await until(() => server.io.httpServer.address() !== null);
  const url = `http://127.0.0.1:${(server.io.httpServer.address() as AddressInfo).port}`;
  return { license, server, listening, url, release, fail };
}

it('holds sockets and requests that arrive while the node starts, and answers them once it has', async () => {
  const node = await slowRestart();
  const { license } = node;
  try {
    const socket = connect(node.url, await sign(license, { sid: 'early' }));
    const outcome = admission(socket);
    const request = new Api(node.url, OPERATOR_TOKEN).call('GET', `/licenses/${license.id}`);
    let answered = false;
    void Promise.race([outcome, request]).then(() => (answered = true));
    await sleep(300);
    expect(answered).toBe(false);
    expect(socket.connected).toBe(false);

    node.release();
    await node.listening;
    expect(await outcome).toMatchObject({ kind: 'granted', payload: { seatsInUse: 1, resumed: false } });
    expect(await request).toMatchObject({ status: 200, body: { id: license.id, seatsInUse: 1 } });
  } finally {
    await node.server.close();
  }
});

it('refuses what it held with "unavailable" when starting fails, and closes the port', async () => {
  const node = await slowRestart();
  const { license } = node;
  const outcome = admission(connect(node.url, await sign(license, { sid: 'early' })));
  const request = new Api(node.url, OPERATOR_TOKEN).call('GET', `/licenses/${license.id}`);
  await sleep(200);
  node.fail(new Error('the database went away'));
  await expect(node.listening).rejects.toThrow('the database went away');
  expect(await outcome).toMatchObject({ kind: 'connect_error', message: 'unavailable', data: { reason: 'unavailable', message: 'the seat server could not start; retry shortly' } });
  expect(await request).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } } });
  expect(node.server.io.httpServer.listening).toBe(false);
});

it('listens with a backlog of 4096 connections (as far as net.core.somaxconn allows), not Node\'s 511', async (ctx) => {
  const ss = spawnSync('ss', ['-Hltn'], { encoding: 'utf8' });
  if (ss.error) {
    if (process.env.CI) throw new Error('ss (iproute2) is missing: .ci/run installs it');
    return ctx.skip('no ss (iproute2) on this machine');
  }
  const { url } = await startServer();
  const port = new URL(url).port;
  // `ss -ltn`: for a listening socket, Send-Q is the backlog it was given (capped by somaxconn).
  const line = spawnSync('ss', ['-Hltn', `sport = :${port}`], { encoding: 'utf8' }).stdout.trim();
  const backlog = Number(line.split(/\s+/)[2]);
  const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
  expect(backlog).toBe(Math.min(4096, somaxconn));
});
