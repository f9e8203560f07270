// The webhooks' HTTP client (server/seats/webhook-http.ts) against real local receivers: one POST
// per attempt over a kept-alive connection, any answer a status (a 3xx not followed), a receiver
// that never answers a timeout, a refused connection its code, a stop abandons the attempt, and
// private addresses refused before anything is sent, named or literal, and a kept-alive connection
// the receiver dropped resent once on a new one. Nothing is left pending.
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { guardedLookup, WebhookHttp } from '../../server/seats/webhook-http';

const servers: Server[] = [];
const tcpServers: Array<{ server: TcpServer; sockets: Set<Socket> }> = [];
const clients: WebhookHttp[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  for (const t of tcpServers.splice(0)) {
    for (const s of t.sockets) s.destroy();
    t.server.close();
  }
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});

async function receiver(answer: (body: string) => number | undefined): Promise<{ url: string; ports: number[]; bodies: string[] }> {
  const seen = { url: '', ports: [] as number[], bodies: [] as string[] };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.ports.push(req.socket.remotePort!);
      seen.bodies.push(body);
      const status = answer(body);
      if (status !== undefined) res.writeHead(status, status === 302 ? { location: 'http://127.0.0.1:9/' } : {}).end();
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  seen.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return seen;
}

/**
 * A receiver on raw TCP that answers 204 on a kept-alive connection, but closes the connection
 * without an answer where `drop(connection, nth request on it)` says: what a receiver closing an
 * idle connection just as a request arrives on it looks like to the sender.
 */
async function dropping(drop: (connection: number, nth: number) => boolean): Promise<{ url: string; seen: Array<[number, string]> }> {
  const seen: Array<[number, string]> = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createTcpServer((socket) => {
    const connection = ++connections;
    sockets.add(socket);
    let nth = 0;
    let buffered = '';
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      buffered += chunk;
      for (;;) {
        const head = buffered.indexOf('\r\n\r\n');
        if (head < 0) return;
        const length = Number(/content-length: *(\d+)/i.exec(buffered.slice(0, head))?.[1] ?? 0);
        if (buffered.length < head + 4 + length) return;
        seen.push([connection, buffered.slice(head + 4, head + 4 + length)]);
        buffered = buffered.slice(head + 4 + length);
        if (drop(connection, ++nth)) return void socket.destroy();
        socket.write('HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n');
      }
    });
  });
  tcpServers.push({ server, sockets });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, seen };
}

function client(allowPrivate: boolean): WebhookHttp {
  const c = new WebhookHttp(allowPrivate);
  clients.push(c);
  return c;
}

const post = (c: WebhookHttp, url: string, body = '{"n":1}', opts: { stop?: AbortSignal; timeoutMs?: number } = {}) =>
  c.post({ url, body, headers: { 'content-type': 'application/json' }, stop: opts.stop ?? new AbortController().signal, timeoutMs: opts.timeoutMs ?? 2000 });

const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('WebhookHttp', () => {
  it('posts each body once, over one kept-alive connection, and gives any answer as a status without following a redirect', async () => {
    const r = await receiver((body) => (body.includes('"n":3') ? 302 : body.includes('"n":2') ? 500 : 204));
    const c = client(true);
    const pending = timeouts();
    expect(await post(c, r.url, '{"n":1}')).toEqual({ responseStatus: 204 });
    expect(await post(c, r.url, '{"n":2}')).toEqual({ responseStatus: 500 });
    expect(await post(c, r.url, '{"n":3}')).toEqual({ responseStatus: 302 });
    expect(r.bodies).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
    expect(new Set(r.ports).size).toBe(1);
    // Each attempt's deadline is let go of when its exchange is over.
    await new Promise((res) => setTimeout(res, 20));
    expect(timeouts()).toBeLessThanOrEqual(pending);
  });

  it('reports a receiver that does not answer in time, a refused connection, and a stop', async () => {
    const silent = await receiver(() => undefined);
    const c = client(true);
    const started = Date.now();
    expect(await post(c, silent.url, '{}', { timeoutMs: 200 })).toEqual({ error: 'no answer within 200 ms' });
    expect(Date.now() - started).toBeLessThan(1500);
    const closed = await receiver(() => 204);
    const port = new URL(closed.url).port;
    servers.pop()!.close();
    expect(await post(c, `http://127.0.0.1:${port}/`)).toEqual({ error: 'ECONNREFUSED' });
    const stop = new AbortController();
    const attempt = post(c, silent.url, '{}', { stop: stop.signal, timeoutMs: 5000 });
    setTimeout(() => stop.abort(), 50);
    const result = await attempt;
    expect('error' in result && result.error).not.toMatch(/no answer/);
  });

  it('refuses private addresses, literal or by name, unless allowed, and sends nothing there', async () => {
    const r = await receiver(() => 204);
    const port = new URL(r.url).port;
    const guarded = client(false);
    expect(await post(guarded, `http://127.0.0.1:${port}/`)).toEqual({ error: 'refused: 127.0.0.1 resolves to a private address' });
    expect(await post(guarded, `http://[::1]:${port}/`)).toEqual({ error: 'refused: ::1 resolves to a private address' });
    // URL writes it [::ffff:7f00:1]; net connects to 127.0.0.1 without a lookup.
    expect(await post(guarded, `http://[::ffff:127.0.0.1]:${port}/`)).toEqual({ error: 'refused: ::ffff:7f00:1 resolves to a private address' });
    expect(await post(guarded, `http://localhost:${port}/`)).toEqual({ error: 'refused: localhost resolves to a private address' });
    expect(r.bodies).toEqual([]);
    expect(await post(client(true), `http://localhost:${port}/`)).toEqual({ responseStatus: 204 });
    expect(r.bodies).toHaveLength(1);
  });

  it('lets a connection go to a public address in either shape net asks for (one address, or all), and refuses a private one', async () => {
    // dns.lookup answers an address given as the name without asking a resolver (none here).
    const ask = (name: string, all: boolean) =>
      new Promise<{ err: Error | null; address: unknown; family?: number }>((resolve) =>
        guardedLookup(name, { all } as never, (err: Error | null, address: unknown, family?: number) => resolve({ err, address, family })),
      );
    expect(await ask('93.184.216.34', true)).toEqual({ err: null, address: [{ address: '93.184.216.34', family: 4 }], family: undefined });
    expect(await ask('93.184.216.34', false)).toEqual({ err: null, address: '93.184.216.34', family: 4 });
    expect((await ask('10.0.0.1', true)).err?.message).toBe('refused: 10.0.0.1 resolves to a private address');
    expect((await ask('::1', false)).err?.message).toBe('refused: ::1 resolves to a private address');
  });

  it('sends a request again, once, on a new connection when the receiver dropped the kept-alive one it went out on', async () => {
    const r = await dropping((connection, nth) => connection === 1 && nth === 2);
    const c = client(true);
    expect(await post(c, r.url, '{"n":1}')).toEqual({ responseStatus: 204 });
    expect(await post(c, r.url, '{"n":2}')).toEqual({ responseStatus: 204 });
    expect(r.seen).toEqual([
      [1, '{"n":1}'],
      [1, '{"n":2}'],
      [2, '{"n":2}'],
    ]);
  });

  it('does not send again when a new connection is dropped, nor a second time', async () => {
    const fresh = await dropping(() => true);
    const c = client(true);
    expect(await post(c, fresh.url, '{"n":1}')).toEqual({ error: 'ECONNRESET' });
    expect(fresh.seen).toEqual([[1, '{"n":1}']]);
    const twice = await dropping((connection, nth) => connection > 1 || nth === 2);
    expect(await post(c, twice.url, '{"n":1}')).toEqual({ responseStatus: 204 });
    expect(await post(c, twice.url, '{"n":2}')).toEqual({ error: 'ECONNRESET' });
    expect(twice.seen).toEqual([
      [1, '{"n":1}'],
      [1, '{"n":2}'],
      [2, '{"n":2}'],
    ]);
  });
});
