// Signed webhooks (docs/contract.md "Webhooks") through a real server and a real local receiver:
// the events of a seat's life arrive in order and signed, a receiver that fails its first
// attempts gets them again with backoff (counted in the delivery log), a delivery failing past
// the give-up time is `failed` and the next one goes on, and each tenant hears only its own.
import path from 'node:path';
import { io } from 'socket.io-client';
import { describe, expect, it, onTestFinished } from 'vitest';
import { SqliteSeatStore } from '../../server/store/sqlite-store';
import { closeSocket, connectAndAdmit, granted, sign, sleep, startServer, tempDir, until } from '../support/harness';
import { signatureValid, startReceiver } from '../support/webhook-receiver';

/** Retries in a test's seconds: 100 ms, 200 ms, 400 ms … capped at 400 ms. */
const FAST_WEBHOOKS = {
  WEBHOOK_ALLOW_PRIVATE: 'on',
  WEBHOOK_RETRY_BASE_MS: '100',
  WEBHOOK_RETRY_MAX_MS: '400',
  WEBHOOK_POLL_MS: '50',
  WEBHOOK_TIMEOUT_MS: '2000',
};

describe('webhooks', () => {
  it('delivers a seat\'s life in order, signed, retrying a receiver that fails its first attempts', async () => {
    const { url, api } = await startServer({ env: FAST_WEBHOOKS });
    const { license, admin, tenant } = await api.setup({ seats: 1, idleTimeoutSec: 1 });
    // The first two attempts get a 500, then every request is accepted.
    const receiver = await startReceiver((_hit, nth) => (nth < 2 ? 500 : 200));
    const created = await admin.call('POST', '/webhooks', {
      url: receiver.url,
      events: ['session.started', 'license.full', 'seat.denied', 'session.idle', 'session.ended', 'session.resumed'],
      licenseId: license.id,
    });
    expect(created.status).toBe(201);
    const hook = created.body;
    expect(hook).toMatchObject({ url: receiver.url, licenseId: license.id, events: expect.arrayContaining(['session.started']) });
    expect(hook.secret).toMatch(/^whsec_/);

    const a = await granted(url, await sign(license, { sid: 'a' }));
    const denied = await connectAndAdmit(url, await sign(license, { sid: 'b' }));
    expect(denied.result.kind).toBe('denied');
    await closeSocket(a.socket);
    // Idle, then released by the idle timeout (1 s).
    await until(() => receiver.accepted().some((h) => h.body.type === 'session.ended'), 15_000);

    const types = receiver.accepted().map((h) => h.body.type);
    expect(types).toEqual(['session.started', 'license.full', 'seat.denied', 'session.idle', 'session.ended']);
    const [started, full, deny, idle, ended] = receiver.accepted().map((h) => h.body);
    expect(started).toMatchObject({ tenantId: tenant.id, licenseId: license.id, data: { sessionId: a.grant.sessionId, seatsInUse: 1, seats: 1, weight: 1 } });
    expect(full!.data).toMatchObject({ seatsInUse: 1, seats: 1 });
    expect(deny!.data).toMatchObject({ reason: 'no_free_seats' });
    expect(idle!.data).toMatchObject({ sessionId: a.grant.sessionId });
    expect(ended!.data).toMatchObject({ sessionId: a.grant.sessionId, reason: 'idle_timeout', seatsInUse: 0 });
    // Every request signed with the webhook's secret over the raw body, sent as JSON.
    for (const h of receiver.hits) {
      expect(signatureValid(hook.secret, h.headers['seat-signature'], h.raw)).toBe(true);
      expect(signatureValid('whsec_wrong', h.headers['seat-signature'], h.raw)).toBe(false);
      expect(h.headers['content-type']).toBe('application/json');
      expect(h.headers['user-agent']).toMatch(/seat/);
      const t = Number(String(h.headers['seat-signature']).match(/t=(\d+)/)![1]);
      expect(Math.abs(t - h.at / 1000)).toBeLessThan(5);
    }
    // The first event was sent three times (500, 500, 200), the same bytes each time.
    const first = receiver.hits.filter((h) => h.body.id === started!.id);
    expect(first.map((h) => h.status)).toEqual([500, 500, 200]);
    expect(new Set(first.map((h) => h.raw)).size).toBe(1);
    expect(first[2]!.at - first[0]!.at).toBeGreaterThanOrEqual(250);

    // The log of events delivered at their first attempt is written once the batch's last answer is in.
    let deliveries: any[] = [];
    await until(async () => (deliveries = (await admin.ok('GET', `/webhooks/${hook.id}/deliveries`)).deliveries).length === 5, 10_000);
    expect(deliveries.map((d: any) => d.event)).toEqual(['session.ended', 'session.idle', 'seat.denied', 'license.full', 'session.started']);
    expect(deliveries.at(-1)).toMatchObject({ eventId: started!.id, status: 'delivered', attempts: 3, responseStatus: 200 });
    expect(deliveries[0]).toMatchObject({ status: 'delivered', attempts: 1, responseStatus: 200 });
    expect(Date.parse(deliveries[0].lastAttemptAt)).toBeGreaterThan(0);
    // Paged, newest first.
    const page = await admin.ok('GET', `/webhooks/${hook.id}/deliveries?limit=2`);
    expect(page.deliveries.map((d: any) => d.event)).toEqual(['session.ended', 'session.idle']);
    const rest = await admin.ok('GET', `/webhooks/${hook.id}/deliveries?limit=10&before=${page.nextBefore}`);
    expect(rest.deliveries.map((d: any) => d.event)).toEqual(['seat.denied', 'license.full', 'session.started']);
  });

  it('gives up on a delivery after WEBHOOK_GIVE_UP_SEC (failed) and goes on with the next', async () => {
    const { url, api } = await startServer({ env: { ...FAST_WEBHOOKS, WEBHOOK_GIVE_UP_SEC: '1' } });
    const { license, admin } = await api.setup({ seats: 5 });
    let accept = false;
    const receiver = await startReceiver(() => (accept ? 204 : 503));
    const hook = await admin.ok('POST', '/webhooks', { url: receiver.url, events: ['session.started'] });
    await granted(url, await sign(license, { sid: 'a' }));
    await until(async () => (await admin.ok('GET', `/webhooks/${hook.id}/deliveries`)).deliveries[0]?.status === 'failed', 10_000);
    const [failed] = (await admin.ok('GET', `/webhooks/${hook.id}/deliveries`)).deliveries;
    expect(failed).toMatchObject({ status: 'failed', responseStatus: 503, nextAttemptAt: null });
    expect(failed.attempts).toBeGreaterThanOrEqual(3);
    accept = true;
    const b = await granted(url, await sign(license, { sid: 'b' }));
    await until(() => receiver.accepted().length === 1);
    expect(receiver.accepted()[0]!.body.data.sessionId).toBe(b.grant.sessionId);
  });

  it('retries at the delivery log\'s nextAttemptAt, not at the next poll after it', async () => {
    // Polls 2 s apart; retries 150 ms apart.
    const { url, api } = await startServer({ env: { ...FAST_WEBHOOKS, WEBHOOK_POLL_MS: '2000', WEBHOOK_RETRY_BASE_MS: '150', WEBHOOK_RETRY_MAX_MS: '150' } });
    const { license, admin } = await api.setup({ seats: 5 });
    const receiver = await startReceiver((_hit, nth) => (nth < 3 ? 503 : 204));
    await admin.ok('POST', '/webhooks', { url: receiver.url, events: ['session.started'] });
    await granted(url, await sign(license, { sid: 'a' }));
    await until(() => receiver.accepted().length === 1, 10_000);
    const at = receiver.hits.map((h) => h.at);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    expect(gaps).toHaveLength(3);
    for (const gap of gaps) expect(gap).toBeLessThan(1000);
  });

  it('sends license.changed with the fields changed and what they were', async () => {
    const { api } = await startServer({ env: FAST_WEBHOOKS });
    const { license, admin } = await api.setup({ seats: 2 });
    const receiver = await startReceiver();
    await admin.ok('POST', '/webhooks', { url: receiver.url, events: ['license.changed'] });
    await admin.ok('PATCH', `/licenses/${license.id}`, { seats: 4, deniedMessage: 'Ask Ann' });
    await until(() => receiver.accepted().length === 1);
    expect(receiver.accepted()[0]!.body).toMatchObject({
      type: 'license.changed',
      licenseId: license.id,
      data: { changes: { seats: 4, deniedMessage: 'Ask Ann' }, before: { seats: 2 }, endedSessions: 0 },
    });
  });

  it('delivers the endings of a deleted license to its tenant\'s webhooks', async () => {
    const { url, api } = await startServer({ env: FAST_WEBHOOKS });
    const { license, admin, tenant } = await api.setup({ seats: 2 });
    const receiver = await startReceiver();
    await admin.ok('POST', '/webhooks', { url: receiver.url, events: ['session.ended'] });
    const a = await granted(url, await sign(license, { sid: 'a' }));
    await admin.ok('DELETE', `/licenses/${license.id}`);
    await until(() => receiver.accepted().length === 1);
    expect(receiver.accepted()[0]!.body).toMatchObject({
      type: 'session.ended',
      tenantId: tenant.id,
      licenseId: license.id,
      data: { sessionId: a.grant.sessionId, reason: 'license_deleted', seatsInUse: 0, seats: null },
    });
  });

  it('sends seat.queued when a claimant joins the queue and seat.requested when a user asks for a seat', async () => {
    const { url, api } = await startServer({ env: FAST_WEBHOOKS });
    const { license, admin } = await api.setup({ seats: 1, queue: true });
    const receiver = await startReceiver();
    await admin.ok('POST', '/webhooks', { url: receiver.url, events: ['seat.queued', 'seat.requested'], licenseId: license.id });
    await granted(url, await sign(license, { sid: 'holder' }));
    const waiting = io(url, { auth: { token: await sign(license, { sid: 'waiting' }), queue: true }, transports: ['websocket'], reconnection: false, forceNew: true });
    onTestFinished(() => void waiting.disconnect());
    await new Promise((resolve) => waiting.once('seat:queued', resolve));
    const asked = await fetch(`${url}/api/v1/seat-requests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await sign(license, { sid: 'asker', sub: 'ann' })}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'deadline today' }),
    });
    expect(asked.status).toBe(201);
    await until(() => receiver.accepted().length === 2);
    expect(receiver.accepted().map((h) => [h.body.type, h.body.licenseId, h.body.data.seatsInUse, h.body.data.seats])).toEqual([
      ['seat.queued', license.id, 1, 1],
      ['seat.requested', license.id, 1, 1],
    ]);
  });

  it('gives a tenant only its own events and webhooks; the operator hears every tenant', async () => {
    const { url, api } = await startServer({ env: FAST_WEBHOOKS });
    const one = await api.setup({ seats: 3 });
    const two = await api.setup({ seats: 3 });
    const [r1, r2, rOp] = await Promise.all([startReceiver(), startReceiver(), startReceiver()]);
    const h1 = await one.admin.ok('POST', '/webhooks', { url: r1.url, events: ['session.started'] });
    const h2 = await two.admin.ok('POST', '/webhooks', { url: r2.url, events: ['session.started'] });
    const hOp = await api.ok('POST', '/webhooks', { url: rOp.url, events: ['session.started'] });
    expect(hOp.tenantId).toBeNull();

    // A tenant may not point its webhook at another tenant's license.
    const foreign = await one.admin.call('POST', '/webhooks', { url: r1.url, events: ['session.started'], licenseId: two.license.id });
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe('forbidden');

    await granted(url, await sign(one.license, { sid: 'x' }));
    await granted(url, await sign(two.license, { sid: 'y' }));
    await until(() => rOp.accepted().length === 2 && r1.accepted().length === 1 && r2.accepted().length === 1);
    expect(r1.accepted()[0]!.body.licenseId).toBe(one.license.id);
    expect(r2.accepted()[0]!.body.licenseId).toBe(two.license.id);
    expect(new Set(rOp.accepted().map((h) => h.body.licenseId))).toEqual(new Set([one.license.id, two.license.id]));

    // Lists are scoped and carry no secret.
    const list1 = await one.admin.ok('GET', '/webhooks');
    expect(list1.webhooks.map((w: any) => w.id)).toEqual([h1.id]);
    expect(list1.webhooks[0].secret).toBeUndefined();
    expect((await api.ok('GET', '/webhooks')).webhooks.map((w: any) => w.id).sort()).toEqual([h1.id, h2.id, hOp.id].sort());
    // Another tenant's webhook (and the operator's) is not this tenant's: 403, and it stays.
    for (const [method, path] of [['DELETE', `/webhooks/${h2.id}`], ['GET', `/webhooks/${h2.id}/deliveries`], ['DELETE', `/webhooks/${hOp.id}`]] as const) {
      const r = await one.admin.call(method, path);
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(r.body.error.code).toBe('forbidden');
    }
    expect((await one.admin.call('DELETE', '/webhooks/wh_nobody')).body.error.code).toBe('not_found');
    expect((await two.admin.ok('GET', '/webhooks')).webhooks).toHaveLength(1);

    // Deleted: 204, gone from the list, audited, and it hears nothing more.
    expect((await one.admin.call('DELETE', `/webhooks/${h1.id}`)).status).toBe(204);
    expect((await one.admin.ok('GET', '/webhooks')).webhooks).toEqual([]);
    expect((await one.admin.call('DELETE', `/webhooks/${h1.id}`)).status).toBe(404);
    const audit = await one.admin.ok('GET', '/audit');
    expect(audit.audit.map((e: any) => e.action)).toEqual(expect.arrayContaining(['webhook.create', 'webhook.delete']));
    await granted(url, await sign(one.license, { sid: 'z' }));
    await until(() => rOp.accepted().length === 3);
    expect(r1.accepted()).toHaveLength(1);
  });

  it('refuses bad input with the contract\'s error shape and changes nothing', async () => {
    const { api } = await startServer({ env: FAST_WEBHOOKS });
    const { admin } = await api.setup();
    const ok = { url: 'http://127.0.0.1:9/hook', events: ['session.started'] };
    const cases: Array<[unknown, number, string, RegExp?]> = [
      [{ ...ok, url: 'ftp://example.com/hook' }, 422, 'out_of_range', /url: .*not http or https/],
      [{ ...ok, url: 'javascript:alert(1)' }, 422, 'out_of_range', /url/],
      [{ ...ok, url: 'not a url' }, 422, 'out_of_range', /url/],
      [{ ...ok, url: 'http://user:pw@example.com/' }, 422, 'out_of_range', /credentials/],
      [{ ...ok, url: 'http://127.0.0.1:0/hook' }, 422, 'out_of_range', /^url: port 0 /],
      [{ ...ok, url: 'https://93.184.216.34:00/hook' }, 422, 'out_of_range', /^url: port 0 /],
      [{ ...ok, events: ['session.started', 'seat.exploded', 'nope'] }, 422, 'out_of_range', /seat\.exploded.*nope/],
      [{ ...ok, events: [] }, 422, 'out_of_range'],
      [{ ...ok, concurrency: 0 }, 422, 'out_of_range', /concurrency/],
      [{ ...ok, concurrency: 33 }, 422, 'out_of_range', /concurrency/],
      [{ ...ok, concurrency: 2.5 }, 400, 'bad_request', /concurrency/],
      [{ ...ok, concurrency: '4' }, 400, 'bad_request'],
      [{ ...ok, licenseId: 'lic_nobody' }, 404, 'not_found'],
      [{ ...ok, events: 'session.started' }, 400, 'bad_request'],
      [{ ...ok, url: 42 }, 400, 'bad_request'],
      // Listed and shown as sent: no control or bidi-override characters.
      [{ ...ok, url: 'http://127.0.0.1:9/hook\u0000' }, 422, 'out_of_range', /^url: must not contain control/],
      [{ ...ok, url: 'http://127.0.0.1:9/\u202Egpj.exe' }, 422, 'out_of_range', /^url: must not contain control/],
      [{ ...ok, extra: 1 }, 400, 'bad_request'],
      [{ events: ok.events }, 400, 'bad_request'],
    ];
    for (const [body, status, code, message] of cases) {
      const r = await admin.call('POST', '/webhooks', body);
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect(r.body.error.code).toBe(code);
      if (message) expect(r.body.error.message).toMatch(message);
    }
    expect((await admin.call('POST', '/webhooks', '{"url":')).status).toBe(400);
    expect((await admin.as('bad-token').call('POST', '/webhooks', ok)).status).toBe(401);
    expect((await admin.call('GET', '/webhooks/wh_nobody/deliveries')).status).toBe(404);
    expect((await admin.call('GET', '/webhooks/x/deliveries?limit=0')).status).toBe(422);
    expect((await admin.call('PUT', '/webhooks')).status).toBe(405);
    expect((await admin.ok('GET', '/webhooks')).webhooks).toEqual([]);
    // Spaces around it are trimmed, as the URL parser that delivers to it trims them.
    const spaced = await admin.ok('POST', '/webhooks', { ...ok, url: `  ${ok.url} ` });
    expect(spaced.url).toBe(ok.url);
    expect((await admin.ok('GET', '/webhooks')).webhooks.map((w: any) => w.url)).toEqual([ok.url]);
    // The OpenAPI document has the paths.
    const doc = await (await fetch(`${api.url}/api/openapi.json`)).json();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/webhooks', '/webhooks/{id}', '/webhooks/{id}/deliveries']));
  });

  it('says a bounded number out of range as the server says its own bounds: `<field> must be between <min> and <max>`, with details.min and max', async () => {
    const { api } = await startServer({ env: FAST_WEBHOOKS });
    const { admin } = await api.setup();
    const ok = { url: 'http://127.0.0.1:9/hook', events: ['session.started'] };
    const { secret: _secret, ...made } = await admin.ok('POST', '/webhooks', ok);
    const cases: Array<[method: string, path: string, body: unknown, field: string, min: number, max: number]> = [
      ['POST', '/webhooks', { ...ok, concurrency: 0 }, 'concurrency', 1, 32],
      ['POST', '/webhooks', { ...ok, concurrency: 33 }, 'concurrency', 1, 32],
      ['POST', '/webhooks', { ...ok, batchSize: 0 }, 'batchSize', 1, 100],
      ['POST', '/webhooks', { ...ok, batchSize: 101 }, 'batchSize', 1, 100],
      ['PATCH', `/webhooks/${made.id}`, { concurrency: 33 }, 'concurrency', 1, 32],
      ['PATCH', `/webhooks/${made.id}`, { batchSize: 101 }, 'batchSize', 1, 100],
      ['GET', `/webhooks/${made.id}/deliveries?limit=0`, undefined, 'limit', 1, 500],
      ['GET', `/webhooks/${made.id}/deliveries?limit=501`, undefined, 'limit', 1, 500],
    ];
    for (const [method, path, body, field, min, max] of cases) {
      const r = await admin.call(method, path, body);
      expect([r.status, r.body], `${method} ${path} ${JSON.stringify(body)}`).toEqual([
        422,
        { error: { code: 'out_of_range', message: `${field} must be between ${min} and ${max}`, details: { field, min, max, issues: [{ path: [field], message: `must be between ${min} and ${max}` }] } } },
      ]);
    }
    // Two out of range: each said, the first named.
    const both = await admin.call('PATCH', `/webhooks/${made.id}`, { concurrency: 0, batchSize: 101 });
    expect([both.status, both.body.error.message, both.body.error.details.field, both.body.error.details.min, both.body.error.details.max]).toEqual([
      422,
      'concurrency must be between 1 and 32; batchSize must be between 1 and 100',
      'concurrency',
      1,
      32,
    ]);
    // A number with one bound only (an id to page before) keeps its own words and no bounds.
    const before = await admin.call('GET', `/webhooks/${made.id}/deliveries?before=0`);
    expect([before.status, before.body.error.details.field, before.body.error.details.min, before.body.error.details.max]).toEqual([422, 'before', undefined, undefined]);
    expect((await admin.ok('GET', '/webhooks')).webhooks).toEqual([made]);
  });

  it('takes licenseId null as GET lists it (every license), as if left out: a listed webhook posts back as it is', async () => {
    const { api } = await startServer({ env: FAST_WEBHOOKS });
    const { admin, license, tenant } = await api.setup();
    const ok = { url: 'http://127.0.0.1:9/hook', events: ['session.started'] };
    const everyLicense = await admin.call('POST', '/webhooks', { ...ok, licenseId: null });
    expect([everyLicense.status, everyLicense.body]).toEqual([201, expect.objectContaining({ licenseId: null, tenantId: tenant.id })]);
    await admin.ok('POST', '/webhooks', { ...ok, licenseId: license.id, concurrency: 3, batchSize: 5 });
    const { webhooks } = await admin.ok('GET', '/webhooks');
    expect(webhooks.map((w: any) => w.licenseId).sort()).toEqual([license.id, null].sort());
    // What GET lists of the fields POST takes, posted back as listed, makes the same webhook again.
    for (const { url, events, licenseId, concurrency, batchSize, tenantId } of webhooks) {
      const again = await admin.call('POST', '/webhooks', { url, events, licenseId, concurrency, batchSize });
      expect([again.status, again.body]).toEqual([201, expect.objectContaining({ url, events, licenseId, concurrency, batchSize, tenantId })]);
    }
    expect((await admin.ok('GET', '/webhooks')).webhooks).toHaveLength(4);
    // Null is the only new value: an empty id, or another type, is still refused.
    expect((await admin.call('POST', '/webhooks', { ...ok, licenseId: '' })).status).toBe(422);
    expect((await admin.call('POST', '/webhooks', { ...ok, licenseId: 7 })).status).toBe(400);
  });

  it('refuses URLs of loopback, private and link-local addresses unless WEBHOOK_ALLOW_PRIVATE=on', async () => {
    const { api } = await startServer({ env: {} });
    const { admin } = await api.setup();
    for (const url of ['http://127.0.0.1/h', 'http://localhost:8080/h', 'http://10.1.2.3/', 'http://192.168.1.1/', 'http://169.254.169.254/latest', 'http://[::1]/', 'http://[fd00::1]/', 'http://[::ffff:127.0.0.1]/', 'http://[::ffff:a00:1]/', 'http://[::127.0.0.1]/', 'http://[::a9fe:a9fe]/', 'http://224.0.0.1/', 'http://192.0.2.1/']) {
      const r = await admin.call('POST', '/webhooks', { url, events: ['session.started'] });
      expect(r.status, url).toBe(422);
      expect(r.body.error.message).toMatch(/is not a public unicast address \(loopback, private, link-local, multicast, reserved and documentation ranges are refused; WEBHOOK_ALLOW_PRIVATE=on allows them\)$/);
    }
    // A host name is named with the addresses it resolved to.
    expect((await admin.call('POST', '/webhooks', { url: 'http://localhost:8080/h', events: ['session.started'] })).body.error.message).toMatch(/^url: "localhost" \((127\.0\.0\.1|::1)/);
    expect((await admin.ok('GET', '/webhooks')).webhooks).toEqual([]);
  });

  it('checks the address again before each attempt: a webhook that now resolves to a private address is not sent to', async () => {
    // Written straight into the store, as a webhook made while private addresses were allowed.
    const store = SqliteSeatStore.open(path.join(tempDir(), 'seats.db'));
    await store.migrate();
    const receiver = await startReceiver();
    await store.webhooks.createWebhook({ id: 'wh_inside', tenantId: null, licenseId: null, url: receiver.url, events: ['session.started'], secret: 's', createdAt: Date.now(), concurrency: 1, batchSize: 1 });
    const { url, api } = await startServer({ store, env: { WEBHOOK_POLL_MS: '50', WEBHOOK_TIMEOUT_MS: '300', WEBHOOK_CLAIM_MS: '1000', WEBHOOK_RETRY_BASE_MS: '100' } });
    const { license } = await api.setup();
    await granted(url, await sign(license, { sid: 'a' }));
    await until(async () => (await api.ok('GET', '/webhooks/wh_inside/deliveries')).deliveries[0]?.attempts >= 2);
    const [d] = (await api.ok('GET', '/webhooks/wh_inside/deliveries')).deliveries;
    expect(d).toMatchObject({ status: 'pending', responseStatus: null, error: 'refused: 127.0.0.1 resolves to a private address' });
    // Past the attempt's deadline: nothing else went wrong, and nothing was sent.
    await sleep(500);
    expect(receiver.hits).toEqual([]);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it('goes on when SQLite hands out ids again after pruning took the newest history rows', async () => {
    const store = SqliteSeatStore.open(path.join(tempDir(), 'seats.db'));
    await store.migrate();
    const { url, api } = await startServer({ store, env: { ...FAST_WEBHOOKS, WEBHOOK_TIMEOUT_MS: '300', WEBHOOK_CLAIM_MS: '900' } });
    const { license, admin } = await api.setup();
    const receiver = await startReceiver();
    await admin.ok('POST', '/webhooks', { url: receiver.url, events: ['session.started'] });
    await granted(url, await sign(license, { sid: 'a' }));
    await granted(url, await sign(license, { sid: 'b' }));
    await until(() => receiver.accepted().length === 2);
    // The whole history older than now goes (as DENIAL_RETENTION_DAYS would after a quiet spell):
    // the next rows take ids 1, 2 … again, below the webhook's cursor.
    await store.pruneHistory(Date.now() + 1);
    await sleep(700);
    const c = await granted(url, await sign(license, { sid: 'c' }));
    await until(() => receiver.accepted().length === 3, 5000);
    expect(receiver.accepted()[2]!.body.data.sessionId).toBe(c.grant.sessionId);
    expect(new Set(receiver.accepted().map((h) => h.body.id)).size).toBe(3);
  });
});
