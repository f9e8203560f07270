// What the webhooks need of the store (server/store/webhooks.ts), in the webhooks' own words: the
// webhooks themselves, their claims across nodes, the outbox they read (seat history and license
// changes) and the delivery log.
import type { DeliveryStatus, WebhookEventType } from './decisions/webhook-delivery';

export interface Webhook {
  id: string;
  /** Null: the operator's, which gets every tenant's events. */
  tenantId: string | null;
  licenseId: string | null;
  url: string;
  events: WebhookEventType[];
  secret: string;
  createdAt: number;
  /** How many of its requests may be in flight at once, no session in two (1: one at a time, in order). */
  concurrency: number;
  /** How many events one request may carry (1: one event per POST, the event the body; above: an array). */
  batchSize: number;
  /** The last seat_events id handled (delivered or given up on). */
  seatCursor: number;
  /** The last audit_log id handled. */
  auditCursor: number;
}

/** How a webhook's events go out, as a PATCH changes it. */
export type DeliverySettings = Partial<Pick<Webhook, 'concurrency' | 'batchSize'>>;

/** Which outbox a row comes from: the seat history, or the audit log's license changes. */
export type OutboxSource = 'seat' | 'audit';

/** A seat history row, with what its license says now. */
export interface SeatOutboxRow {
  id: number;
  licenseId: string;
  /** Null for a moment after its license was deleted, until the deletion's audit entry names it. */
  tenantId: string | null;
  sessionId: string | null;
  /** granted, resumed, idle, released, denied (shared/codes.ts SeatEventType). */
  type: string;
  reason: string | null;
  weight: number;
  seatsInUse: number;
  /** The license's seats when it happened (its seat count history); null once the license is deleted. */
  seats: number | null;
  at: number;
}

/** A `license.update` audit entry. */
export interface AuditOutboxRow {
  id: number;
  licenseId: string;
  tenantId: string;
  actor: string;
  detail: Record<string, unknown>;
  at: number;
}

export interface Delivery {
  id: number;
  webhookId: string;
  eventId: string;
  eventType: string;
  /** The bytes a retry sends again: those of its first attempt. Empty once delivered at the first (never sent again). */
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  createdAt: number;
  lastAttemptAt: number | null;
  nextAttemptAt: number;
  responseStatus: number | null;
  error: string | null;
}

/**
 * An event delivered at its first attempt, logged after the fact with others (one write for many),
 * without its payload: it is never sent again.
 */
export interface DeliveredEvent {
  eventId: string;
  eventType: string;
  /** When its one attempt began (the log entry's creation, as at any first attempt). */
  createdAt: number;
  /** When the answer came. */
  lastAttemptAt: number;
  responseStatus: number;
}

/** What `openTransactions` read, on the database's clock (ms since the epoch). */
export interface OpenTransactions {
  /** When it was read. */
  at: number;
  /** When the oldest transaction open then (other than the read's own) began; null when none was. */
  oldestSince: number | null;
}

/** Which events a webhook reads: its tenant (or all), its license (or all), these seat event types. */
export interface OutboxFilter {
  tenantId: string | null;
  licenseId: string | null;
}

export interface WebhookStore {
  /** Inserts the webhook with its cursors at the newest outbox rows, so only later events are sent. */
  createWebhook(w: Omit<Webhook, 'seatCursor' | 'auditCursor'>): Promise<Webhook>;
  getWebhook(id: string): Promise<Webhook | undefined>;
  /** Oldest first; of one tenant, or every webhook (`undefined`). */
  listWebhooks(tenantId?: string): Promise<Webhook[]>;
  /** Deletes the webhook and its delivery log; false when there was none. */
  deleteWebhook(id: string): Promise<boolean>;
  /** Changes how its events go out (what `settings` holds); false when there is no such webhook. */
  setDelivery(id: string, settings: DeliverySettings): Promise<boolean>;
  /** Newest first; `beforeId` pages on. */
  listDeliveries(webhookId: string, opts: { beforeId?: number; limit: number }): Promise<Delivery[]>;

  /**
   * Renews this node's claims and takes those that are free or lapsed, each with a conditional
   * update (two nodes never both hold one); returns the webhooks this node holds until `now + claimMs`.
   * `alone`: this node runs alone on the store (no Redis: its claim on the database keeps any other
   * node out), so a claim another node holds is a past life's, and is taken too.
   */
  claimWebhooks(nodeId: string, now: number, claimMs: number, alone?: boolean): Promise<Webhook[]>;
  /**
   * Whether some webhook is free or its claim lapsed (a new one, or its node died): one cheap read.
   * `aloneAs`: this node runs alone, and a webhook another node holds counts too.
   */
  anyUnclaimed(now: number, aloneAs?: string): Promise<boolean>;
  /** Lets go of this node's claims (a graceful stop). */
  releaseClaims(nodeId: string): Promise<void>;
  /** The ids (and times) of an outbox's rows after `after`, in id order: the worker's high-water mark. */
  outboxIds(source: OutboxSource, after: number, limit: number): Promise<Array<{ id: number; at: number }>>;
  /** The newest id of each outbox (0 when empty). */
  outboxMax(): Promise<Record<OutboxSource, number>>;
  /** The newest id of an outbox among its rows written at or before `at` (0 when none). */
  outboxMaxAtOrBefore(source: OutboxSource, at: number): Promise<number>;
  /**
   * The transactions open on the database now, where a hole in the outbox ids may be a
   * transaction still to commit (PostgreSQL); undefined where ids are handed out in commit order
   * (SQLite), or where the database does not show every transaction that may write the outbox
   * (another role's, to a role without `pg_read_all_stats`).
   */
  openTransactions(): Promise<OpenTransactions | undefined>;
  /**
   * Seat history rows in (after, upTo] of these types that the filter lets through, in id order,
   * deleted licenses' included (with rows whose tenant is not known yet: `tenantId` null).
   */
  seatOutbox(filter: OutboxFilter, types: readonly string[], after: number, upTo: number, limit: number): Promise<SeatOutboxRow[]>;
  /** `license.update` audit rows in (after, upTo] that the filter lets through, in id order. */
  auditOutbox(filter: OutboxFilter, after: number, upTo: number, limit: number): Promise<AuditOutboxRow[]>;
  /** The event's delivery row, inserted pending when it has none (kept if a first attempt wrote it). */
  openDelivery(d: Pick<Delivery, 'webhookId' | 'eventId' | 'eventType' | 'payload' | 'createdAt' | 'nextAttemptAt'>): Promise<Delivery>;
  /** The delivery rows these events of the webhook have (those not attempted yet have none). */
  deliveriesOf(webhookId: string, eventIds: readonly string[]): Promise<Delivery[]>;
  /**
   * In one transaction: logs events delivered at their first attempt (as `openDelivery` and
   * `recordAttempt` would have: delivered, one attempt; an event already logged is kept as it is),
   * and moves the webhook's cursors forward to these ids (never back).
   */
  recordDelivered(webhookId: string, delivered: readonly DeliveredEvent[], cursors: Partial<Record<OutboxSource, number>>): Promise<void>;
  /** Records an attempt's outcome on a pending delivery. */
  recordAttempt(id: number, r: Pick<Delivery, 'status' | 'attempts' | 'lastAttemptAt' | 'nextAttemptAt' | 'responseStatus' | 'error'>): Promise<void>;
  /** Moves the webhook's cursor back to `id` where it is beyond it (the outbox's ids went back). */
  resetCursor(webhookId: string, source: OutboxSource, id: number): Promise<void>;
  /** Moves the webhook's cursor forward to `id` (never back). */
  advanceCursor(webhookId: string, source: OutboxSource, id: number): Promise<void>;
  /** Forgets finished deliveries created before `before`, and any left by a deleted webhook. */
  pruneDeliveries(before: number): Promise<number>;
}
