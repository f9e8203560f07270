// The port opens before the server has loaded (server/early-port.ts): what arrives meanwhile is
// held, unread, and served once the server takes the port over, so a restarted node's clients are
// not refused into their reconnect backoff while it loads.
import net from 'node:net';
import path from 'node:path';
import { expect, it } from 'vitest';
import { listenEarly } from '../../server/early-port';
import { createSeatServer } from '../../server/seat-server';
import { admission, connect, FAST, sign, startProcess, startServer, tempDir, until } from '../support/harness';
import { freePort } from '../support/throwaway-services';

/** Sends a GET over a raw connection as soon as it connects; resolves with the status line. */
function rawGet(port: number, pathname: string): { connected: Promise<number>; status: Promise<string> } {
  const socket = net.connect(port, '127.0.0.1');
  const connected = new Promise<number>((resolve, reject) => {
    socket.once('connect', () => resolve(performance.now()));
    socket.once('error', reject);
  });
  const status = connected.then(
    () =>
      new Promise<string>((resolve) => {
        let reply = '';
        socket.on('data', (d) => (reply += d));
        socket.on('close', () => resolve(reply.split('\r\n')[0]!));
        socket.write(`GET ${pathname} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
      }),
  );
  // An attempt the caller drops (the port not open yet) fails with its connect.
  status.catch(() => {});
  return { connected, status };
}

it('a request and a socket that came before the server loaded are served once it listens, on the port opened early', async () => {
  const databaseUrl = path.join(tempDir(), 'seats.db');
  // A license to connect to, made by an earlier run of the node on this database.
  const first = await startServer({ databaseUrl });
  const { license } = await first.api.setup({ seats: 2 });
  await first.server.close();

  const early = await listenEarly({ PORT: '0' });
  if (!early) throw new Error('expected the port to open');
  const port = (early.server.address() as net.AddressInfo).port;
  const get = rawGet(port, '/healthz');
  await get.connected;
  const socket = connect(`http://localhost:${port}`, await sign(license, { sid: 'early-tab' }));
  const admitted = admission(socket);
  // Connected, and nothing answers yet: no server has loaded.
  const answered = await Promise.race([get.status, new Promise((resolve) => setTimeout(() => resolve('nothing yet'), 300))]);
  expect(answered).toBe('nothing yet');

  const server = createSeatServer({ earlyPort: early, env: {}, config: { databaseUrl, ...FAST } });
  try {
    const listening = await server.listen();
    expect(listening.port).toBe(port);
    expect(await get.status).toBe('HTTP/1.1 200 OK');
    const result = await admitted;
    expect(result.kind).toBe('granted');
    // New connections after the hand-over are the server's own.
    expect(await rawGet(port, '/healthz').status).toBe('HTTP/1.1 200 OK');
  } finally {
    socket.disconnect();
    await server.close();
  }
  // Closed with the server: the port is free again.
  await expect(new Promise((resolve, reject) => net.connect(port, '127.0.0.1').once('connect', resolve).once('error', reject))).rejects.toThrow(/ECONNREFUSED/);
});

it('opens no port early where PORT is not a port number, or the port is taken: the server then says why itself', async () => {
  expect(await listenEarly({ PORT: 'eighty' })).toBeUndefined();
  expect(await listenEarly({ PORT: '70000' })).toBeUndefined();
  // An empty PORT is unset (3000), here as in the configuration (start-config.test.ts); not bound here.
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, resolve));
  try {
    const port = String((taken.address() as net.AddressInfo).port);
    expect(await listenEarly({ PORT: port })).toBeUndefined();
    const server = createSeatServer({ env: { PORT: port }, config: { databaseUrl: ':memory:', ...FAST } });
    await expect(server.listen()).rejects.toThrow(/EADDRINUSE/);
  } finally {
    taken.close();
  }
});

it('npm start opens its port before it loads the server, and serves what came meanwhile', { timeout: 60_000 }, async () => {
  // The server's chunk loads 1.5 s late: long enough to tell a port opened early from one opened by the server.
  const port = await freePort();
  const proc = startProcess({ NODE_OPTIONS: `--import=${path.resolve(import.meta.dirname, '../support/slow-start-chunk.mjs')}`, PORT: String(port) });
  let get: ReturnType<typeof rawGet> | undefined;
  await until(async () => {
    const attempt = rawGet(port, '/healthz');
    try {
      await attempt.connected;
      get = attempt;
      return true;
    } catch {
      return false;
    }
  }, 20_000, 20);
  const connectedAt = await get!.connected;
  const running = await proc;
  const listeningAt = performance.now();
  expect(running.output()).not.toMatch(/could not/);
  expect(listeningAt - connectedAt).toBeGreaterThan(700);
  expect(await get!.status).toBe('HTTP/1.1 200 OK');
});
