// TRUST_PROXY: behind a reverse proxy every client arrives from the proxy's address; the socket
// connect limit then keys on the client address X-Forwarded-For names through the trusted hops.
// Untrusted, the header is ignored, so a client cannot pick its own address.
import { io } from 'socket.io-client';
import { describe, expect, it, onTestFinished } from 'vitest';
import { admission, type AppSocket, sign, startServer } from '../support/harness';

let n = 0;
/** A socket as a proxy would pass it on: the client's address in X-Forwarded-For. */
async function viaProxy(url: string, license: { id: string; secret: string }, forwardedFor: string) {
  const token = await sign(license, { ins: `i-${++n}` });
  const socket = io(url, {
    auth: { token },
    transports: ['websocket'],
    extraHeaders: { 'x-forwarded-for': forwardedFor },
    reconnection: false,
    forceNew: true,
  }) as AppSocket;
  onTestFinished(() => void socket.disconnect());
  const r = await admission(socket);
  return r.kind === 'connect_error' ? r.message : r.kind;
}

// Two connects per address, then refused for two seconds.
const LIMIT = { CONNECT_BURST: '2', CONNECT_RATE_PER_SEC: '1' };

describe('TRUST_PROXY', () => {
  it('with the proxy trusted, each forwarded client address has its own connect limit', async () => {
    const { url, api } = await startServer({ env: { ...LIMIT, TRUST_PROXY: 'loopback' } });
    const { license } = await api.setup({ seats: 20, seatKey: ['instance'] });
    expect(await viaProxy(url, license, '203.0.113.1')).toBe('granted');
    expect(await viaProxy(url, license, '203.0.113.1')).toBe('granted');
    expect(await viaProxy(url, license, '203.0.113.1')).toBe('rate_limited');
    expect(await viaProxy(url, license, '203.0.113.2')).toBe('granted');
    // The proxy appends the address it saw; what the client wrote before it is not trusted.
    expect(await viaProxy(url, license, '203.0.113.2, 203.0.113.1')).toBe('rate_limited');
  });

  it('a hop count trusts that many proxies', async () => {
    const { url, api } = await startServer({ env: { ...LIMIT, TRUST_PROXY: '1' } });
    const { license } = await api.setup({ seats: 20, seatKey: ['instance'] });
    expect(await viaProxy(url, license, '198.51.100.1, 203.0.113.1')).toBe('granted');
    expect(await viaProxy(url, license, '198.51.100.2, 203.0.113.1')).toBe('granted');
    expect(await viaProxy(url, license, '198.51.100.3, 203.0.113.1')).toBe('rate_limited');
    expect(await viaProxy(url, license, '203.0.113.1, 203.0.113.2')).toBe('granted');
  });

  it('without TRUST_PROXY the header is ignored: every client shares the address it connects from', async () => {
    const { url, api } = await startServer({ env: LIMIT });
    const { license } = await api.setup({ seats: 20, seatKey: ['instance'] });
    expect(await viaProxy(url, license, '203.0.113.1')).toBe('granted');
    expect(await viaProxy(url, license, '203.0.113.2')).toBe('granted');
    expect(await viaProxy(url, license, '203.0.113.3')).toBe('rate_limited');
  });

  it('a bad TRUST_PROXY stops the start', async () => {
    await expect(startServer({ env: { TRUST_PROXY: 'loopback, 10.0.0.300' } })).rejects.toThrow(/TRUST_PROXY/);
  });
});
