// A webhook's `concurrency` (server/seats/webhook-sender.ts) through a real server and a real
// local receiver that takes its time: up to that many events of different sessions are in flight
// at once, never two of one session (each session's arrive in order), each event once, the
// delivery log and the cursor in outbox order; an event that fails holds back its own session's
// later events, not the other sessions' sent with it, and those are not sent again. The default
// stays one at a time.
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { sleep, until } from '../support/harness';
import { startReceiver, type Hit } from '../support/webhook-receiver';
import { changedOnAnotherNode, setup, startAndEnd } from '../support/webhook-sessions';
import { claimant, rng } from '../store/store-dialects';

/** A receiver that holds each request `delayMs` and notes, in one sequence, when each arrived and was answered. */
async function slowReceiver(delayMs: number, fail: (hit: Omit<Hit, 'status'>) => boolean = () => false) {
  const log: Array<{ what: 'in' | 'out'; id: string; session: string; type: string }> = [];
  let inFlight = 0;
  let most = 0;
  const receiver = await startReceiver(async (hit) => {
    const note = { id: hit.body.id, session: String(hit.body.data.sessionId), type: hit.body.type };
    log.push({ what: 'in', ...note });
    most = Math.max(most, ++inFlight);
    await sleep(delayMs);
    inFlight--;
    const status = fail(hit) ? 500 : 204;
    log.push({ what: 'out', ...note });
    return status;
  });
  return { receiver, log, most: () => most };
}

it('sends up to `concurrency` events of different sessions at once, never two of one session, each once, logged in outbox order', { timeout: 60_000 }, async () => {
  const { store, license, admin } = await setup();
  const { receiver, log, most } = await slowReceiver(40);
  const made = await admin.ok('POST', '/webhooks', { url: receiver.url, events: ['session.started', 'session.ended'], licenseId: license.id, concurrency: 4 });
  expect(made.concurrency).toBe(4);
  expect((await admin.ok('GET', '/webhooks')).webhooks).toEqual([expect.objectContaining({ id: made.id, concurrency: 4 })]);
  const audit = await admin.ok('GET', '/audit');
  expect(audit.audit.find((e: any) => e.action === 'webhook.create').detail).toMatchObject({ concurrency: 4 });

  const sessions = await startAndEnd(store, admin, license.id, 24);
  // And some whose start and end are next to each other in the outbox.
  for (let i = 0; i < 4; i++) sessions.push(...(await startAndEnd(store, admin, license.id, 1)));
  const lastRow = (await store.webhooks.outboxMax()).seat;
  await until(() => receiver.accepted().length >= 56, 20_000);
  await until(async () => (await store.webhooks.getWebhook(made.id))!.seatCursor === lastRow, 5000);
  await sleep(200);

  // Several at once, never more than asked.
  expect(most()).toBeGreaterThan(1);
  expect(most()).toBeLessThanOrEqual(4);
  // Each event once.
  expect(receiver.hits).toHaveLength(56);
  expect(new Set(receiver.hits.map((h) => h.body.id)).size).toBe(56);
  // A session's end went out only once its start was answered.
  for (const s of sessions) {
    const startAnswered = log.findIndex((e) => e.what === 'out' && e.session === s && e.type === 'session.started');
    const endSent = log.findIndex((e) => e.what === 'in' && e.session === s && e.type === 'session.ended');
    expect(startAnswered).toBeGreaterThanOrEqual(0);
    expect(endSent).toBeGreaterThan(startAnswered);
  }
  // The log in outbox order (newest first), whatever order the answers came in.
  const { deliveries } = await admin.ok('GET', `/webhooks/${made.id}/deliveries?limit=500`);
  const [many, pairs] = [sessions.slice(0, 24), sessions.slice(24)];
  const outboxOrder = [...many.map((s) => `started ${s}`), ...many.map((s) => `ended ${s}`), ...pairs.flatMap((s) => [`started ${s}`, `ended ${s}`])];
  const byId = new Map(receiver.hits.map((h) => [h.body.id, `${h.body.type.split('.')[1]} ${h.body.data.sessionId}`]));
  expect([...deliveries].reverse().map((d: { eventId: string }) => byId.get(d.eventId))).toEqual(outboxOrder);
  expect(deliveries.every((d: { status: string; attempts: number }) => d.status === 'delivered' && d.attempts === 1)).toBe(true);
});

it('holds back only the failing session: the others sent with it are delivered once, and its end waits for its retry', { timeout: 60_000 }, async () => {
  const { store, license, admin } = await setup();
  let failed = false;
  // The second session's start fails once.
  let second = '';
  const { receiver, log } = await slowReceiver(20, (hit) => {
    if (failed || hit.body.type !== 'session.started' || hit.body.data.sessionId !== second) return false;
    return (failed = true);
  });
  const made = await admin.ok('POST', '/webhooks', { url: receiver.url, events: ['session.started', 'session.ended'], licenseId: license.id, concurrency: 4 });
  const sessions: string[] = [];
  for (let i = 0; i < 4; i++) {
    const o = await store.admit({ licenseId: license.id, socketId: randomUUID(), nodeId: 'elsewhere', claimant: claimant(`f${i}`), now: Date.now() });
    sessions.push((o as { session: { id: string } }).session.id);
  }
  second = sessions[1]!;
  for (const id of sessions) await admin.ok('DELETE', `/sessions/${id}`);
  await until(() => receiver.accepted().length >= 8, 20_000);
  await sleep(300);

  // Eight events, one of them sent twice.
  expect(receiver.hits).toHaveLength(9);
  expect(new Set(receiver.accepted().map((h) => h.body.id)).size).toBe(8);
  const ins = log.filter((e) => e.what === 'in');
  const tries = ins.flatMap((e, i) => (e.session === second && e.type === 'session.started' ? [i] : []));
  expect(tries).toHaveLength(2);
  // The third and fourth sessions' starts went out with the failing one, before its retry.
  for (const s of [sessions[2]!, sessions[3]!]) expect(ins.findIndex((e) => e.session === s && e.type === 'session.started')).toBeLessThan(tries[1]!);
  // Its end went out after the retry was answered.
  const retryAnswered = log.findLastIndex((e) => e.what === 'out' && e.session === second && e.type === 'session.started');
  expect(log.findIndex((e) => e.what === 'in' && e.session === second && e.type === 'session.ended')).toBeGreaterThan(retryAnswered);
  const { deliveries } = await admin.ok('GET', `/webhooks/${made.id}/deliveries?limit=500`);
  expect(deliveries).toHaveLength(8);
  expect(deliveries.filter((d: { attempts: number }) => d.attempts === 2)).toEqual([expect.objectContaining({ status: 'delivered', responseStatus: 204 })]);
});

it('sends one at a time unless asked', { timeout: 60_000 }, async () => {
  const { store, license, admin } = await setup();
  const { receiver, most } = await slowReceiver(10);
  const made = await admin.ok('POST', '/webhooks', { url: receiver.url, events: ['session.started', 'session.ended'], licenseId: license.id });
  expect(made.concurrency).toBe(1);
  await startAndEnd(store, admin, license.id, 10);
  await until(() => receiver.accepted().length >= 20, 20_000);
  expect(most()).toBe(1);
});

it('changes a webhook\'s concurrency in place (PATCH): its next events go out that many at once, its log and cursor stay; checked, scoped, audited', { timeout: 60_000 }, async () => {
  const { store, license, admin, api } = await setup();
  const { receiver, most } = await slowReceiver(30);
  const made = await admin.ok('POST', '/webhooks', { url: receiver.url, events: ['session.started', 'session.ended'], licenseId: license.id });
  await startAndEnd(store, admin, license.id, 4);
  await until(() => receiver.accepted().length >= 8, 20_000);
  expect(most()).toBe(1);

  const patched = await admin.ok('PATCH', `/webhooks/${made.id}`, { concurrency: 4 });
  expect(patched).toMatchObject({ id: made.id, url: receiver.url, concurrency: 4 });
  expect(patched.secret).toBeUndefined();
  expect((await admin.ok('GET', '/webhooks')).webhooks).toEqual([expect.objectContaining({ id: made.id, concurrency: 4 })]);
  const entry = (await admin.ok('GET', '/audit')).audit.find((e: any) => e.action === 'webhook.update');
  expect(entry.detail).toMatchObject({ webhookId: made.id, concurrency: 4, before: { concurrency: 1 } });
  await startAndEnd(store, admin, license.id, 12);
  await until(() => receiver.accepted().length >= 32, 20_000);
  expect(most()).toBeGreaterThan(1);
  expect(most()).toBeLessThanOrEqual(4);
  // One log for all of it, each event once.
  const { deliveries } = await admin.ok('GET', `/webhooks/${made.id}/deliveries?limit=500`);
  expect(deliveries).toHaveLength(32);
  expect(new Set(receiver.hits.map((h) => h.body.id)).size).toBe(receiver.hits.length);

  // Bad input changes nothing.
  for (const [body, status] of [[{ concurrency: 0 }, 422], [{ concurrency: 33 }, 422], [{ concurrency: 1.5 }, 400], [{ concurrency: '2' }, 400], [{}, 400], [{ concurrency: 2, url: 'http://x/' }, 400]] as const) {
    const r = await admin.call('PATCH', `/webhooks/${made.id}`, body);
    expect(r.status, JSON.stringify(body)).toBe(status);
    expect(r.body.error.code).toBe(status === 422 ? 'out_of_range' : 'bad_request');
  }
  expect((await admin.call('PATCH', '/webhooks/wh_nobody', { concurrency: 2 })).status).toBe(404);
  // Another tenant's admin finds no such webhook.
  const other = await api.setup();
  expect((await other.admin.call('PATCH', `/webhooks/${made.id}`, { concurrency: 2 })).status).toBe(403);
  expect((await admin.ok('GET', '/webhooks')).webhooks[0].concurrency).toBe(4);
});

it('takes up a concurrency changed on another node at its next claim renewal', { timeout: 60_000 }, async () => {
  const { receiver, most } = await slowReceiver(30);
  await changedOnAnotherNode(receiver.url, { concurrency: 4 }, () => receiver.accepted().length);
  expect(most()).toBeGreaterThan(1);
});

/**
 * A server whose webhook (`concurrency` 4, `session.started`) posts to a receiver that answers its
 * first request once fifteen others were answered (10 s at most), every other after 20 ms. The
 * attempt's timeout outlasts that hold: on a loaded machine the fifteen others took longer than the
 * usual 2 s, and the first was sent again (a seventeenth request). The claim is long enough that an
 * attempt always ends within it (renewed at a third).
 */
async function heldFirst() {
  const { store, license, admin } = await setup({ WEBHOOK_TIMEOUT_MS: '15000', WEBHOOK_CLAIM_MS: '60000' });
  const answered: number[] = [];
  let requests = 0;
  const receiver = await startReceiver(async () => {
    const nth = requests++;
    if (nth === 0) {
      const end = Date.now() + 10_000;
      while (answered.length < 15 && Date.now() < end) await sleep(20);
    } else await sleep(20);
    answered.push(nth);
    return 204;
  });
  await admin.ok('POST', '/webhooks', { url: receiver.url, events: ['session.started'], licenseId: license.id, concurrency: 4 });
  const admit = (i: number) => store.admit({ licenseId: license.id, socketId: randomUUID(), nodeId: 'elsewhere', claimant: claimant(`k${i}`), now: Date.now() });
  return { receiver, answered, admit, requests: () => requests };
}

it('keeps up to `concurrency` requests in flight: a slow answer holds back only its own session', { timeout: 60_000 }, async () => {
  const { receiver, answered, admit } = await heldFirst();
  for (let i = 0; i < 16; i++) await admit(i);
  await until(() => receiver.accepted().length >= 16, 20_000);
  // The other fifteen went on three at a time while the first was held (in windows, only the three
  // sent with it would have, and the first would have been answered fourth, after 10 s).
  expect(answered.indexOf(0)).toBe(15);
  expect(new Set(receiver.hits.map((h) => h.body.id)).size).toBe(16);
});

it('sends the events that came while a request is held, not only those read with it', { timeout: 60_000 }, async () => {
  const { receiver, answered, admit, requests } = await heldFirst();
  // One event alone in the outbox, sent and held; then fifteen more, each in a read of its own.
  await admit(0);
  await until(() => requests() === 1, 10_000);
  for (let i = 1; i < 16; i++) await admit(i);
  await until(() => receiver.accepted().length >= 16, 20_000);
  // Read only at the held request's batch boundary, they would have waited for its answer (10 s).
  expect(answered.indexOf(0)).toBe(15);
  expect(new Set(receiver.hits.map((h) => h.body.id)).size).toBe(16);
});

it.each([
  { seed: 1, concurrency: 2, batchSize: 1 },
  { seed: 2, concurrency: 3, batchSize: 2 },
  { seed: 3, concurrency: 5, batchSize: 4 },
])('with answers at random times and some failing (seed $seed, concurrency $concurrency, batch size $batchSize): each event delivered, no session in two requests at once, each in order', { timeout: 60_000 }, async ({ seed, concurrency, batchSize }) => {
  const { store, license, admin } = await setup();
  const random = rng(seed);
  type Event = { id: string; type: string; data: { sessionId: string } };
  const inFlight = new Map<string, number>();
  const overlaps: string[] = [];
  const log: Array<{ what: 'in' | 'out'; events: Event[]; status: number }> = [];
  const receiver = await startReceiver(async (hit) => {
    const events = (batchSize > 1 ? hit.body : [hit.body]) as unknown as Event[];
    // A request may hold a session's start and end; no two requests in flight may share one.
    const mine = new Set(events.map((e) => e.data.sessionId));
    for (const session of mine) {
      if (inFlight.has(session)) overlaps.push(session);
      inFlight.set(session, (inFlight.get(session) ?? 0) + 1);
    }
    log.push({ what: 'in', events, status: 0 });
    await sleep(random(25));
    const status = random(100) < 15 ? 500 : 204;
    for (const session of mine) {
      const left = inFlight.get(session)! - 1;
      if (left > 0) inFlight.set(session, left);
      else inFlight.delete(session);
    }
    log.push({ what: 'out', events, status });
    return status;
  });
  const made = await admin.ok('POST', '/webhooks', { url: receiver.url, events: ['session.started', 'session.ended'], licenseId: license.id, concurrency, batchSize });
  const sessions = await startAndEnd(store, admin, license.id, 12);
  for (let i = 0; i < 4; i++) sessions.push(...(await startAndEnd(store, admin, license.id, 1)));
  const accepted = () => new Set(log.filter((e) => e.what === 'out' && e.status < 300).flatMap((e) => e.events.map((x) => x.id)));
  await until(() => accepted().size >= 32, 30_000);
  await sleep(300);

  expect(overlaps).toEqual([]);
  expect(accepted().size).toBe(32);
  // A session's end went out only after its start was accepted (or in the same request, after it).
  for (const s of sessions) {
    const startAccepted = log.findIndex((e) => e.what === 'out' && e.status < 300 && e.events.some((x) => x.data.sessionId === s && x.type === 'session.started'));
    const endSent = log.findIndex((e) => e.what === 'in' && e.events.some((x) => x.data.sessionId === s && x.type === 'session.ended'));
    const together = log[endSent]!.events.map((x) => `${x.type} ${x.data.sessionId}`);
    if (endSent < startAccepted) expect(together.indexOf(`session.started ${s}`)).toBeGreaterThanOrEqual(0);
    if (endSent < startAccepted) expect(together.indexOf(`session.started ${s}`)).toBeLessThan(together.indexOf(`session.ended ${s}`));
  }
  await until(async () => (await admin.ok('GET', `/webhooks/${made.id}/deliveries?limit=500`)).deliveries.every((d: { status: string }) => d.status === 'delivered'), 10_000);
  const { deliveries } = await admin.ok('GET', `/webhooks/${made.id}/deliveries?limit=500`);
  expect(deliveries).toHaveLength(32);
});

it('a webhook deleted while its requests are in flight sends nothing more and logs nothing for it', { timeout: 60_000 }, async () => {
  const { store, license, admin } = await setup();
  let arrived = 0;
  const receiver = await startReceiver(async () => {
    arrived++;
    await sleep(300);
    return 204;
  });
  const made = await admin.ok('POST', '/webhooks', { url: receiver.url, events: ['session.started'], licenseId: license.id, concurrency: 2, batchSize: 2 });
  for (let i = 0; i < 20; i++) await store.admit({ licenseId: license.id, socketId: randomUUID(), nodeId: 'elsewhere', claimant: claimant(`d${i}`), now: Date.now() });
  await until(() => arrived >= 1, 10_000);
  expect((await admin.call('DELETE', `/webhooks/${made.id}`)).status).toBe(204);
  const atDelete = arrived;
  await sleep(1000);
  // Only the requests already on their way when it was deleted (at most two).
  expect(arrived).toBe(atDelete);
  expect(arrived).toBeLessThanOrEqual(2);
  expect(await store.webhooks.listDeliveries(made.id, { limit: 100 })).toEqual([]);
  expect(await store.webhooks.getWebhook(made.id)).toBeUndefined();
});
