// Webhook delivery in batches (server/seats/webhook-sender.ts) through a real server and a real
// local receiver: more events than one batch reads arrive one per POST, each once and in order,
// over one kept-alive connection; an attempt failing mid-batch is retried before anything after
// it; the delivery log holds one entry per event in order and the cursor ends at the last row.
// And the private-address guard where the connection is made: a host name that resolves to
// loopback is refused before anything is sent.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { expect, it } from 'vitest';
import { SqliteSeatStore } from '../../server/store/sqlite-store';
import { granted, sign, sleep, startServer, tempDir, until } from '../support/harness';
import { startReceiver } from '../support/webhook-receiver';
import { claimant } from '../store/store-dialects';

const FAST_WEBHOOKS = { WEBHOOK_ALLOW_PRIVATE: 'on', WEBHOOK_RETRY_BASE_MS: '100', WEBHOOK_RETRY_MAX_MS: '400', WEBHOOK_POLL_MS: '50', WEBHOOK_TIMEOUT_MS: '2000' };
const EVENTS = 250;

it('delivers more events than a batch holds one per POST, in order, each once, over one connection, retrying one that fails mid-batch', { timeout: 60_000 }, async () => {
  const store = SqliteSeatStore.open(path.join(tempDir(), 'seats.db'));
  await store.migrate();
  const { api } = await startServer({ store, env: FAST_WEBHOOKS });
  const { license, admin } = await api.setup({ seats: 1000 });
  // The 150th request (in the second batch) gets a 500 once.
  const receiver = await startReceiver((_hit, nth) => (nth === 149 ? 500 : 204));
  const hook = (await admin.ok('POST', '/webhooks', { url: receiver.url, events: ['session.started'], licenseId: license.id })) as { id: string };
  // Written straight into the store, all at once, so the worker finds more than a batch waiting.
  const sessions: string[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const out = await store.admit({ licenseId: license.id, socketId: randomUUID(), nodeId: 'elsewhere', claimant: claimant(`c${i}`), now: Date.now() });
    expect(out.kind).toBe('granted');
    sessions.push((out as { session: { id: string } }).session.id);
  }
  const lastRow = (await store.webhooks.outboxMax()).seat;
  await until(() => receiver.accepted().length >= EVENTS, 20_000);
  // The cursor ends at the last grant's row (a row after it, an ending, is not subscribed to).
  await until(async () => (await store.webhooks.getWebhook(hook.id))!.seatCursor === lastRow, 5000);
  await sleep(200);

  const accepted = receiver.accepted();
  expect(accepted.map((h) => h.body.data.sessionId)).toEqual(sessions);
  expect(new Set(accepted.map((h) => h.body.id)).size).toBe(EVENTS);
  // One event per request; the failed one sent again, the same bytes, before the next event.
  expect(receiver.hits).toHaveLength(EVENTS + 1);
  expect(receiver.hits[149]!.status).toBe(500);
  expect(receiver.hits[150]!.raw).toBe(receiver.hits[149]!.raw);
  expect(new Set(receiver.hits.map((h) => h.remotePort)).size).toBe(1);

  const { deliveries } = await admin.ok('GET', `/webhooks/${hook.id}/deliveries?limit=500`);
  expect(deliveries).toHaveLength(EVENTS);
  expect([...deliveries].reverse().map((d: { eventId: string }) => d.eventId)).toEqual(accepted.map((h) => h.body.id));
  expect(deliveries.every((d: { status: string }) => d.status === 'delivered')).toBe(true);
  const retried = deliveries.filter((d: { attempts: number }) => d.attempts !== 1);
  expect(retried).toEqual([expect.objectContaining({ eventId: receiver.hits[149]!.body.id, attempts: 2, responseStatus: 204 })]);
});

it('refuses a host name that resolves to a private address where the connection is made, and sends nothing', async () => {
  const store = SqliteSeatStore.open(path.join(tempDir(), 'seats.db'));
  await store.migrate();
  const receiver = await startReceiver();
  // Written straight into the store, as a webhook made while private addresses were allowed.
  const port = new URL(receiver.url).port;
  await store.webhooks.createWebhook({ id: 'wh_named', tenantId: null, licenseId: null, url: `http://localhost:${port}/hook`, events: ['session.started'], secret: 's', createdAt: Date.now(), concurrency: 1, batchSize: 1 });
  const { url, api } = await startServer({ store, env: { WEBHOOK_POLL_MS: '50', WEBHOOK_TIMEOUT_MS: '300', WEBHOOK_CLAIM_MS: '1000', WEBHOOK_RETRY_BASE_MS: '100' } });
  const { license } = await api.setup();
  await granted(url, await sign(license, { sid: 'a' }));
  await until(async () => (await api.ok('GET', '/webhooks/wh_named/deliveries')).deliveries[0]?.attempts >= 2);
  const [d] = (await api.ok('GET', '/webhooks/wh_named/deliveries')).deliveries;
  expect(d).toMatchObject({ status: 'pending', responseStatus: null, error: 'refused: localhost resolves to a private address' });
  expect(receiver.hits).toEqual([]);
});
