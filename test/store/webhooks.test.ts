// The webhooks' store, on SQLite and PostgreSQL: a new webhook's cursor starts at the newest
// outbox rows, the outbox reads give a tenant's (or a license's) events of the subscribed types in
// id order, a cursor never moves back, a delivery row is one per event however often it is opened,
// and claims are exclusive across nodes (two stores racing), taken over only once lapsed.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { advanceMark } from '../../server/seats/decisions/webhook-delivery';
import type { SeatStore } from '../../server/seats/seat-store';
import { OutboxMarks } from '../../server/seats/webhook-marks';
import type { Webhook } from '../../server/seats/webhook-store';
import { PostgresSeatStore } from '../../server/store/postgres-store';
import { describeWith, postgresMissing, startPostgres } from '../support/services';
import { admit, claimant, forEachStore, grant, newLicense } from './store-dialects';

function hook(tenantId: string | null, fields: Partial<Webhook> = {}): Omit<Webhook, 'seatCursor' | 'auditCursor'> {
  return { id: `wh_${randomUUID()}`, tenantId, licenseId: null, url: 'http://127.0.0.1:9/h', events: ['session.started'], secret: 's', createdAt: 1, concurrency: 1, batchSize: 1, ...fields };
}

const ALL = ['granted', 'resumed', 'idle', 'released', 'denied'];

forEachStore('webhook store', (nodes) => {
  it('starts a webhook at the newest rows and reads its tenant\'s events of the types asked, in id order', async () => {
    const [store] = (await nodes(1)) as [SeatStore];
    const a = await newLicense(store, { seats: 1 });
    const b = await newLicense(store);
    await grant(store, a, claimant('before'), 1000);
    const w = await store.webhooks.createWebhook(hook(a.tenantId));
    const max = await store.webhooks.outboxMax();
    expect(w.seatCursor).toBe(max.seat);
    expect((await store.webhooks.getWebhook(w.id))?.seatCursor).toBe(max.seat);

    const denied = await admit(store, a, claimant('denied'), 2000);
    expect(denied.kind).toBe('denied');
    await grant(store, b, claimant('other-tenant'), 2001);
    const upTo = (await store.webhooks.outboxMax()).seat;
    const rows = await store.webhooks.seatOutbox({ tenantId: a.tenantId, licenseId: null }, ALL, w.seatCursor, upTo, 100);
    expect(rows.map((r) => [r.type, r.reason, r.licenseId, r.tenantId, r.seats])).toEqual([['denied', 'no_free_seats', a.id, a.tenantId, 1]]);
    // The operator's filter (no tenant) sees both; a type filter narrows; `upTo` bounds the read.
    const every = await store.webhooks.seatOutbox({ tenantId: null, licenseId: null }, ALL, w.seatCursor, upTo, 100);
    expect(every.map((r) => r.licenseId)).toEqual([a.id, b.id]);
    expect(every[0]!.id).toBeLessThan(every[1]!.id);
    expect(await store.webhooks.seatOutbox({ tenantId: null, licenseId: b.id }, ['granted'], w.seatCursor, upTo, 100)).toHaveLength(1);
    expect(await store.webhooks.seatOutbox({ tenantId: null, licenseId: null }, ['granted'], w.seatCursor, every[0]!.id, 100)).toEqual([]);
    expect(await store.webhooks.seatOutbox({ tenantId: null, licenseId: null }, [], w.seatCursor, upTo, 100)).toEqual([]);

    // The cursor moves forward only.
    await store.webhooks.advanceCursor(w.id, 'seat', upTo);
    await store.webhooks.advanceCursor(w.id, 'seat', upTo - 1);
    expect((await store.webhooks.getWebhook(w.id))?.seatCursor).toBe(upTo);
    // Back only when the outbox's ids went back, and never forward.
    await store.webhooks.resetCursor(w.id, 'seat', upTo + 5);
    expect((await store.webhooks.getWebhook(w.id))?.seatCursor).toBe(upTo);
    await store.webhooks.resetCursor(w.id, 'seat', 1);
    expect((await store.webhooks.getWebhook(w.id))?.seatCursor).toBe(1);
  });

  it("moves a license holding no session, and reads its events as the tenant's that held it then", async () => {
    const [store] = (await nodes(1)) as [SeatStore];
    const lic = await newLicense(store, { seats: 2 });
    const from = lic.tenantId;
    const to = randomUUID();
    await store.createTenant({ id: to, name: 'b', createdAt: 1 }, randomUUID());
    const start = (await store.webhooks.outboxMax()).seat;
    const x = await grant(store, lic, claimant('x'), 1000);
    expect(await store.moveLicense(lic.id, to, 1100)).toEqual({ conflict: expect.stringContaining('1 session') });
    expect((await store.getLicense(lic.id))?.tenantId).toBe(from);
    await store.endSession(x.session.id, 'kicked', 1200);
    const moved = await store.moveLicense(lic.id, to, 1300);
    expect(moved).toMatchObject({ from, license: { id: lic.id, tenantId: to } });
    expect((await store.getLicense(lic.id))?.tenantId).toBe(to);
    await grant(store, { ...lic, tenantId: to }, claimant('y'), 1400);
    const upTo = (await store.webhooks.outboxMax()).seat;
    const read = (tenantId: string | null) => store.webhooks.seatOutbox({ tenantId, licenseId: null }, ALL, start, upTo, 100);
    expect((await read(from)).map((r) => [r.type, r.tenantId])).toEqual([['granted', from], ['released', from]]);
    expect((await read(to)).map((r) => [r.type, r.tenantId])).toEqual([['granted', to]]);
    expect((await read(null)).map((r) => r.tenantId)).toEqual([from, from, to]);
    // Moving it back: the events between are the second tenant's.
    const y = (await store.listSessions(lic.id))[0]!;
    await store.endSession(y.id, 'kicked', 1500);
    expect(await store.moveLicense(lic.id, from, 1600)).toMatchObject({ from: to });
    const upTo2 = (await store.webhooks.outboxMax()).seat;
    const all = await store.webhooks.seatOutbox({ tenantId: null, licenseId: null }, ALL, start, upTo2, 100);
    expect(all.map((r) => [r.type, r.tenantId])).toEqual([['granted', from], ['released', from], ['granted', to], ['released', to]]);
    expect(await store.moveLicense('lic_missing', to, 1700)).toBeUndefined();
  });

  it('gives each row the seats in force when it happened, not the seats now', async () => {
    const [store] = (await nodes(1)) as [SeatStore];
    const lic = await newLicense(store, { seats: 1 });
    const w = await store.webhooks.createWebhook(hook(lic.tenantId));
    await grant(store, lic, claimant('a'), Date.now());
    await store.updateLicense(lic.id, { seats: 3 }, Date.now() + 5);
    await grant(store, lic, claimant('b'), Date.now() + 10);
    const rows = await store.webhooks.seatOutbox({ tenantId: null, licenseId: lic.id }, ['granted'], w.seatCursor, (await store.webhooks.outboxMax()).seat, 10);
    expect(rows.map((r) => [r.seatsInUse, r.seats])).toEqual([[1, 1], [2, 3]]);
  });

  it('reads a deleted license\'s history, its tenant named by the deletion\'s audit entry', async () => {
    const [store] = (await nodes(1)) as [SeatStore];
    const lic = await newLicense(store);
    const w = await store.webhooks.createWebhook(hook(lic.tenantId));
    await grant(store, lic, claimant('a'), 10);
    await store.deleteLicense(lic.id, 20);
    const upTo = (await store.webhooks.outboxMax()).seat;
    const read = () => store.webhooks.seatOutbox({ tenantId: lic.tenantId, licenseId: null }, ALL, w.seatCursor, upTo, 10);
    // Before the audit entry: the rows come with no tenant (the worker waits for it).
    expect((await read()).map((r) => [r.type, r.reason, r.tenantId, r.seats])).toEqual([['granted', null, null, null], ['released', 'license_deleted', null, null]]);
    await store.addAudit({ at: 21, tenantId: lic.tenantId, licenseId: lic.id, actor: 'operator', action: 'license.delete', detail: {} });
    expect((await read()).map((r) => [r.type, r.tenantId])).toEqual([['granted', lic.tenantId], ['released', lic.tenantId]]);
    expect(await store.webhooks.seatOutbox({ tenantId: 'another', licenseId: null }, ALL, w.seatCursor, upTo, 10)).toEqual([]);
  });

  it('keeps a webhook\'s concurrency and batch size, and changes them in place', async () => {
    const [store] = (await nodes(1)) as [SeatStore];
    const lic = await newLicense(store);
    const eight = await store.webhooks.createWebhook(hook(lic.tenantId, { concurrency: 8, batchSize: 25 }));
    const one = await store.webhooks.createWebhook(hook(lic.tenantId));
    expect(await store.webhooks.getWebhook(eight.id)).toMatchObject({ concurrency: 8, batchSize: 25 });
    expect((await store.webhooks.getWebhook(one.id))?.concurrency).toBe(1);
    expect((await store.webhooks.listWebhooks(lic.tenantId)).map((w) => w.concurrency).sort()).toEqual([1, 8]);
    // Changed in place, a field at a time or both; the cursors stay.
    expect(await store.webhooks.setDelivery(one.id, { concurrency: 4 })).toBe(true);
    expect(await store.webhooks.getWebhook(one.id)).toMatchObject({ concurrency: 4, batchSize: 1, seatCursor: one.seatCursor, auditCursor: one.auditCursor });
    expect(await store.webhooks.setDelivery(one.id, { batchSize: 50 })).toBe(true);
    expect(await store.webhooks.getWebhook(one.id)).toMatchObject({ concurrency: 4, batchSize: 50, seatCursor: one.seatCursor });
    expect(await store.webhooks.setDelivery(eight.id, { concurrency: 2, batchSize: 10 })).toBe(true);
    expect(await store.webhooks.getWebhook(eight.id)).toMatchObject({ concurrency: 2, batchSize: 10 });
    expect(await store.webhooks.setDelivery('wh_nobody', { concurrency: 4 })).toBe(false);
  });

  it('keeps one delivery row per event and webhook, and records attempts only while pending', async () => {
    const [store] = (await nodes(1)) as [SeatStore];
    const w = await store.webhooks.createWebhook(hook(null));
    const open = () => store.webhooks.openDelivery({ webhookId: w.id, eventId: 'evt_s1', eventType: 'session.started', payload: '{"a":1}', createdAt: 5, nextAttemptAt: 5 });
    const first = await open();
    await store.webhooks.recordAttempt(first.id, { status: 'pending', attempts: 1, lastAttemptAt: 6, nextAttemptAt: 100, responseStatus: 500, error: null });
    const again = await open();
    expect(again).toMatchObject({ id: first.id, attempts: 1, nextAttemptAt: 100, responseStatus: 500, status: 'pending', payload: '{"a":1}' });
    await store.webhooks.recordAttempt(first.id, { status: 'delivered', attempts: 2, lastAttemptAt: 100, nextAttemptAt: 100, responseStatus: 200, error: null });
    // A late writer (a node that lost its claim) cannot reopen a finished delivery.
    await store.webhooks.recordAttempt(first.id, { status: 'pending', attempts: 3, lastAttemptAt: 101, nextAttemptAt: 200, responseStatus: 500, error: null });
    expect(await open()).toMatchObject({ status: 'delivered', attempts: 2, responseStatus: 200 });
    const second = await store.webhooks.openDelivery({ webhookId: w.id, eventId: 'evt_s2', eventType: 'session.idle', payload: '{}', createdAt: 7, nextAttemptAt: 7 });
    const listed = await store.webhooks.listDeliveries(w.id, { limit: 10 });
    expect(listed.map((d) => d.eventId)).toEqual(['evt_s2', 'evt_s1']);
    expect((await store.webhooks.listDeliveries(w.id, { limit: 10, beforeId: second.id })).map((d) => d.eventId)).toEqual(['evt_s1']);
    // Pruned: finished ones created before the time given, never a pending one.
    const pending = await store.webhooks.openDelivery({ webhookId: w.id, eventId: 'evt_s0', eventType: 'session.started', payload: '{}', createdAt: 1, nextAttemptAt: 1 });
    expect(await store.webhooks.pruneDeliveries(7)).toBe(1);
    expect((await store.webhooks.listDeliveries(w.id, { limit: 10 })).map((d) => d.id)).toEqual([pending.id, second.id]);
    // A delivery logged for a webhook already deleted (by another node) goes too.
    await store.webhooks.openDelivery({ webhookId: 'wh_gone', eventId: 'evt_s9', eventType: 'session.started', payload: '{}', createdAt: 100, nextAttemptAt: 100 });
    expect(await store.webhooks.pruneDeliveries(0)).toBe(1);
    expect(await store.webhooks.deleteWebhook(w.id)).toBe(true);
    expect(await store.webhooks.listDeliveries(w.id, { limit: 10 })).toEqual([]);
    expect(await store.webhooks.deleteWebhook(w.id)).toBe(false);
  });

  it('logs a batch of delivered events with the cursor move in one write, and reads a batch\'s log rows back', async () => {
    const [store] = (await nodes(1)) as [SeatStore];
    const w = await store.webhooks.createWebhook(hook(null));
    const other = await store.webhooks.createWebhook(hook(null));
    // A retried event already logged (pending, two attempts) is kept as it is, not overwritten.
    const pending = await store.webhooks.openDelivery({ webhookId: w.id, eventId: 'evt_s2', eventType: 'session.idle', payload: '{"p":2}', createdAt: 5, nextAttemptAt: 5 });
    await store.webhooks.recordAttempt(pending.id, { status: 'pending', attempts: 2, lastAttemptAt: 6, nextAttemptAt: 50, responseStatus: 500, error: null });
    const done = (n: number) => ({ eventId: `evt_s${n}`, eventType: 'session.started', createdAt: 10 + n, lastAttemptAt: 11 + n, responseStatus: 204 });
    const cursor = w.seatCursor + 3;
    // 250 rows: more than one multi-row insert.
    await store.webhooks.recordDelivered(w.id, [done(1), done(2), done(3), ...Array.from({ length: 247 }, (_, i) => done(100 + i))], { seat: cursor });
    const log = await store.webhooks.listDeliveries(w.id, { limit: 500 });
    expect(log).toHaveLength(250);
    // Newest first: the log's order is the events' order (evt_s2, logged before, is the oldest).
    expect(log.at(-1)!.eventId).toBe('evt_s2');
    // Never sent again: its bytes are not kept.
    expect(log.at(-2)).toMatchObject({ eventId: 'evt_s1', eventType: 'session.started', payload: '', status: 'delivered', attempts: 1, createdAt: 11, lastAttemptAt: 12, responseStatus: 204, error: null });
    expect(log.at(-3)!.eventId).toBe('evt_s3');
    expect(log[0]!.eventId).toBe('evt_s346');
    expect(log.find((d) => d.eventId === 'evt_s2')).toMatchObject({ id: pending.id, status: 'pending', attempts: 2, payload: '{"p":2}' });
    expect((await store.webhooks.getWebhook(w.id))?.seatCursor).toBe(cursor);
    expect((await store.webhooks.getWebhook(w.id))?.auditCursor).toBe(w.auditCursor);
    // The cursor never moves back; another webhook's rows and cursor are untouched.
    await store.webhooks.recordDelivered(w.id, [], { seat: cursor - 2, audit: w.auditCursor + 4 });
    expect(await store.webhooks.getWebhook(w.id)).toMatchObject({ seatCursor: cursor, auditCursor: w.auditCursor + 4 });
    expect(await store.webhooks.getWebhook(other.id)).toMatchObject({ seatCursor: other.seatCursor, auditCursor: other.auditCursor });
    expect(await store.webhooks.listDeliveries(other.id, { limit: 10 })).toEqual([]);

    const read = await store.webhooks.deliveriesOf(w.id, ['evt_s1', 'evt_s2', 'evt_s9', 'evt_s100']);
    expect(read.map((d) => [d.eventId, d.status]).sort()).toEqual([['evt_s1', 'delivered'], ['evt_s100', 'delivered'], ['evt_s2', 'pending']]);
    expect(await store.webhooks.deliveriesOf(other.id, ['evt_s1'])).toEqual([]);
    expect(await store.webhooks.deliveriesOf(w.id, [])).toEqual([]);
  });

  it('lets exactly one node hold each webhook, and another take it over only once the claim lapses', async () => {
    const [one, two] = (await nodes(2)) as [SeatStore, SeatStore];
    const ids = [];
    for (let i = 0; i < 6; i++) ids.push((await one.webhooks.createWebhook(hook(null))).id);
    expect(await one.webhooks.anyUnclaimed(1000)).toBe(true);
    // Racing claims, many rounds: never both.
    for (let round = 0; round < 10; round++) {
      const now = 1000 + round;
      const [a, b] = await Promise.all([one.webhooks.claimWebhooks('node-a', now, 60_000), two.webhooks.claimWebhooks('node-b', now, 60_000)]);
      const held = [...a.map((w) => w.id), ...b.map((w) => w.id)];
      expect(held.sort()).toEqual([...ids].sort());
    }
    expect(await one.webhooks.anyUnclaimed(2000)).toBe(false);
    const a = await one.webhooks.claimWebhooks('node-a', 2000, 60_000);
    const b = await two.webhooks.claimWebhooks('node-b', 2000, 60_000);
    const holder = a.length > 0 ? 'node-a' : 'node-b';
    const other = holder === 'node-a' ? two : one;
    expect(a.length === 0 || b.length === 0).toBe(true);
    // Renewed at 2000 until 62000: the other node gets nothing before that…
    expect(await other.webhooks.claimWebhooks(holder === 'node-a' ? 'node-b' : 'node-a', 61_999, 60_000)).toEqual([]);
    // … and everything once it lapsed (the holder died).
    expect(await other.webhooks.claimWebhooks(holder === 'node-a' ? 'node-b' : 'node-a', 62_001, 60_000)).toHaveLength(6);
    // A graceful stop lets go at once.
    await other.webhooks.releaseClaims(holder === 'node-a' ? 'node-b' : 'node-a');
    expect(await one.webhooks.anyUnclaimed(62_002)).toBe(true);
    expect(await one.webhooks.claimWebhooks('node-c', 62_002, 60_000)).toHaveLength(6);
  });

  it('a node alone on the store (no Redis) takes at once the webhooks a past life of it holds under another NODE_ID', async () => {
    const [store] = (await nodes(1)) as [SeatStore];
    for (let i = 0; i < 3; i++) await store.webhooks.createWebhook(hook(null));
    // The node before a kill -9, its NODE_ID its own (random), held them until 61000.
    expect(await store.webhooks.claimWebhooks('past-life', 1000, 60_000)).toHaveLength(3);
    expect(await store.webhooks.anyUnclaimed(2000)).toBe(false);
    // Nodes of a cluster wait for the claim to lapse; a node alone does not.
    expect(await store.webhooks.claimWebhooks('restarted', 2000, 60_000)).toEqual([]);
    expect(await store.webhooks.anyUnclaimed(2000, 'restarted')).toBe(true);
    expect(await store.webhooks.claimWebhooks('restarted', 2000, 60_000, true)).toHaveLength(3);
    expect(await store.webhooks.anyUnclaimed(2001, 'restarted')).toBe(false);
  });

  it('lists the outbox ids after a mark, and the license changes of the audit log', async () => {
    const [store] = (await nodes(1)) as [SeatStore];
    const lic = await newLicense(store);
    const start = await store.webhooks.outboxMax();
    await grant(store, lic, claimant('a'), 10);
    await grant(store, lic, claimant('b'), 11);
    const ids = await store.webhooks.outboxIds('seat', start.seat, 10);
    expect(ids.map((r) => r.at)).toEqual([10, 11]);
    expect(ids[1]!.id).toBe(ids[0]!.id + 1);
    expect(await store.webhooks.outboxMaxAtOrBefore('seat', 10)).toBe(ids[0]!.id);
    expect(await store.webhooks.outboxMaxAtOrBefore('seat', 9)).toBe(start.seat);
    await store.addAudit({ at: 20, tenantId: lic.tenantId, licenseId: lic.id, actor: 'operator', action: 'license.update', detail: { seats: 4, before: { seats: 3 } } });
    await store.addAudit({ at: 21, tenantId: lic.tenantId, licenseId: lic.id, actor: 'operator', action: 'license.secret-rotate', detail: {} });
    const max = await store.webhooks.outboxMax();
    const changes = await store.webhooks.auditOutbox({ tenantId: lic.tenantId, licenseId: null }, start.audit, max.audit, 10);
    expect(changes.map((c) => [c.licenseId, c.detail])).toEqual([[lic.id, { seats: 4, before: { seats: 3 } }]]);
    expect(await store.webhooks.auditOutbox({ tenantId: 'another', licenseId: null }, start.audit, max.audit, 10)).toEqual([]);
  });
});

describeWith([postgresMissing()])('webhook outbox on PostgreSQL: ids committed out of order', { timeout: 60_000 }, () => {
  it('reads no further than an id whose transaction has not committed, and goes on once it has', async () => {
    const cluster = await startPostgres();
    const url = await cluster.createDatabase('outbox');
    const store = PostgresSeatStore.open(url, 2);
    const client = new pg.Client({ connectionString: url });
    try {
      await store.migrate();
      const lic = await newLicense(store);
      await grant(store, lic, claimant('first'), 1000);
      const mark = (await store.webhooks.outboxMax()).seat;
      await client.connect();
      // A transaction takes the next id and stays open…
      await client.query('begin');
      await client.query("insert into seat_events (license_id, session_id, type, reason, weight, seats_in_use, at) values ($1, null, 'denied', 'no_free_seats', 1, 1, $2)", [lic.id, Date.now()]);
      // … while a later one commits.
      await grant(store, lic, claimant('second'), Date.now());
      const seen = new Map<number, number>();
      const ids = await store.webhooks.outboxIds('seat', mark, 100);
      expect(ids).toHaveLength(1);
      expect(ids[0]!.id).toBe(mark + 2);
      const now = Date.now();
      expect(advanceMark(mark, ids, seen, now, 5000)).toBe(mark);
      await client.query('commit');
      const after = await store.webhooks.outboxIds('seat', mark, 100);
      expect(advanceMark(mark, after, seen, now + 10, 5000)).toBe(mark + 2);
    } finally {
      await client.end().catch(() => undefined);
      await store.close();
      await cluster.destroy();
    }
  });
});

describeWith([postgresMissing()])('webhook outbox on PostgreSQL: holes no transaction can fill', { timeout: 60_000 }, () => {
  it('passes a hole once the transaction that took its id has rolled back, long before the gap wait', async () => {
    const cluster = await startPostgres();
    const url = await cluster.createDatabase('holes');
    const store = PostgresSeatStore.open(url, 2);
    const writer = new pg.Client({ connectionString: url });
    const other = new pg.Client({ connectionString: url });
    try {
      await store.migrate();
      const lic = await newLicense(store);
      await grant(store, lic, claimant('first'), 1000);
      const base = (await store.webhooks.outboxMax()).seat;
      const w = await store.webhooks.createWebhook(hook(null));
      // A gap wait no test would sit out: only the open transactions can let the hole pass.
      const marks = new OutboxMarks({ store: store.webhooks, now: Date.now, gapWaitMs: 600_000, checkEveryMs: 60_000 });
      expect(await marks.advance([w])).toEqual({});
      expect(marks.current!.seat).toBe(base);
      const insert = "insert into seat_events (license_id, session_id, type, reason, weight, seats_in_use, at) values ($1, null, 'denied', 'no_free_seats', 1, 1, $2)";
      await writer.connect();
      await other.connect();

      // A transaction takes the next id and stays open while a later one commits: the mark waits.
      await writer.query('begin');
      await writer.query(insert, [lic.id, Date.now()]);
      await grant(store, lic, claimant('second'), Date.now());
      // An idle session, and one in a transaction that began later, hold nothing back.
      await marks.advance([w]);
      await marks.advance([w]);
      expect(marks.current!.seat).toBe(base);
      const open = await store.webhooks.openTransactions();
      expect(open!.oldestSince).not.toBeNull();
      expect(open!.oldestSince!).toBeLessThan(open!.at);
      await other.query('begin');
      await other.query('select 1');

      // Rolled back: nothing can fill the hole, though a transaction begun after it still runs.
      await writer.query('rollback');
      await marks.advance([w]);
      expect(marks.current!.seat).toBe(base + 2);
      await other.query('commit');

      // Committed instead: its row is read, in order, with the one after it.
      await writer.query('begin');
      await writer.query(insert, [lic.id, Date.now()]);
      await grant(store, lic, claimant('third'), Date.now());
      await marks.advance([w]);
      await marks.advance([w]);
      expect(marks.current!.seat).toBe(base + 2);
      await writer.query('commit');
      await marks.advance([w]);
      expect(marks.current!.seat).toBe(base + 4);
      expect((await store.webhooks.outboxIds('seat', base + 2, 10)).map((r) => r.id)).toEqual([base + 3, base + 4]);
    } finally {
      await writer.end().catch(() => undefined);
      await other.end().catch(() => undefined);
      await store.close();
      await cluster.destroy();
    }
  });

  it('cannot tell when another role\'s transactions are hidden from it, and then waits', async () => {
    const cluster = await startPostgres();
    const url = await cluster.createDatabase('hidden');
    const setup = new pg.Client({ connectionString: url });
    await setup.connect();
    await setup.query('create role limited login');
    await setup.end();
    const store = PostgresSeatStore.open(url.replace('postgres@', 'limited@'), 2);
    const admin = new pg.Client({ connectionString: url });
    try {
      // Only its own role's backends in this database: every transaction shows.
      expect(await store.webhooks.openTransactions()).toMatchObject({ oldestSince: null });
      // Another role's backend shows nothing of itself, idle or not.
      await admin.connect();
      expect(await store.webhooks.openTransactions()).toBeUndefined();
      await admin.query('begin');
      await admin.query('select 1');
      expect(await store.webhooks.openTransactions()).toBeUndefined();
      await admin.query('commit');
    } finally {
      await admin.end().catch(() => undefined);
      await store.close();
      await cluster.destroy();
    }
  });
});

describe('advanceMark', () => {
  it('passes contiguous ids, waits at a hole, and passes it once the row after it is gapWaitMs old', () => {
    const seen = new Map<number, number>();
    expect(advanceMark(4, [{ id: 5, at: 100 }, { id: 6, at: 100 }, { id: 8, at: 1000 }], seen, 1000, 500)).toBe(6);
    expect(seen.get(8)).toBe(1000);
    expect(advanceMark(6, [{ id: 8, at: 1000 }], seen, 1400, 500)).toBe(6);
    expect(advanceMark(6, [{ id: 8, at: 1000 }, { id: 9, at: 1001 }], seen, 1500, 500)).toBe(9);
    expect(seen.size).toBe(0);
    // Old rows after a hole (deleted history, a restart) are passed at once.
    expect(advanceMark(1, [{ id: 7, at: 10 }], new Map(), 5000, 500)).toBe(7);
  });

  it('passes a hole the caller knows is settled at once, and only that one', () => {
    const settled = (id: number) => id === 8;
    expect(advanceMark(6, [{ id: 8, at: 1000 }, { id: 9, at: 1000 }, { id: 12, at: 1000 }], new Map(), 1000, 500, settled)).toBe(9);
  });
});
