// The SDK and offline grace: it verifies each seat receipt against the server's published keys
// and keeps `offlineUntil`; when the server cannot be reached the seat stays usable with a
// `warning` (`offline`) until then, turns `expired` when the grace runs out, and resumes the same
// session when the server comes back in time.
import net from 'node:net';
import { expect, it, onTestFinished } from 'vitest';
import { SeatClient, type SeatState } from '../../client/sdk';
import { sign, sleep, startServer, until } from '../support/harness';

/** A loopback TCP proxy that can be cut off (every connection closed, new ones refused) and restored. */
async function switchableProxy(target: string) {
  const port = Number(new URL(target).port);
  const open = new Set<net.Socket>();
  let down = false;
  const server = net.createServer((client) => {
    if (down) return void client.destroy();
    const upstream = net.connect(port, '127.0.0.1');
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('error', () => {});
      s.on('close', () => open.delete(s));
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(async () => {
    for (const s of open) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    cut() {
      down = true;
      for (const s of open) s.destroy();
    },
    restore() {
      down = false;
    },
  };
}

function client(url: string, token: string, jwksUrl?: string): SeatClient {
  const c = new SeatClient({ url, token, jwksUrl, socketOptions: { reconnectionDelay: 100, reconnectionDelayMax: 200 } });
  onTestFinished(() => c.close());
  return c;
}

function record(c: SeatClient) {
  const states: SeatState[] = [];
  const warnings: unknown[] = [];
  const cleared: unknown[] = [];
  c.on('state', (s) => states.push(s));
  c.on('warning', (w) => warnings.push(w));
  c.on('warning-cleared', (w) => cleared.push(w));
  return { states, warnings, cleared };
}

it('offlineUntil is the newest verified receipt\'s expiry, moved on by each fresh receipt; a forged one is ignored', async () => {
  const { url, api, server } = await startServer();
  const { license } = await api.setup({ seats: 1, offlineGraceSec: 2 });
  const c = client(url, await sign(license, { sid: 'p1' }));
  await until(() => c.offlineUntil !== undefined, 5000);
  const first = c.offlineUntil!.getTime();
  expect(first).toBeGreaterThan(Date.now());
  expect(first).toBeLessThanOrEqual(Date.now() + 2000);
  await until(() => c.offlineUntil!.getTime() > first, 5000);

  // A receipt the server did not sign (another key) does not move it.
  const { generateKeyPair, SignJWT } = await import('jose');
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const forged = await new SignJWT({ lic: license.id, sid: c.grant!.sessionId })
    .setProtectedHeader({ alg: 'EdDSA', kid: 'forged' })
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(privateKey);
  const before = c.offlineUntil!.getTime();
  server.io.of('/').emit('seat:receipt', { receipt: forged });
  await sleep(300);
  expect(c.offlineUntil!.getTime()).toBeLessThan(before + 1500);

  // A key rotated in meanwhile: the SDK fetches the keys again and goes on verifying.
  await api.ok('POST', '/receipt-keys');
  const atRotation = c.offlineUntil!.getTime();
  await until(() => c.offlineUntil!.getTime() > atRotation + 500, 5000);
});

it('without the server: stays usable with an offline warning, and resumes the same session when it returns in time', async () => {
  const { url, api } = await startServer();
  // The idle timeout alone (1 s) would let the seat go during the outage; the receipt holds it.
  const { license } = await api.setup({ seats: 1, idleTimeoutSec: 1, offlineGraceSec: 6 });
  const proxy = await switchableProxy(url);
  const c = client(proxy.url, await sign(license, { sid: 'pos' }), `${url}/.well-known/jwks.json`);
  await until(() => c.state === 'granted' && c.offlineUntil !== undefined, 5000);
  const sessionId = c.grant!.sessionId;
  const seen = record(c);

  proxy.cut();
  await until(() => seen.warnings.length > 0, 5000);
  expect(seen.warnings[0]).toEqual({
    reason: 'offline',
    offlineUntil: c.offlineUntil,
    releasesAt: c.offlineUntil!.toISOString(),
    message: expect.any(String),
  });
  await sleep(2000);
  expect(c.state).toBe('granted');
  expect(c.socket.connected).toBe(false);

  proxy.restore();
  const back = new Promise((r) => c.on('granted', r));
  expect(await back).toMatchObject({ resumed: true, sessionId });
  expect(seen.cleared).toEqual([{ reason: 'offline' }]);
  // Usable throughout: the state never left `granted`.
  expect(seen.states).toEqual([]);
  expect(c.state).toBe('granted');
});

it('turns expired when the grace runs out before the server returns, and is granted again once it does', async () => {
  const { url, api } = await startServer();
  const { license } = await api.setup({ seats: 1, idleTimeoutSec: 1, offlineGraceSec: 2 });
  const proxy = await switchableProxy(url);
  const c = client(proxy.url, await sign(license, { sid: 'pos' }), `${url}/.well-known/jwks.json`);
  await until(() => c.state === 'granted' && c.offlineUntil !== undefined, 5000);
  const seen = record(c);

  proxy.cut();
  await until(() => c.state === 'expired', 5000);
  expect(Date.now()).toBeGreaterThanOrEqual(c.offlineUntil!.getTime());
  expect(seen.warnings).toHaveLength(1);
  expect(seen.states).toEqual(['expired']);
  // Failed reconnects leave it expired.
  await sleep(500);
  expect(c.state).toBe('expired');

  // Back: expired until the server answers, then granted (a new session if the hold ran out too).
  proxy.restore();
  await until(() => c.state === 'granted', 5000);
  expect(seen.states).toEqual(['expired', 'granted']);
});

it('without offline grace: no receipt and no grace, a lost connection is reported as before', async () => {
  const { url, api } = await startServer();
  const { license } = await api.setup({ seats: 1, idleTimeoutSec: 1 });
  const proxy = await switchableProxy(url);
  const c = client(proxy.url, await sign(license, { sid: 'pos' }));
  await until(() => c.state === 'granted', 5000);
  const seen = record(c);
  proxy.cut();
  await until(() => c.state !== 'granted', 5000);
  expect(c.offlineUntil).toBeUndefined();
  expect(seen.warnings).toEqual([]);
  expect(['connecting', 'offline']).toContain(c.state);
});

it('the longest grace (30 days) keeps the seat usable offline: its wait is longer than one timer can be', async () => {
  // Longer than a timer can wait fires at once (and would spin, or expire the grace at once).
  const overflow: string[] = [];
  const onWarning = (w: Error) => w.name === 'TimeoutOverflowWarning' && overflow.push(w.message);
  process.on('warning', onWarning);
  onTestFinished(() => void process.off('warning', onWarning));
  const { url, api } = await startServer();
  const { license } = await api.setup({ seats: 1, idleTimeoutSec: 1, offlineGraceSec: 2_592_000 });
  const proxy = await switchableProxy(url);
  const c = client(proxy.url, await sign(license, { sid: 'month' }), `${url}/.well-known/jwks.json`);
  await until(() => c.state === 'granted' && c.offlineUntil !== undefined, 5000);
  const seen = record(c);
  proxy.cut();
  await until(() => seen.warnings.length > 0, 5000);
  await sleep(500);
  expect(c.state).toBe('granted');
  expect(seen.states).toEqual([]);
  expect(overflow).toEqual([]);
});
