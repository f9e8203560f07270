// A real webhook receiver on a free local port for the webhook suites: records every request
// (raw body, headers, the status it answered) and answers as the test says, so a test can fail the
// first attempts, be slow, or accept. Stopped after the test.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';

export interface Hit {
  raw: string;
  body: { id: string; type: string; at: string; tenantId: string; licenseId: string; data: Record<string, any> };
  headers: IncomingMessage['headers'];
  /** What the receiver answered. */
  status: number;
  at: number;
  /** The sender's port: the same on every hit while one kept-alive connection carries them. */
  remotePort: number;
}

export interface Receiver {
  url: string;
  hits: Hit[];
  /** The hits answered with a 2xx, in arrival order. */
  accepted(): Hit[];
  /** Decides each answer (default 200); may wait first (a slow receiver). */
  respond: (hit: Omit<Hit, 'status'>, nth: number) => number | Promise<number>;
  close(): Promise<void>;
}

export async function startReceiver(respond: Receiver['respond'] = () => 200, opts: { untilTestEnds?: boolean } = {}): Promise<Receiver> {
  const receiver = { hits: [] as Hit[], respond } as Receiver;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const partial = { raw, body: JSON.parse(raw), headers: req.headers, at: Date.now(), remotePort: req.socket.remotePort ?? 0 };
      const status = await receiver.respond(partial, receiver.hits.length);
      receiver.hits.push({ ...partial, status });
      if (!res.destroyed) res.writeHead(status, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  receiver.accepted = () => receiver.hits.filter((h) => h.status >= 200 && h.status < 300);
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  if (opts.untilTestEnds !== false) onTestFinished(() => receiver.close());
  return receiver;
}

/** Checks `Seat-Signature` as a receiver would: `t=…,v1=` HMAC-SHA256 of "<t>.<raw body>", compared in constant time. */
export function signatureValid(secret: string, header: string | string[] | undefined, raw: string): boolean {
  const parts = Object.fromEntries(String(header ?? '').split(',').map((p) => p.split('=') as [string, string]));
  if (!parts.t || !parts.v1) return false;
  const expected = createHmac('sha256', secret).update(`${parts.t}.${raw}`).digest();
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
