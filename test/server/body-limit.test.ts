// A body over MAX_PAYLOAD_BYTES is refused without being read: a declared Content-Length over the
// limit gets its 413 at once, a chunked body the moment it passes the limit, and the connection
// closes (`Connection: close`) so the client stops sending. Raw sockets, to send what fetch will not.
import net from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { OPERATOR_TOKEN, startServer } from '../support/harness';

const LIMIT = 16 * 1024;

interface Sent {
  status: number;
  headers: Record<string, string>;
  json: any;
  /** Body bytes written when the answer came. */
  sentBeforeAnswer: number;
  answeredAfterMs: number;
  /** Whether the server closed the connection (within 3 s of the answer). */
  closed: boolean;
}

/**
 * Sends `head`, then body pieces of `piece` bytes every `everyMs` (as chunks when `chunked`, then
 * the last chunk), up to `total` bytes, and reads the answer: it resolves once the server has
 * answered and then closed, or 3 s after the answer; no answer in 10 s rejects.
 */
function send(url: string, head: string, opts: { piece: number; everyMs: number; total: number; chunked?: boolean; first?: string }): Promise<Sent> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    onTestFinished(() => void socket.destroy());
    const t0 = Date.now();
    let sent = 0;
    let text = '';
    let answer: Omit<Sent, 'closed'> | undefined;
    const write = (bytes: string) => {
      if (socket.writable) socket.write(opts.chunked ? `${Buffer.byteLength(bytes).toString(16)}\r\n${bytes}\r\n` : bytes);
    };
    let ended = false;
    const timer = setInterval(() => {
      if (sent >= opts.total) {
        // The last chunk, once: the body is complete.
        if (opts.chunked && !ended && socket.writable) socket.write('0\r\n\r\n');
        ended = true;
        return;
      }
      const n = Math.min(opts.piece, opts.total - sent);
      sent += n;
      write(' '.repeat(n));
    }, opts.everyMs);
    const finish = (closed: boolean) => {
      clearInterval(timer);
      socket.destroy();
      if (answer) resolve({ ...answer, closed });
      else reject(new Error(`no answer after ${Date.now() - t0} ms (${sent} body bytes written): ${JSON.stringify(text.slice(0, 200))}`));
    };
    socket.on('data', (d) => {
      text += d.toString('utf8');
      const at = text.indexOf('\r\n\r\n');
      if (answer || at < 0) return;
      const [statusLine, ...lines] = text.slice(0, at).split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      const length = Number(headers['content-length']);
      if (text.length - at - 4 < length) return;
      answer = {
        status: Number(statusLine!.split(' ')[1]),
        headers,
        json: JSON.parse(text.slice(at + 4, at + 4 + length)),
        sentBeforeAnswer: sent,
        answeredAfterMs: Date.now() - t0,
      };
      setTimeout(() => finish(false), 3000);
    });
    socket.on('close', () => finish(true));
    // No answer in 10 s is a failure (before the fix, a declared 1 GB body got none in minutes).
    setTimeout(() => answer || finish(false), 10_000);
    socket.on('error', () => {}); // a reset after the answer still leaves the answer read
    socket.write(head);
    if (opts.first) {
      sent += Buffer.byteLength(opts.first);
      write(opts.first);
    }
  });
}

function patch(id: string, length: string, token = OPERATOR_TOKEN): string {
  return `PATCH /api/v1/licenses/${id} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\n${length}\r\n`;
}

describe('bodies over MAX_PAYLOAD_BYTES', () => {
  it('a declared Content-Length over the limit is answered 413 at once, with Connection: close, and nothing changes', async () => {
    const { url, api } = await startServer({ config: { maxPayloadBytes: LIMIT } });
    const { license } = await api.setup({ seats: 2 });
    // 1 GB declared, a few bytes sent (and then a trickle that never gets near it).
    const r = await send(url, patch(license.id, 'Content-Length: 1000000000\r\n'), { first: '{"seats":7}', piece: 1024, everyMs: 50, total: 1_000_000_000 });
    expect(r.status).toBe(413);
    expect(r.json.error).toMatchObject({ code: 'payload_too_large', message: `the body is larger than ${LIMIT} bytes` });
    expect(r.headers.connection).toBe('close');
    expect(r.answeredAfterMs).toBeLessThan(1000);
    expect(r.sentBeforeAnswer).toBeLessThan(LIMIT);
    expect(r.closed).toBe(true);
    expect((await api.ok('GET', `/licenses/${license.id}`)).seats).toBe(2);
  });

  it('a declared 1 MB body sent in full gets its 413 before it is through, and the connection closes', async () => {
    const { url, api } = await startServer({ config: { maxPayloadBytes: LIMIT } });
    const { license } = await api.setup({ seats: 2 });
    const total = 1024 * 1024;
    const r = await send(url, patch(license.id, `Content-Length: ${total}\r\n`), { piece: 16 * 1024, everyMs: 20, total });
    expect(r.status).toBe(413);
    expect(r.headers.connection).toBe('close');
    // 64 pieces 20 ms apart take over a second; the answer comes with the first.
    expect(r.sentBeforeAnswer).toBeLessThan(total / 4);
    expect(r.closed).toBe(true);
  });

  it('a chunked body is read only up to the limit: 413 once it passes it, the rest never read', async () => {
    const { url, api } = await startServer({ config: { maxPayloadBytes: LIMIT } });
    const { license } = await api.setup({ seats: 2 });
    const total = 4 * 1024 * 1024;
    const r = await send(url, patch(license.id, 'Transfer-Encoding: chunked\r\n'), { chunked: true, first: '{"name":"', piece: 4096, everyMs: 10, total });
    expect(r.status).toBe(413);
    expect(r.json.error.code).toBe('payload_too_large');
    expect(r.headers.connection).toBe('close');
    expect(r.sentBeforeAnswer).toBeLessThan(LIMIT + 64 * 1024);
    expect(r.closed).toBe(true);
    expect((await api.ok('GET', `/licenses/${license.id}`)).seats).toBe(2);

    // Under the limit, chunked is read as ever.
    const ok = await send(url, patch(license.id, 'Transfer-Encoding: chunked\r\nConnection: close\r\n'), { chunked: true, first: '{"seats":3}', piece: 0, everyMs: 20, total: 0 });
    expect(ok.status).toBe(200);
  });

  it('an answer decided before the body (a bad token, an unknown path, a GET) closes the connection of a body declared over the limit', async () => {
    const { url } = await startServer({ config: { maxPayloadBytes: LIMIT } });
    const big = 'Content-Type: application/json\r\nContent-Length: 1000000000\r\n';
    for (const [head, status] of [
      [`PATCH /api/v1/licenses/x HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\n${big}\r\n`, 401],
      [`POST /api/v1/nowhere HTTP/1.1\r\nHost: x\r\n${big}\r\n`, 404],
      [`GET /api/v1/licenses HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${OPERATOR_TOKEN}\r\n${big}\r\n`, 400],
    ] as const) {
      const r = await send(url, head, { first: '{', piece: 1024, everyMs: 50, total: 1_000_000_000 });
      expect(r.status, head).toBe(status);
      expect(r.headers.connection, head).toBe('close');
      expect(r.closed, head).toBe(true);
    }
  });
});
