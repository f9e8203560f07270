// Delivers webhooks (docs/contract.md "Webhooks"). Each node claims webhooks in the store (one
// node at a time holds each, renewed while it lives) and delivers each one on its own: in outbox
// order, one request at a time or (its `concurrency`) several in flight that share no session,
// each of one event or (its `batchSize`) an array of several, so a session's events arrive in
// order and a slow or failing receiver holds up only its own webhook. An event's cursor moves only
// after a 2xx (or after giving up), and the delivery log keeps the retry schedule, so a `kill -9` loses nothing: the next owner sends
// again what was not acknowledged (at least once). Sending one webhook's events is
// webhook-sender.ts; this file holds the claims and the outbox marks, and starts the senders.
import type { WebhookConfig } from '../config';
import type { RetrySchedule } from './decisions/webhook-delivery';
import { WebhookHttp } from './webhook-http';
import { OutboxMarks } from './webhook-marks';
import { type SenderDeps, WebhookSender } from './webhook-sender';
import type { DeliverySettings, OutboxSource, Webhook, WebhookStore } from './webhook-store';

export interface WebhookWorkerDeps {
  store: WebhookStore;
  nodeId: string;
  /**
   * This node runs alone on the store (no Redis): a claim another node holds is a past life's (a
   * crash, with a NODE_ID of its own), taken at once rather than after it lapses (WEBHOOK_CLAIM_MS).
   */
  alone?: boolean;
  options: WebhookConfig & { retentionMs: number };
  now: () => number;
  onError: (source: string, err: unknown) => void;
}

export class WebhookWorker {
  private timer?: NodeJS.Timeout;
  /** A round at a retry's time (`wakeAt`). */
  private wake?: { at: number; timer: NodeJS.Timeout };
  private ticking = false;
  private again = false;
  private readonly marks: OutboxMarks;
  private readonly held = new Map<string, WebhookSender>();
  private claimedUntil = 0;
  private lastClaim = -Infinity;
  private lastPrune = -Infinity;
  private readonly schedule: RetrySchedule;
  private readonly http: WebhookHttp;
  private readonly sender: SenderDeps;

  constructor(private readonly deps: WebhookWorkerDeps) {
    const o = deps.options;
    this.schedule = { baseMs: o.retryBaseMs, maxMs: o.retryMaxMs, giveUpMs: o.giveUpSec * 1000 };
    this.http = new WebhookHttp(o.allowPrivate);
    this.sender = {
      store: deps.store,
      http: this.http,
      now: deps.now,
      options: o,
      schedule: this.schedule,
      claimedUntil: () => this.claimedUntil,
      marks: () => this.marks.current!,
    };
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
    clearTimeout(this.wake?.timer);
    this.wake = undefined;
    for (const h of this.held.values()) h.abort.abort();
    await Promise.allSettled([...this.held.values()].map((h) => h.busy));
    this.held.clear();
    this.http.close();
    await this.deps.store.releaseClaims(this.deps.nodeId).catch((err) => this.deps.onError('webhooks', err));
  }

  /** One round: read how far the outbox may be read, renew the claims, start the webhooks with work. */
  async tick(): Promise<void> {
    if (this.ticking) {
      // A round asked for while one runs (a retry's wake) runs right after it.
      this.again = true;
      return;
    }
    this.ticking = true;
    try {
      const { store, nodeId, options, now, alone } = this.deps;
      // Renewed at a third of the claim; a webhook nobody holds (just created, or its node gone) at once.
      if (now() - this.lastClaim >= options.claimMs / 3 || (await store.anyUnclaimed(now(), alone ? nodeId : undefined))) {
        const at = now();
        const mine = await store.claimWebhooks(nodeId, at, options.claimMs, alone);
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
        for (const h of this.held.values()) await h.goBack(source, back);
      }
      for (const h of this.held.values()) {
        if (h.busy || !this.hasWork(h)) continue;
        h.busy = h
          .run(() => this.held.get(h.webhook.id) === h)
          .catch((err) => this.deps.onError('webhooks', err))
          .finally(() => {
            h.busy = undefined;
            if (h.waitUntil !== undefined) this.wakeAt(h.waitUntil);
          });
      }
      if (now() - this.lastPrune >= 3_600_000) {
        this.lastPrune = now();
        await store.pruneDeliveries(now() - options.retentionMs);
      }
    } catch (err) {
      this.deps.onError('webhooks', err);
    } finally {
      this.ticking = false;
      if (this.again && this.timer) {
        this.again = false;
        setImmediate(() => void this.tick());
      }
    }
  }

  /** Stops delivering a webhook deleted on this node at once (other nodes drop it at their next renewal). */
  forget(webhookId: string): void {
    const h = this.held.get(webhookId);
    if (h) h.deleted = true;
    h?.abort.abort();
    this.held.delete(webhookId);
  }

  /** How a webhook's events go out changed on this node: from its next request on (other nodes see it at their next renewal). */
  changed(webhookId: string, settings: DeliverySettings): void {
    const h = this.held.get(webhookId);
    if (h) Object.assign(h.webhook, settings);
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
      // Held already: a change made on another node (its concurrency, its batch size) applies from its next request.
      if (h) Object.assign(h.webhook, { concurrency: w.concurrency, batchSize: w.batchSize } satisfies DeliverySettings);
      else this.held.set(w.id, new WebhookSender(w, this.sender));
    }
  }

  /**
   * A retry falls due between two polls: a round then, so it goes at its `nextAttemptAt` rather
   * than up to WEBHOOK_POLL_MS later (the earliest such time is kept; a round under way then runs
   * another after it).
   */
  private wakeAt(at: number): void {
    if (!this.timer || (this.wake && this.wake.at <= at)) return;
    clearTimeout(this.wake?.timer);
    const timer = setTimeout(() => {
      this.wake = undefined;
      void this.tick();
    }, Math.max(0, at - this.deps.now()) + 1);
    timer.unref();
    this.wake = { at, timer };
  }

  private hasWork(h: WebhookSender): boolean {
    const m = this.marks.current!;
    if (h.waitUntil !== undefined) return this.deps.now() >= h.waitUntil;
    return h.pos.seat < m.seat || (h.webhook.events.includes('license.changed') && h.pos.audit < m.audit);
  }
}
