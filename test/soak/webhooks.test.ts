// The soak's webhook checks (soak/webhooks.ts): the receiver's checks of each request as it
// comes, and the end check of each webhook's deliveries against the seat history.
import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { OpLog } from '../../soak/record';
import { Rng } from '../../soak/rng';
import type { SeatEventRow } from '../../soak/truth';
import { type Answer, type Arrived, changeEvent, checkDeliveries, checkRequest, deliveryDelays, expectedEvent, expectedEvents, HookReceiver, type HookRequest, type HookSpec, randomAnswers } from '../../soak/webhooks';

const SECRET = 'whsec_test';
const one: HookSpec = { name: 'one', concurrency: 1, batchSize: 1 };
const batched: HookSpec = { name: 'batched', concurrency: 2, batchSize: 3 };

const signed = (body: string, t = Math.floor(Date.now() / 1000), secret = SECRET) => `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;

const row = (id: number, type: string, sessionId: string | null, reason: string | null = null): SeatEventRow => ({ id, type, licenseId: 'lic', sessionId, reason, at: 1_800_000_000_000 + id });
const event = (r: SeatEventRow): Arrived => expectedEvent(r)!;
const request = (hook: string, arrivedAt: number, answeredAt: number, ok: boolean, ...events: Arrived[]): HookRequest => ({ hook, arrivedAt, answeredAt, ok, events });

describe('checkRequest', () => {
  const body = (e: Arrived) => ({ id: e.id, type: e.type, at: e.at, tenantId: 't', licenseId: e.licenseId, data: { sessionId: e.sessionId, weight: 1 } });
  const started = event(row(1, 'granted', 's1'));

  it('reads a signed event, or a signed array with a batch size above 1', () => {
    const single = JSON.stringify(body(started));
    expect(checkRequest(one, SECRET, Buffer.from(single), signed(single), Date.now())).toEqual({ events: [started] });
    const array = JSON.stringify([body(started), body(event(row(2, 'idle', 's1')))]);
    expect(checkRequest(batched, SECRET, Buffer.from(array), signed(array), Date.now())).toEqual({ events: [started, event(row(2, 'idle', 's1'))] });
  });

  it('refuses a missing, wrong or stale signature, and a body of the wrong shape', () => {
    const single = JSON.stringify(body(started));
    const problem = (spec: HookSpec, raw: string, signature: string | undefined) => {
      const r = checkRequest(spec, SECRET, Buffer.from(raw), signature, Date.now());
      return 'problem' in r ? `${r.problem}: ${r.message}` : 'ok';
    };
    expect(problem(one, single, undefined)).toBe('signature: the Seat-Signature header is missing');
    expect(problem(one, single, signed(single, undefined, 'whsec_other'))).toBe('signature: the signature does not match the body');
    expect(problem(one, single, signed(`${single} `))).toBe('signature: the signature does not match the body');
    expect(problem(one, single, signed(single, Math.floor(Date.now() / 1000) - 600))).toMatch(/^signature: the signature's time \d+ is more than 5 minutes from now$/);
    expect(problem(batched, single, signed(single))).toBe('shape: with batchSize 3 the body must be an array of 1 to 3 events, not object');
    const four = JSON.stringify([1, 2, 3, 4].map((id) => body(event(row(id, 'granted', `s${id}`)))));
    expect(problem(batched, four, signed(four))).toBe('shape: with batchSize 3 the body must be an array of 1 to 3 events, not 4');
    const array = JSON.stringify([body(started)]);
    expect(problem(one, array, signed(array))).toBe('shape: with batchSize 1 the body must be one event');
    const bare = JSON.stringify({ id: 'x' });
    expect(problem(one, bare, signed(bare))).toMatch(/^shape: an event without id, type, at, licenseId or data/);
  });
});

describe('checkDeliveries', () => {
  const rows = [row(1, 'granted', 's1'), row(2, 'denied', null, 'no_free_seats'), row(3, 'idle', 's1'), row(4, 'granted', 's2'), row(5, 'released', 's1', 'idle_timeout')];
  const [started1, denied, idle1, started2, ended1] = rows.map(event) as [Arrived, Arrived, Arrived, Arrived, Arrived];

  it('passes every event answered 2xx, a session in order, repeats and failed attempts included', () => {
    const requests = [
      request('one', 10, 11, true, started1),
      request('one', 12, 13, false, denied),
      request('one', 20, 21, true, denied),
      // After a kill -9: sent again from the cursor.
      request('one', 30, 31, true, started1),
      request('one', 32, 33, true, idle1),
      request('one', 34, 35, true, started2),
      request('one', 36, 37, true, ended1),
    ];
    expect(checkDeliveries(rows.map(event), 'one', requests)).toEqual([]);
    // In a batch a session's events are in order within the request.
    expect(checkDeliveries(rows.map(event), 'batched', [request('batched', 10, 11, true, started1, denied, idle1), request('batched', 12, 13, true, started2, ended1)])).toEqual([]);
  });

  it('finds an event never answered 2xx', () => {
    const requests = [request('one', 10, 11, true, started1, denied, idle1, started2), request('one', 12, 13, false, ended1)];
    expect(checkDeliveries(rows.map(event), 'one', requests)).toEqual([
      { check: 'webhook-lost', licenseId: 'lic', sessionId: 's1', message: `webhook one: 1 of 5 events never answered 2xx (${ended1.id} session.ended)` },
    ]);
    // Another webhook's answers do not count.
    expect(checkDeliveries(rows.map(event), 'other', requests).map((f) => f.message)).toEqual([
      `webhook other: 5 of 5 events never answered 2xx (${[started1, denied, idle1, started2, ended1].map((e) => `${e.id} ${e.type}`).join(', ')})`,
    ]);
  });

  it('finds an event of no history row, or one that does not match its row', () => {
    const all = rows.map((r, i) => request('one', 10 + 2 * i, 11 + 2 * i, true, event(r)));
    const madeUp = { ...started2, id: 'evt_s99_zz' };
    const wrongReason = { ...ended1, reason: 'kicked' };
    expect(checkDeliveries(rows.map(event), 'one', [...all, request('one', 40, 41, true, madeUp, wrongReason)])).toEqual([
      { check: 'webhook-invented', licenseId: 'lic', sessionId: 's2', message: `webhook one: 2 events match no seat history row (first ${JSON.stringify(madeUp)})` },
    ]);
  });

  it("finds a session's event that came before an earlier one of it was answered", () => {
    // The idle came while the start's request was still unanswered.
    const requests = [request('one', 10, 15, true, started1), request('one', 12, 13, true, idle1), request('one', 16, 17, true, denied, started2, ended1)];
    expect(checkDeliveries(rows.map(event), 'one', requests)).toEqual([
      {
        check: 'webhook-order',
        licenseId: 'lic',
        sessionId: 's1',
        message: `webhook one: 1 events came before an earlier event of their session or license (first, of session s1: session.idle ${idle1.id} came before session.started ${started1.id} was answered)`,
      },
    ]);
    // Behind it in one request is fine; ahead of it is not.
    expect(checkDeliveries(rows.map(event), 'batched', [request('batched', 10, 11, true, idle1, started1), request('batched', 12, 13, true, denied, started2, ended1)]).map((f) => f.check)).toEqual(['webhook-order']);
  });
});

describe('deliveryDelays', () => {
  it("counts each event from its time to its first 2xx answer on that webhook, failed answers and other webhooks aside", () => {
    // Rows 1 and 2 happened at T + 1 and T + 2.
    const T = 1_800_000_000_000;
    const [a, b] = [event(row(1, 'granted', 's1')), event(row(2, 'granted', 's2'))];
    const requests = [
      request('batched', T + 5, T + 10, false, a, b),
      request('other', T + 5, T + 7, true, a),
      request('batched', T + 20, T + 31, true, a, b),
      request('batched', T + 40, T + 41, true, a),
    ];
    expect(deliveryDelays('batched', requests).sort((x, y) => x - y)).toEqual([29, 30]);
    expect(deliveryDelays('none', requests)).toEqual([]);
  });
});

describe('checkDeliveries of a license: its denials, and its changes (license.changed, from the audit log)', () => {
  const [denied1, denied2] = [row(1, 'denied', null, 'no_free_seats'), row(2, 'denied', null, 'kicked')].map(event) as [Arrived, Arrived];
  const [change1, change2] = [{ id: 7, licenseId: 'lic', at: 1_800_000_000_100 }, { id: 8, licenseId: 'lic', at: 1_800_000_000_200 }].map(changeEvent) as [Arrived, Arrived];
  const expected = expectedEvents([row(1, 'denied', null, 'no_free_seats'), row(2, 'denied', null, 'kicked')], [{ id: 7, licenseId: 'lic', at: 1_800_000_000_100 }, { id: 8, licenseId: 'lic', at: 1_800_000_000_200 }]);

  it('expects every change, and passes a license\'s denials and changes each in order, in either order between the two', () => {
    expect(expected.map((e) => `${e.id} ${e.type}`)).toEqual([`${denied1.id} seat.denied`, `${denied2.id} seat.denied`, `evt_a7_${(1_800_000_000_100).toString(36)} license.changed`, `evt_a8_${(1_800_000_000_200).toString(36)} license.changed`]);
    const requests = [request('one', 10, 11, true, change1), request('one', 12, 13, true, denied1), request('one', 14, 15, true, change2), request('one', 16, 17, true, denied2)];
    expect(checkDeliveries(expected, 'one', requests)).toEqual([]);
    expect(checkDeliveries(expected, 'one', requests.slice(1)).map((f) => f.message)).toEqual([`webhook one: 1 of 4 events never answered 2xx (${change1.id} license.changed)`]);
  });

  it("finds a license's denial, or change, that came before an earlier one was answered", () => {
    const denials = [request('one', 10, 15, true, denied1), request('one', 12, 13, true, denied2), request('one', 16, 17, true, change1, change2)];
    expect(checkDeliveries(expected, 'one', denials).map((f) => f.message)).toEqual([
      `webhook one: 1 events came before an earlier event of their session or license (first, of license lic denials: seat.denied ${denied2.id} came before seat.denied ${denied1.id} was answered)`,
    ]);
    const changes = [request('batched', 10, 11, true, denied1, denied2, change2), request('batched', 12, 13, true, change1)];
    expect(checkDeliveries(expected, 'batched', changes).map((f) => f.message)).toEqual([
      `webhook batched: 1 events came before an earlier event of their session or license (first, of license lic changes: license.changed ${change2.id} came before license.changed ${change1.id} was answered)`,
    ]);
  });
});

describe('randomAnswers', () => {
  it('answers mostly at once, now and then with a failure, a closed connection or late, and goes down for 0.5 to 3 s', () => {
    // A request every 10 ms.
    let now = 0;
    const answers = randomAnswers(new Rng(7), () => (now += 10));
    const kinds = Array.from({ length: 20_000 }, () => answers.next().kind);
    const count = (kind: string) => kinds.filter((k) => k === kind).length;
    expect(answers.outages()).toBeGreaterThan(2);
    // Failures in a row: an outage's (50 to 300 requests) and nothing else that long.
    const runs = kinds.join(' ').split(/ ?(?:ok|drop|late) ?/).map((r) => (r ? r.split(' ').length : 0));
    expect(runs.filter((n) => n >= 50)).toHaveLength(answers.outages());
    expect(Math.max(...runs)).toBeLessThanOrEqual(301);
    expect(count('ok') / kinds.length).toBeGreaterThan(0.8);
    for (const kind of ['drop', 'late']) expect(count(kind)).toBeGreaterThan(40);
  });
});

describe('HookReceiver', () => {
  let receiver: HookReceiver | undefined;
  afterEach(async () => receiver?.close());

  /** A receiver that answers every request late, and a signed POST of one event to it. */
  async function lateReceiver(spec: HookSpec): Promise<(sessionId: string, signal?: AbortSignal) => Promise<number>> {
    receiver = new HookReceiver(new OpLog(), (): Answer => ({ kind: 'late', ms: 300 }));
    const url = await receiver.listen();
    receiver.register(spec, SECRET);
    let id = 0;
    return async (sessionId, signal) => {
      const e = event(row(++id, 'granted', sessionId));
      const raw = JSON.stringify({ id: e.id, type: e.type, at: e.at, tenantId: 't', licenseId: e.licenseId, data: { sessionId } });
      const res = await fetch(`${url}/hook/${spec.name}`, { method: 'POST', headers: { 'seat-signature': signed(raw) }, body: raw, signal });
      return res.status;
    };
  }

  it('finds more requests in flight than the concurrency, and a session in two requests at once', async () => {
    const post = await lateReceiver({ name: 'two', concurrency: 2, batchSize: 1 });
    expect(await Promise.all([post('s1'), post('s2')])).toEqual([204, 204]);
    expect(receiver!.violations).toEqual([]);
    await Promise.all([post('s1'), post('s2'), post('s3')]);
    await Promise.all([post('s4'), post('s4')]);
    expect(receiver!.violations.map((v) => v.check)).toEqual(['webhook-concurrency', 'webhook-session-twice']);
    expect(receiver!.violations[1]!.message).toBe('webhook two: session s4 is in two requests at once (the first not answered yet)');
    expect(receiver!.requests.filter((r) => r.ok)).toHaveLength(7);
  });

  it("finds a license's events of no session (denials, changes) in two requests at once", async () => {
    receiver = new HookReceiver(new OpLog(), (): Answer => ({ kind: 'late', ms: 300 }));
    const url = await receiver.listen();
    receiver.register({ name: 'two', concurrency: 2, batchSize: 1 }, SECRET);
    const post = async (e: Arrived) => {
      const raw = JSON.stringify({ id: e.id, type: e.type, at: e.at, tenantId: 't', licenseId: e.licenseId, data: { reason: e.reason } });
      return (await fetch(`${url}/hook/two`, { method: 'POST', headers: { 'seat-signature': signed(raw) }, body: raw })).status;
    };
    const other = { ...event(row(2, 'denied', null, 'no_free_seats')), licenseId: 'other' };
    expect(await Promise.all([post(event(row(1, 'denied', null, 'no_free_seats'))), post(other)])).toEqual([204, 204]);
    expect(receiver.violations).toEqual([]);
    await Promise.all([post(event(row(3, 'denied', null, 'no_free_seats'))), post(changeEvent({ id: 9, licenseId: 'lic', at: 1_800_000_000_009 }))]);
    expect(receiver.violations.map((v) => v.message)).toEqual(["webhook two: license lic's events of no session are in two requests at once (the first not answered yet)"]);
  });

  it('counts no request its sender gave up on (the connection closed) as in flight, nor its late answer as delivered', async () => {
    const post = await lateReceiver(one);
    const gaveUp = post('s1', AbortSignal.timeout(50)).catch(() => 'aborted');
    await new Promise((r) => setTimeout(r, 150));
    expect(await post('s1')).toBe(204);
    expect(await gaveUp).toBe('aborted');
    expect(receiver!.violations).toEqual([]);
    await new Promise((r) => setTimeout(r, 250));
    expect(receiver!.requests.map((r) => r.ok)).toEqual([false, true]);
  });

  it('takes requests under the old settings for the grace after a change, and only under the new ones after it', async () => {
    receiver = new HookReceiver(new OpLog(), (): Answer => ({ kind: 'ok' }));
    const url = await receiver.listen();
    receiver.register(batched, SECRET);
    let id = 0;
    const post = async (n: number) => {
      const raw = JSON.stringify(
        Array.from({ length: n }, () => {
          const e = event(row(++id, 'granted', `s${id}`));
          return { id: e.id, type: e.type, at: e.at, tenantId: 't', licenseId: e.licenseId, data: { sessionId: e.sessionId } };
        }),
      );
      return (await fetch(`${url}/hook/batched`, { method: 'POST', headers: { 'seat-signature': signed(raw) }, body: raw })).status;
    };
    receiver.changing({ name: 'batched', concurrency: 2, batchSize: 2 });
    expect(receiver.settings('batched').batchSize).toBe(2);
    // Under way, and in the grace after: 3 events (the old batch size) pass.
    expect(await post(3)).toBe(204);
    receiver.changed('batched', 150);
    expect(await post(3)).toBe(204);
    await new Promise((r) => setTimeout(r, 200));
    expect(await post(2)).toBe(204);
    expect(receiver.violations).toEqual([]);
    expect(await post(3)).toBe(400);
    expect(receiver.violations.map((v) => v.message)).toEqual(['webhook batched: with batchSize 2 the body must be an array of 1 to 2 events, not 3']);
  });

  it('answers a bad signature 400 and reports it', async () => {
    receiver = new HookReceiver(new OpLog(), (): Answer => ({ kind: 'ok' }));
    const url = await receiver.listen();
    receiver.register(one, SECRET);
    const res = await fetch(`${url}/hook/one`, { method: 'POST', headers: { 'seat-signature': signed('{}', undefined, 'whsec_other') }, body: '{}' });
    expect(res.status).toBe(400);
    expect(receiver.violations.map((v) => `${v.check}: ${v.message}`)).toEqual(['webhook-signature: webhook one: the signature does not match the body']);
  });
});
