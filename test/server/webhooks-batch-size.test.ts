// A webhook's `batchSize` (server/seats/webhook-sender.ts) through a real server and a real local
// receiver: above 1, each POST's body is a JSON array of up to that many events, signed over the
// array, in outbox order (a session's events in the order they happened, within a request and
// across requests in flight at once), each event once and logged one by one; a request that fails
// is sent again whole, later events waiting for it. The default stays one event per body.
import { expect, it } from 'vitest';
import { sleep, until } from '../support/harness';
import { type Hit, signatureValid, startReceiver } from '../support/webhook-receiver';
import { changedOnAnotherNode, setup, startAndEnd } from '../support/webhook-sessions';

type Event = { id: string; type: string; data: { sessionId: string } };
const eventsOf = (hit: Pick<Hit, 'raw'>): Event[] => JSON.parse(hit.raw) as Event[];

it('sends up to `batchSize` events per request as a signed JSON array, in outbox order, each once, logged one by one', { timeout: 60_000 }, async () => {
  const { store, license, admin } = await setup();
  const receiver = await startReceiver(() => 204);
  const made = await admin.ok('POST', '/webhooks', { url: receiver.url, events: ['session.started', 'session.ended'], licenseId: license.id, batchSize: 10 });
  expect(made).toMatchObject({ batchSize: 10, concurrency: 1 });
  expect((await admin.ok('GET', '/webhooks')).webhooks).toEqual([expect.objectContaining({ id: made.id, batchSize: 10 })]);
  expect((await admin.ok('GET', '/audit')).audit.find((e: any) => e.action === 'webhook.create').detail).toMatchObject({ batchSize: 10, concurrency: 1 });

  const sessions = await startAndEnd(store, admin, license.id, 24);
  const lastRow = (await store.webhooks.outboxMax()).seat;
  await until(() => receiver.hits.flatMap(eventsOf).length >= 48, 20_000);
  await until(async () => (await store.webhooks.getWebhook(made.id))!.seatCursor === lastRow, 5000);
  await sleep(200);

  for (const hit of receiver.hits) {
    expect(hit.raw.startsWith('[')).toBe(true);
    expect(eventsOf(hit).length).toBeGreaterThan(0);
    expect(eventsOf(hit).length).toBeLessThanOrEqual(10);
    expect(hit.headers['content-type']).toBe('application/json');
    expect(signatureValid(made.secret, hit.headers['seat-signature'], hit.raw)).toBe(true);
  }
  // Fewer requests than events: they went in batches.
  expect(receiver.hits.length).toBeLessThan(48);
  expect(receiver.hits.some((h) => eventsOf(h).length > 1)).toBe(true);
  // Each event once, in the order they happened (one request at a time: arrival order is outbox order).
  const sent = receiver.hits.flatMap(eventsOf);
  expect(new Set(sent.map((e) => e.id)).size).toBe(48);
  const outboxOrder = [...sessions.map((s) => `started ${s}`), ...sessions.map((s) => `ended ${s}`)];
  expect(sent.map((e) => `${e.type.split('.')[1]} ${e.data.sessionId}`)).toEqual(outboxOrder);
  // The delivery log has each event, delivered at its first attempt, in outbox order.
  const { deliveries } = await admin.ok('GET', `/webhooks/${made.id}/deliveries?limit=500`);
  expect([...deliveries].reverse().map((d: { eventId: string }) => d.eventId)).toEqual(sent.map((e) => e.id));
  expect(deliveries.every((d: { status: string; attempts: number }) => d.status === 'delivered' && d.attempts === 1)).toBe(true);
});

it('sends a failed request again whole, and the events after it only once it is answered', { timeout: 60_000 }, async () => {
  const { store, license, admin } = await setup();
  // The first request fails.
  const receiver = await startReceiver((_hit, nth) => (nth === 0 ? 500 : 204));
  const made = await admin.ok('POST', '/webhooks', { url: receiver.url, events: ['session.started', 'session.ended'], licenseId: license.id, batchSize: 5 });
  await startAndEnd(store, admin, license.id, 6);
  await until(() => receiver.accepted().flatMap(eventsOf).length >= 12, 20_000);
  await sleep(300);

  const [failed, retry] = receiver.hits;
  const failedIds = eventsOf(failed!).map((e) => e.id);
  // The retry carries the failed request's events first, in their order (it may carry more after them).
  expect(eventsOf(retry!).slice(0, failedIds.length).map((e) => e.id)).toEqual(failedIds);
  // Nothing after the failed events went out before the retry.
  expect(failed!.status).toBe(500);
  // Each event accepted once.
  const accepted = receiver.accepted().flatMap(eventsOf);
  expect(accepted).toHaveLength(12);
  expect(new Set(accepted.map((e) => e.id)).size).toBe(12);
  const { deliveries } = await admin.ok('GET', `/webhooks/${made.id}/deliveries?limit=500`);
  expect(deliveries).toHaveLength(12);
  const retried = deliveries.filter((d: { attempts: number }) => d.attempts === 2);
  expect(retried.map((d: { eventId: string }) => d.eventId).sort()).toEqual([...failedIds].sort());
  expect(deliveries.every((d: { status: string; responseStatus: number }) => d.status === 'delivered' && d.responseStatus === 204)).toBe(true);
});

it('with `concurrency`, sends several batches at once, never one session in two of them, each session in order', { timeout: 60_000 }, async () => {
  const { store, license, admin } = await setup();
  const log: Array<{ what: 'in' | 'out'; request: number; events: Event[] }> = [];
  let inFlight = 0;
  let most = 0;
  let requests = 0;
  const receiver = await startReceiver(async (hit) => {
    const request = requests++;
    const events = eventsOf(hit);
    log.push({ what: 'in', request, events });
    most = Math.max(most, ++inFlight);
    await sleep(40);
    inFlight--;
    log.push({ what: 'out', request, events });
    return 204;
  });
  // Batches of 3 cut the pairs below: a session's end is the first event of the next request.
  await admin.ok('POST', '/webhooks', { url: receiver.url, events: ['session.started', 'session.ended'], licenseId: license.id, concurrency: 3, batchSize: 3 });
  const sessions = await startAndEnd(store, admin, license.id, 24);
  // And some whose start and end are next to each other in the outbox.
  for (let i = 0; i < 6; i++) sessions.push(...(await startAndEnd(store, admin, license.id, 1)));
  await until(() => receiver.hits.flatMap(eventsOf).length >= 60, 20_000);
  await sleep(200);

  expect(most).toBeGreaterThan(1);
  expect(most).toBeLessThanOrEqual(3);
  const sent = receiver.hits.flatMap(eventsOf);
  expect(sent).toHaveLength(60);
  expect(new Set(sent.map((e) => e.id)).size).toBe(60);
  for (const hit of receiver.hits) expect(eventsOf(hit).length).toBeLessThanOrEqual(3);
  // A session's end is after its start in the same request, or went out after the start's request was answered.
  const requestOf = (s: string, type: string) => log.find((e) => e.what === 'in' && e.events.some((x) => x.data.sessionId === s && x.type === type))!;
  for (const s of sessions) {
    const start = requestOf(s, 'session.started');
    const end = requestOf(s, 'session.ended');
    if (start.request === end.request) {
      const ids = start.events.map((e) => `${e.type} ${e.data.sessionId}`);
      expect(ids.indexOf(`session.ended ${s}`)).toBeGreaterThan(ids.indexOf(`session.started ${s}`));
    } else {
      const startAnswered = log.findIndex((e) => e.what === 'out' && e.request === start.request);
      expect(log.indexOf(end)).toBeGreaterThan(startAnswered);
    }
  }
});

it('sends one event per body unless asked', { timeout: 60_000 }, async () => {
  const { store, license, admin } = await setup();
  const receiver = await startReceiver(() => 204);
  const made = await admin.ok('POST', '/webhooks', { url: receiver.url, events: ['session.started', 'session.ended'], licenseId: license.id });
  expect(made.batchSize).toBe(1);
  await startAndEnd(store, admin, license.id, 5);
  await until(() => receiver.accepted().length >= 10, 20_000);
  for (const hit of receiver.hits) expect(JSON.parse(hit.raw)).toMatchObject({ id: expect.any(String), type: expect.stringMatching(/^session\./) });
});

it("changes a webhook's batch size in place (PATCH): its next events go out in batches, its log stays; checked, scoped, audited", { timeout: 60_000 }, async () => {
  const { store, license, admin, api } = await setup();
  const receiver = await startReceiver(() => 204);
  const made = await admin.ok('POST', '/webhooks', { url: receiver.url, events: ['session.started', 'session.ended'], licenseId: license.id, concurrency: 2 });
  await startAndEnd(store, admin, license.id, 3);
  await until(() => receiver.accepted().length >= 6, 20_000);
  expect(receiver.hits.every((h) => !h.raw.startsWith('['))).toBe(true);

  const patched = await admin.ok('PATCH', `/webhooks/${made.id}`, { batchSize: 20 });
  // The concurrency, not given, stays.
  expect(patched).toMatchObject({ id: made.id, batchSize: 20, concurrency: 2 });
  expect((await admin.ok('GET', '/webhooks')).webhooks).toEqual([expect.objectContaining({ id: made.id, batchSize: 20, concurrency: 2 })]);
  const entry = (await admin.ok('GET', '/audit')).audit.find((e: any) => e.action === 'webhook.update');
  expect(entry.detail).toMatchObject({ webhookId: made.id, batchSize: 20, concurrency: 2, before: { batchSize: 1, concurrency: 2 } });
  const before = receiver.hits.length;
  await startAndEnd(store, admin, license.id, 10);
  await until(() => receiver.hits.slice(before).flatMap(eventsOf).length >= 20, 20_000);
  expect(receiver.hits.slice(before).every((h) => h.raw.startsWith('['))).toBe(true);
  expect(receiver.hits.length - before).toBeLessThan(20);
  const { deliveries } = await admin.ok('GET', `/webhooks/${made.id}/deliveries?limit=500`);
  expect(deliveries).toHaveLength(26);

  // Both at once.
  expect(await admin.ok('PATCH', `/webhooks/${made.id}`, { batchSize: 1, concurrency: 1 })).toMatchObject({ batchSize: 1, concurrency: 1 });
  // Bad input changes nothing.
  for (const [body, status] of [[{ batchSize: 0 }, 422], [{ batchSize: 101 }, 422], [{ batchSize: 2.5 }, 400], [{ batchSize: '5' }, 400], [{ batchSize: 5, concurrency: 0 }, 422]] as const) {
    const r = await admin.call('PATCH', `/webhooks/${made.id}`, body);
    expect(r.status, JSON.stringify(body)).toBe(status);
    expect(r.body.error.code).toBe(status === 422 ? 'out_of_range' : 'bad_request');
  }
  for (const [batchSize, status] of [[0, 422], [101, 422], [1.5, 400]] as const) {
    const r = await admin.call('POST', '/webhooks', { url: receiver.url, events: ['session.started'], licenseId: license.id, batchSize });
    expect(r.status, String(batchSize)).toBe(status);
  }
  expect((await admin.ok('GET', '/webhooks')).webhooks).toEqual([expect.objectContaining({ id: made.id, batchSize: 1, concurrency: 1 })]);
  const other = await api.setup();
  expect((await other.admin.call('PATCH', `/webhooks/${made.id}`, { batchSize: 2 })).status).toBe(403);
  expect((await admin.ok('GET', '/webhooks')).webhooks[0].batchSize).toBe(1);
});

it('takes up a batch size changed on another node at its next claim renewal', { timeout: 60_000 }, async () => {
  const receiver = await startReceiver(() => 204);
  // The first event alone, the rest in arrays.
  await changedOnAnotherNode(receiver.url, { batchSize: 50 }, () => (receiver.hits.length ? 1 + receiver.hits.slice(1).flatMap(eventsOf).length : 0));
  expect(receiver.hits.slice(1).every((h) => h.raw.startsWith('['))).toBe(true);
});
