// The README's receiver (examples/webhook-receiver.ts, `npm run webhook-receiver`) as a user runs
// it: it accepts the server's signed deliveries and prints them, and refuses a forged, a stale or
// an unsigned request.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:net';
import path from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import { startServer, until } from '../support/harness';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** A port free a moment ago: the webhook's URL must be known before the receiver gets its secret. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

it('the example receiver verifies Seat-Signature: deliveries accepted, forgeries refused', { timeout: 60_000 }, async () => {
  const { api } = await startServer({ env: { WEBHOOK_ALLOW_PRIVATE: 'on', WEBHOOK_POLL_MS: '50', WEBHOOK_RETRY_BASE_MS: '100', WEBHOOK_RETRY_MAX_MS: '200' } });
  const { license, admin } = await api.setup({ seats: 2 });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const hook = await admin.ok('POST', '/webhooks', { url, events: ['license.changed'], licenseId: license.id });

  let out = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/webhook-receiver.ts', hook.secret, String(port)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  onTestFinished(() => void child.kill('SIGKILL'));
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (out += d));
  await until(() => out.includes('listening on'), 20_000);

  // A real delivery (retried until the receiver listens) is accepted and printed.
  await admin.ok('PATCH', `/licenses/${license.id}`, { seats: 3 });
  await until(() => out.includes('license.changed'), 10_000);
  expect(out).toMatch(new RegExp(`license\\.changed  ${license.id}  \\{"changes":\\{"seats":3\\}`));
  // Logged once the receiver's answer is in (the sender writes the log after the POST returns).
  let deliveries: unknown[] = [];
  await until(async () => (deliveries = (await admin.ok('GET', `/webhooks/${hook.id}/deliveries`)).deliveries).length > 0, 10_000);
  expect(deliveries[0]).toMatchObject({ status: 'delivered', responseStatus: 204 });

  // Forged (another secret), stale (t an hour ago) and unsigned requests are refused with 400.
  const body = JSON.stringify({ id: 'evt_x', type: 'license.changed', at: new Date().toISOString(), tenantId: 't', licenseId: 'l', data: {} });
  const sig = (secret: string, t: number) => `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
  const now = Math.floor(Date.now() / 1000);
  const post = (headers: Record<string, string>) => fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  expect((await post({ 'seat-signature': sig('whsec_forged', now) })).status).toBe(400);
  expect((await post({ 'seat-signature': sig(hook.secret, now - 3600) })).status).toBe(400);
  expect((await post({})).status).toBe(400);
  // The same, signed now with the secret, is accepted.
  expect((await post({ 'seat-signature': sig(hook.secret, now) })).status).toBe(204);
  expect(out.match(/refused:/g)).toHaveLength(3);

  // In batches (an array per request), each event printed in order.
  await admin.ok('PATCH', `/webhooks/${hook.id}`, { batchSize: 10 });
  await admin.ok('PATCH', `/licenses/${license.id}`, { seats: 4 });
  await admin.ok('PATCH', `/licenses/${license.id}`, { seats: 5 });
  await until(() => out.includes('{"changes":{"seats":5}'), 10_000);
  expect(out.indexOf('{"changes":{"seats":4}')).toBeGreaterThan(-1);
  expect(out.indexOf('{"changes":{"seats":4}')).toBeLessThan(out.indexOf('{"changes":{"seats":5}'));
  expect(out.match(/refused:/g)).toHaveLength(3);
});
