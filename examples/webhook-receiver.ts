// A webhook receiver that checks `Seat-Signature` before it trusts a delivery, and prints each
// event on one line: `npm run webhook-receiver -- <secret> [port]`. Register it with
// `POST /api/v1/webhooks { url: "http://<this host>:<port>/", events: [...] }` and pass the
// `secret` that reply carries. (A receiver on this machine needs WEBHOOK_ALLOW_PRIVATE=on on the
// server: by default webhooks may not point at loopback or private addresses.)
//
// The check, as for Stripe's signatures:
// 1. Split the header `t=<unix seconds>,v1=<hex>` into its parts.
// 2. Compute HMAC-SHA256 with the webhook's secret over `<t>.<the raw body, byte for byte>`; parse
//    the JSON only after (re-serialising it would change the bytes).
// 3. Compare with `v1` in constant time (timingSafeEqual), so the comparison leaks nothing.
// 4. Refuse a `t` more than TOLERANCE_SEC from now: a captured delivery cannot be replayed later.
// Answer 2xx quickly once the event is safely stored: anything else (or no answer within 10 s) is
// retried with backoff for 24 hours. Deliveries are at least once: drop an `id` already handled.
// A webhook made with `batchSize` above 1 sends an array of events instead of one: both are taken.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const TOLERANCE_SEC = 300;
const [secret, port = '4000'] = process.argv.slice(2);
if (!secret) {
  process.stderr.write('usage: npm run webhook-receiver -- <secret> [port]\n');
  process.exit(2);
}

/** True when `header` signs `raw` with `secret` at a time within the tolerance of `nowSec`. */
export function verifySeatSignature(secret: string, header: string | undefined, raw: Buffer, nowSec = Date.now() / 1000): boolean {
  const parts = new Map((header ?? '').split(',').map((p) => p.trim().split('=', 2) as [string, string]));
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1') ?? '';
  if (!Number.isInteger(t) || !/^[0-9a-f]{64}$/.test(v1)) return false;
  if (Math.abs(nowSec - t) > TOLERANCE_SEC) return false;
  const expected = createHmac('sha256', secret).update(`${t}.`).update(raw).digest();
  return timingSafeEqual(expected, Buffer.from(v1, 'hex'));
}

const handled = new Set<string>();
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks);
    if (req.method !== 'POST' || !verifySeatSignature(secret, req.headers['seat-signature'] as string | undefined, raw)) {
      console.log(`refused: ${req.method} ${req.url} with a missing, wrong or stale Seat-Signature`);
      return void res.writeHead(400).end();
    }
    type SeatEvent = { id: string; type: string; at: string; licenseId: string; data: unknown };
    const body = JSON.parse(raw.toString('utf8')) as SeatEvent | SeatEvent[];
    // In the order they happened; the answer covers the whole request.
    for (const event of Array.isArray(body) ? body : [body]) {
      if (handled.has(event.id)) console.log(`again: ${event.id} (a redelivery; already handled)`);
      else console.log(`${event.at}  ${event.type}  ${event.licenseId}  ${JSON.stringify(event.data)}`);
      handled.add(event.id);
    }
    res.writeHead(204).end();
  });
});
server.listen(Number(port), () => {
  const { port: bound } = server.address() as AddressInfo;
  console.log(`listening on http://localhost:${bound}/ for signed webhook deliveries`);
});
