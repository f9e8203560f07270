// Delivers webhooks (docs/contract.md "Webhooks"). Each node claims webhooks in the store (one
// node at a time holds each, renewed while it lives) and delivers each one on its own: one event
// at a time in outbox order, so a session's events arrive in order and a slow or failing receiver
// holds up only its own webhook. An event's cursor moves only after a 2xx (or after giving up), and
// the delivery log keeps the retry schedule, so a `kill -9` loses nothing: the next owner sends
// again what was not acknowledged (at least once).
import { lookup } from 'node:dns/promises';
import type { WebhookConfig } from '../config';
import {
  afterAttempt,
  type AttemptResult,
  eventOfAuditRow,
  eventsOfSeatRow,
  isPrivateAddress,
  type RetrySchedule,
  rowFor,
  seatTypesFor,
  signatureHeader,
  type WebhookEvent,
} from './decisions/webhook-delivery';
import { OutboxMarks } from './webhook-marks';
import type { OutboxSource, Webhook, WebhookStore } from './webhook-store';

export interface WebhookWorkerDeps {
  store: WebhookStore;
  nodeId: string;
  options: WebhookConfig & { retentionMs: number };
  now: () => number;
  onError: (source: string, err: unknown) => void;
}

type Step = { kind: 'progress' } | { kind: 'idle' } | { kind: 'wait'; until: number };

/** A webhook this node holds: where it has read to, and whether a delivery is under way. */
interface Held {
  webhook: Webhook;
  /** Read past here (in memory: the durable cursor, or further where nothing matched). */
  pos: Record<OutboxSource, number>;
  busy?: Promise<void>;
  /** A pending delivery's next attempt. */
  waitUntil?: number;
  abort: AbortController;
}


export class WebhookWorker {
  private timer?: NodeJS.Timeout;
  private ticking = false;
  private readonly marks: OutboxMarks;
  private readonly held = new Map<string, Held>();
  private claimedUntil = 0;
  private lastClaim = -Infinity;
  private lastPrune = -Infinity;
  private readonly schedule: RetrySchedule;

  constructor(private readonly deps: WebhookWorkerDeps) {
    const o = deps.options;
    this.schedule = { baseMs: o.retryBaseMs, maxMs: o.retryMaxMs, giveUpMs: o.giveUpSec * 1000 };
    this.marks = new OutboxMarks({ store: deps.store, now: deps.now, gapWaitMs: o.gapWaitMs, checkEveryMs: o.claimMs / 3 });
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.deps.options.pollMs);
    this.timer.unref();
    void this.tick();
  }

  /** Stops delivering: attempts under way are abandoned (sent again later), and the claims let go. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const h of this.held.values()) h.abort.abort();
    await Promise.allSettled([...this.held.values()].map((h) => h.busy));
    this.held.clear();
    await this.deps.store.releaseClaims(this.deps.nodeId).catch((err) => this.deps.onError('webhooks', err));
  }

  /** One round: read how far the outbox may be read, renew the claims, start the webhooks with work. */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const { store, nodeId, options, now } = this.deps;
      // Renewed at a third of the claim; a webhook nobody holds (just created, or its node gone) at once.
      if (now() - this.lastClaim >= options.claimMs / 3 || (await store.anyUnclaimed(now()))) {
        const at = now();
        const mine = await store.claimWebhooks(nodeId, at, options.claimMs);
        this.lastClaim = at;
        this.claimedUntil = at + options.claimMs;
        this.hold(mine);
      }
      // A node holding no webhook reads no outbox.
      if (this.held.size === 0) {
        this.marks.clear();
        return;
      }
      const wentBack = await this.marks.advance([...this.held.values()].map((h) => h.webhook));
      for (const [source, back] of Object.entries(wentBack) as Array<[OutboxSource, number]>) {
        for (const h of this.held.values()) {
          if (h.pos[source] <= back) continue;
          h.pos[source] = back;
          await store.resetCursor(h.webhook.id, source, back);
        }
      }
      for (const h of this.held.values()) {
        if (h.busy || !this.hasWork(h)) continue;
        h.busy = this.run(h)
          .catch((err) => this.deps.onError('webhooks', err))
          .finally(() => (h.busy = undefined));
      }
      if (now() - this.lastPrune >= 3_600_000) {
        this.lastPrune = now();
        await store.pruneDeliveries(now() - options.retentionMs);
      }
    } catch (err) {
      this.deps.onError('webhooks', err);
    } finally {
      this.ticking = false;
    }
  }

  /** Stops delivering a webhook deleted on this node at once (other nodes drop it at their next renewal). */
  forget(webhookId: string): void {
    this.held.get(webhookId)?.abort.abort();
    this.held.delete(webhookId);
  }

  /** Takes on the webhooks claimed, and drops those no longer held (deleted, or taken over). */
  private hold(mine: Webhook[]): void {
    const ids = new Set(mine.map((w) => w.id));
    for (const [id, h] of this.held) {
      if (ids.has(id)) continue;
      h.abort.abort();
      this.held.delete(id);
    }
    for (const w of mine) {
      const h = this.held.get(w.id);
      if (h) continue;
      this.held.set(w.id, { webhook: w, pos: { seat: w.seatCursor, audit: w.auditCursor }, abort: new AbortController() });
    }
  }

  private hasWork(h: Held): boolean {
    const m = this.marks.current!;
    if (h.waitUntil !== undefined) return this.deps.now() >= h.waitUntil;
    return h.pos.seat < m.seat || (h.webhook.events.includes('license.changed') && h.pos.audit < m.audit);
  }

  /** Delivers the webhook's events one after another while the claim holds and there are some. */
  private async run(h: Held): Promise<void> {
    h.waitUntil = undefined;
    while (!h.abort.signal.aborted && this.held.get(h.webhook.id) === h) {
      // An attempt must end before the claim could lapse, or two nodes might deliver at once.
      if (this.deps.now() + this.deps.options.timeoutMs >= this.claimedUntil) return;
      const step = await this.step(h);
      if (step.kind === 'idle') return;
      if (step.kind === 'wait') {
        h.waitUntil = step.until;
        return;
      }
    }
  }

  private async step(h: Held): Promise<Step> {
    const { store } = this.deps;
    const w = h.webhook;
    const marks = { ...this.marks.current! };
    const filter = { tenantId: w.tenantId, licenseId: w.licenseId };
    const [seat] = await store.seatOutbox(filter, seatTypesFor(w.events), h.pos.seat, marks.seat, 1);
    const [audit] = w.events.includes('license.changed') ? await store.auditOutbox(filter, h.pos.audit, marks.audit, 1) : [];
    if (!seat && !audit) {
      h.pos = { seat: Math.max(h.pos.seat, marks.seat), audit: Math.max(h.pos.audit, marks.audit) };
      return { kind: 'idle' };
    }
    // The two outboxes merged by time; a session's events all come from the seat history, in id order.
    const source: OutboxSource = seat && (!audit || seat.at <= audit.at) ? 'seat' : 'audit';
    const rowId = source === 'seat' ? seat!.id : audit!.id;
    const fit = source === 'seat' ? rowFor(seat!, w.tenantId, this.deps.now()) : 'deliver';
    if (fit === 'wait') return { kind: 'wait', until: this.deps.now() + this.deps.options.pollMs * 4 };
    const events = fit === 'skip' ? [] : source === 'seat' ? eventsOfSeatRow(seat!, w.events) : [eventOfAuditRow(audit!)];
    for (const event of events) {
      const step = await this.deliver(h, event);
      if (step) return step;
    }
    if (events.length > 0) await store.advanceCursor(w.id, source, rowId);
    h.pos[source] = rowId;
    return { kind: 'progress' };
  }

  /** The event's delivery, attempted when due; a step to stop at when it is not finished. */
  private async deliver(h: Held, event: WebhookEvent): Promise<Step | undefined> {
    const { store, now } = this.deps;
    const d = await store.openDelivery({
      webhookId: h.webhook.id,
      eventId: event.id,
      eventType: event.type,
      payload: JSON.stringify(event),
      createdAt: now(),
      nextAttemptAt: now(),
    });
    if (d.status !== 'pending') return undefined;
    if (d.nextAttemptAt > now()) return { kind: 'wait', until: d.nextAttemptAt };
    const result = await this.attempt(h, d.payload);
    // Stopped mid-attempt: nothing is recorded, the next owner sends it again.
    if (h.abort.signal.aborted) return { kind: 'idle' };
    const at = now();
    const next = afterAttempt(d, result, at, this.schedule);
    await store.recordAttempt(d.id, {
      ...next,
      lastAttemptAt: at,
      responseStatus: 'responseStatus' in result ? result.responseStatus : null,
      error: 'error' in result ? result.error : null,
    });
    return next.status === 'pending' ? { kind: 'wait', until: next.nextAttemptAt } : undefined;
  }

  /** One POST, signed now; any answer or failure is a result, never a throw. */
  private async attempt(h: Held, body: string): Promise<AttemptResult> {
    const { url, secret } = h.webhook;
    const { allowPrivate, timeoutMs } = this.deps.options;
    // One deadline for the whole attempt, the address check included: it must end inside the claim.
    const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), h.abort.signal]);
    try {
      if (!allowPrivate) {
        const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
        const aborted = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
        // The deadline fires after a lookup that answered in time too: that rejection is nobody's.
        aborted.catch(() => undefined);
        const addresses = await Promise.race([lookup(host, { all: true }), aborted]);
        if (addresses.some((a) => isPrivateAddress(a.address))) return { error: `refused: ${host} resolves to a private address` };
      }
      const res = await fetch(url, {
        method: 'POST',
        body,
        redirect: 'manual',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'live-seat-server-webhooks/1',
          'seat-signature': signatureHeader(secret, body, this.deps.now()),
        },
        signal,
      });
      await res.body?.cancel().catch(() => undefined);
      return { responseStatus: res.status };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      if (e.name === 'TimeoutError') return { error: `no answer within ${timeoutMs} ms` };
      return { error: e.cause?.code ?? e.message };
    }
  }
}
