// Sends one webhook's events (docs/contract.md "Webhooks") for the node holding it
// (webhook-worker.ts): in outbox order, one event per POST or (its `batchSize`) a JSON array of up
// to that many, one request at a time or (its `concurrency`) a window of requests at once that
// share no session (decisions/webhook-batch.ts, `windowGroups`), whose outcomes are recorded event
// by event in outbox order, so a session's events still arrive in the order they happened. The outbox is read a
// batch of rows at a time, the batch's delivery log rows in one read, and the events delivered at
// their first attempt are logged together with the cursor's move in one transaction (at the end
// of the batch, before any wait, and at least every FLUSH_MS): one read and one write per batch
// instead of five round trips per event. A failed attempt is logged at once (its retry schedule
// must outlive a restart). Until the batch's write, a crash loses only the record that those
// events were sent: the next owner sends them again (at least once, as the contract says).
import {
  afterAttempt,
  type AttemptResult,
  eventOfAuditRow,
  eventsOfSeatRow,
  type RetrySchedule,
  rowFor,
  seatTypesFor,
  signatureHeader,
  type WebhookEvent,
} from './decisions/webhook-delivery';
import { mergeOutbox, WEBHOOK_MAX_BATCH, WEBHOOK_MAX_CONCURRENCY, windowGroups } from './decisions/webhook-batch';
import type { WebhookHttp } from './webhook-http';
import type { DeliveredEvent, Delivery, OutboxSource, Webhook, WebhookStore } from './webhook-store';

/** Outbox rows read per batch. */
export const BATCH = 100;
/** The longest delivered events go unlogged while a batch is under way (a slow receiver). */
const FLUSH_MS = 500;

export type Step = { kind: 'progress' } | { kind: 'idle' } | { kind: 'wait'; until: number };

export interface SenderDeps {
  store: WebhookStore;
  http: WebhookHttp;
  now: () => number;
  options: { timeoutMs: number; pollMs: number };
  schedule: RetrySchedule;
  /** Until when this node holds its claims. */
  claimedUntil: () => number;
  /** How far the outboxes may be read. */
  marks: () => Readonly<Record<OutboxSource, number>>;
}

/** One event of a batch: what the delivery log says of it, and the key its order is kept by. */
interface Item {
  event: WebhookEvent;
  logged: Delivery | undefined;
  key: string;
}

/** One POST of a window: the events' bytes, in order, and what came of it. */
interface Request {
  payloads: string[];
  startedAt: number;
  result?: AttemptResult;
  at?: number;
}

const delivered = (r: AttemptResult): r is { responseStatus: number } => 'responseStatus' in r && r.responseStatus >= 200 && r.responseStatus < 300;

export class WebhookSender {
  /** Read past here (in memory: the durable cursor, or further where nothing matched). */
  pos: Record<OutboxSource, number>;
  /** The cursors as last written. */
  private durable: Record<OutboxSource, number>;
  busy?: Promise<void>;
  /** A pending delivery's next attempt. */
  waitUntil?: number;
  readonly abort = new AbortController();
  /** Deleted on this node: nothing more is written for it. */
  deleted = false;
  private unlogged: DeliveredEvent[] = [];
  private cursors: Partial<Record<OutboxSource, number>> = {};
  private unloggedSince = 0;

  constructor(
    readonly webhook: Webhook,
    private readonly deps: SenderDeps,
  ) {
    this.pos = { seat: webhook.seatCursor, audit: webhook.auditCursor };
    this.durable = { ...this.pos };
  }

  /** The outbox ids went back below `back` (SQLite after pruning): reads and the cursor go back too. */
  async goBack(source: OutboxSource, back: number): Promise<void> {
    if (this.pos[source] <= back) return;
    this.pos[source] = back;
    this.durable[source] = Math.min(this.durable[source], back);
    await this.deps.store.resetCursor(this.webhook.id, source, back);
  }

  /** Delivers batches while the claim holds, there are events, and none is waiting for a retry. */
  async run(stillHeld: () => boolean): Promise<void> {
    this.waitUntil = undefined;
    try {
      while (!this.abort.signal.aborted && stillHeld()) {
        const step = await this.batch();
        if (step.kind === 'idle') return;
        if (step.kind === 'wait') {
          this.waitUntil = step.until;
          return;
        }
      }
    } finally {
      if (!this.deleted) await this.flush();
    }
  }

  private async batch(): Promise<Step> {
    const { store, now, options } = this.deps;
    const w = this.webhook;
    const marks = { ...this.deps.marks() };
    const filter = { tenantId: w.tenantId, licenseId: w.licenseId };
    const seat = await store.seatOutbox(filter, seatTypesFor(w.events), this.pos.seat, marks.seat, BATCH);
    const audit = w.events.includes('license.changed') ? await store.auditOutbox(filter, this.pos.audit, marks.audit, BATCH) : [];
    if (seat.length === 0 && audit.length === 0) {
      this.pos = { seat: Math.max(this.pos.seat, marks.seat), audit: Math.max(this.pos.audit, marks.audit) };
      return { kind: 'idle' };
    }
    // The batch's events, in order, up to a row whose tenant is not known yet.
    const rows: Array<{ source: OutboxSource; id: number; events: WebhookEvent[]; key: string }> = [];
    let end: Step = { kind: 'progress' };
    for (const r of mergeOutbox(seat, audit, BATCH)) {
      const fit = r.source === 'seat' ? rowFor(r.row, w.tenantId, now()) : 'deliver';
      if (fit === 'wait') {
        end = { kind: 'wait', until: now() + options.pollMs * 4 };
        break;
      }
      const events = fit === 'skip' ? [] : r.source === 'seat' ? eventsOfSeatRow(r.row, w.events) : [eventOfAuditRow(r.row)];
      // A session's events keep their order; events of no session keep theirs within the license.
      const key = r.source === 'seat' && r.row.sessionId !== null ? `session:${r.row.sessionId}` : `license:${r.row.licenseId}`;
      rows.push({ source: r.source, id: r.row.id, events, key });
    }
    const logged = new Map((await store.deliveriesOf(w.id, rows.flatMap((r) => r.events.map((e) => e.id)))).map((d) => [d.eventId, d]));
    const items: Item[] = rows.flatMap((row) => row.events.map((event) => ({ event, logged: logged.get(event.id), key: row.key })));
    // A row's cursor moves once every event before its end is handled (`done`).
    let done = 0;
    let moved = 0;
    let itemsBefore = 0;
    const advance = async () => {
      for (; moved < rows.length; moved++) {
        const row = rows[moved]!;
        if (itemsBefore + row.events.length > done) return;
        itemsBefore += row.events.length;
        this.pos[row.source] = row.id;
        if (row.events.length > 0) this.cursors[row.source] = row.id;
        if (this.unlogged.length > 0 && now() - this.unloggedSince >= FLUSH_MS) await this.flush();
      }
    };
    await advance();
    while (done < items.length) {
      const next = items.slice(done, done + WEBHOOK_MAX_CONCURRENCY * WEBHOOK_MAX_BATCH);
      const { handled, stop } = await this.deliverWindow(next, windowGroups(next.map((i) => i.key), w.concurrency, w.batchSize));
      done += handled;
      await advance();
      if (stop) return stop;
    }
    await this.flush();
    return end;
  }

  /**
   * Sends a window of events at once, as requests of the sizes `groups` gives (no session in two of
   * them), and records what came of each event in order. `handled` counts the events before the
   * first that must be waited for (its retry, or a claim too short for an attempt); the events
   * after it that went out are recorded too (delivered ones are then skipped, as logged, when the
   * webhook comes back to them).
   */
  private async deliverWindow(window: Item[], groups: number[]): Promise<{ handled: number; stop?: Step }> {
    const { now } = this.deps;
    const requests: Request[] = [];
    /** The window's events in order, each with the request it went out in (none: logged as done). */
    const sent: Array<{ item: Item; payload: string; request: Request } | undefined> = [];
    let stop: Step | undefined;
    let at = 0;
    window: for (const length of groups) {
      let request: Request | undefined;
      for (const item of window.slice(at, at + length)) {
        const { logged } = item;
        if (logged && logged.status !== 'pending') {
          sent.push(undefined);
          continue;
        }
        if (logged && logged.nextAttemptAt > now()) {
          stop = { kind: 'wait', until: logged.nextAttemptAt };
          break window;
        }
        // An attempt must end before the claim could lapse, or two nodes might deliver at once.
        if (now() + this.deps.options.timeoutMs >= this.deps.claimedUntil()) {
          stop = { kind: 'idle' };
          break window;
        }
        if (!request) requests.push((request = { payloads: [], startedAt: now() }));
        // A retry sends the bytes logged at its first attempt.
        const payload = logged?.payload ?? JSON.stringify(item.event);
        request.payloads.push(payload);
        sent.push({ item, payload, request });
      }
      at += length;
    }
    // With a batch size above 1 the body is always an array, so a receiver reads one shape.
    const batched = this.webhook.batchSize > 1;
    await Promise.all(
      requests.map(async (r) => {
        r.result = await this.attempt(batched ? `[${r.payloads.join(',')}]` : r.payloads[0]!);
        r.at = now();
      }),
    );
    // Stopped mid-attempt: nothing is recorded, the next owner sends them again.
    if (this.abort.signal.aborted) return { handled: 0, stop: { kind: 'idle' } };
    let handled = sent.length;
    for (let i = 0; i < sent.length; i++) {
      const s = sent[i];
      if (!s) continue;
      const wait = await this.record(s.item, s.payload, s.request.startedAt, s.request.result!, s.request.at!);
      if (wait && handled === sent.length) {
        handled = i;
        stop = wait;
      }
    }
    return { handled, stop };
  }

  /** What came of an attempt: a first one delivered is logged with its batch; anything else at once. */
  private async record(item: Item, payload: string, startedAt: number, result: AttemptResult, at: number): Promise<Step | undefined> {
    const { store } = this.deps;
    const { event, logged } = item;
    if (!logged && delivered(result)) {
      if (this.unlogged.length === 0) this.unloggedSince = at;
      this.unlogged.push({ eventId: event.id, eventType: event.type, payload, createdAt: startedAt, lastAttemptAt: at, responseStatus: result.responseStatus });
      return undefined;
    }
    // Logged now, after the events delivered before it, so the log keeps their order.
    await this.flush();
    const d = logged ?? (await store.openDelivery({ webhookId: this.webhook.id, eventId: event.id, eventType: event.type, payload, createdAt: startedAt, nextAttemptAt: startedAt }));
    const next = afterAttempt(d, result, at, this.deps.schedule);
    await store.recordAttempt(d.id, {
      ...next,
      lastAttemptAt: at,
      responseStatus: 'responseStatus' in result ? result.responseStatus : null,
      error: 'error' in result ? result.error : null,
    });
    return next.status === 'pending' ? { kind: 'wait', until: next.nextAttemptAt } : undefined;
  }

  /** Logs the events delivered since the last write and moves the cursors, in one transaction. */
  private async flush(): Promise<void> {
    if (this.unlogged.length === 0 && Object.keys(this.cursors).length === 0) return;
    const [unlogged, cursors] = [this.unlogged, this.cursors];
    this.unlogged = [];
    this.cursors = {};
    try {
      await this.deps.store.recordDelivered(this.webhook.id, unlogged, cursors);
      for (const [source, id] of Object.entries(cursors) as Array<[OutboxSource, number]>) this.durable[source] = Math.max(this.durable[source], id);
    } catch (err) {
      // Not recorded: read again from the cursors as written, and send again (at least once).
      this.pos = { ...this.durable };
      throw err;
    }
  }

  /** One POST, signed now; any answer or failure is a result, never a throw. */
  private attempt(body: string): Promise<AttemptResult> {
    return this.deps.http.post({
      url: this.webhook.url,
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'live-seat-server-webhooks/1',
        'seat-signature': signatureHeader(this.webhook.secret, body, this.deps.now()),
      },
      stop: this.abort.signal,
      timeoutMs: this.deps.options.timeoutMs,
    });
  }
}
