// Signed webhooks (docs/contract.md "Webhooks"): what admins do with them (create, list, delete,
// read the delivery log), each scoped to the actor as every read is, and the node's delivery
// worker (webhook-worker.ts), started and stopped with the other seat parts.
import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { echoId, ErrorCode } from '../../shared';
import type { SeatServerConfig } from '../config';
import { type Actor, mayTouch, tenantScope } from './actor';
import type { Administration } from './administration';
import { isPrivateAddress, WEBHOOK_EVENT_TYPES, type WebhookEventType } from './decisions/webhook-delivery';
import { SeatError } from './seat-error';
import type { SeatStore } from './seat-store';
import { WebhookWorker } from './webhook-worker';
import type { License } from './types';
import type { Delivery, DeliverySettings, Webhook } from './webhook-store';

export interface SeatWebhooksDeps {
  store: Pick<SeatStore, 'webhooks' | 'getLicense'>;
  admin: Pick<Administration, 'audit'>;
  options: Pick<SeatServerConfig, 'nodeId' | 'webhooks' | 'denialRetentionDays'>;
  /** This node runs alone on the store (no Redis): see WebhookWorkerDeps. */
  alone?: boolean;
  now: () => number;
  onError: (source: string, err: unknown) => void;
}

export interface NewWebhook {
  url: string;
  events: string[];
  /** Absent or null: every license of the actor's scope. */
  licenseId?: string | null;
  /** Requests in flight at once, no session in two; 1 (one at a time, in order) unless given. */
  concurrency?: number;
  /** Events per request; 1 (the event is the body) unless given, above 1 a JSON array. */
  batchSize?: number;
}

const refuse = (field: string, message: string) => new SeatError(ErrorCode.OutOfRange, `${field}: ${message}`, { details: { field } });

/**
 * Refuses a URL that is not http(s), or (unless `allowPrivate`) whose host does not resolve, or is
 * or resolves to any address but a public unicast one: a webhook must not become a way into the
 * server's network.
 */
export async function checkWebhookUrl(url: string, allowPrivate: boolean): Promise<URL> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw refuse('url', 'not a URL; give an http or https URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw refuse('url', `${echoId(parsed.protocol)} is not http or https`);
  if (parsed.username || parsed.password) throw refuse('url', 'credentials in the URL are not accepted');
  // No receiver listens on port 0: every delivery would fail until it is given up on.
  if (parsed.port === '0') throw refuse('url', 'port 0 is not a port a receiver can listen on');
  if (allowPrivate) return parsed;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  } catch {
    throw refuse('url', `${echoId(host)} does not resolve (looked up when the webhook is saved)`);
  }
  if (addresses.some(isPrivateAddress)) {
    const named = isIP(host) ? echoId(host) : `${echoId(host)} (${addresses.join(', ')})`;
    throw refuse('url', `${named} is not a public unicast address (loopback, private, link-local, multicast, reserved and documentation ranges are refused; WEBHOOK_ALLOW_PRIVATE=on allows them)`);
  }
  return parsed;
}

export class SeatWebhooks {
  private readonly worker: WebhookWorker;

  constructor(private readonly deps: SeatWebhooksDeps) {
    const { options } = deps;
    this.worker = new WebhookWorker({
      store: deps.store.webhooks,
      nodeId: options.nodeId,
      alone: deps.alone,
      options: { ...options.webhooks, retentionMs: options.denialRetentionDays * 86_400_000 },
      now: deps.now,
      onError: deps.onError,
    });
  }

  start(): void {
    this.worker.start();
  }

  stop(): Promise<void> {
    return this.worker.stop();
  }

  /** A tenant admin's webhook gets its own tenant's events; the operator's, every tenant's. */
  async create(actor: Actor, input: NewWebhook): Promise<Webhook> {
    const { store, options } = this.deps;
    const unknown = input.events.filter((e) => !WEBHOOK_EVENT_TYPES.includes(e as WebhookEventType));
    if (unknown.length > 0) {
      throw new SeatError(ErrorCode.OutOfRange, `events: unknown event type${unknown.length > 1 ? 's' : ''} ${unknown.slice(0, 5).map(echoId).join(', ')}; known: ${WEBHOOK_EVENT_TYPES.join(', ')}`, {
        details: { field: 'events', unknown: unknown.slice(0, 20) },
      });
    }
    if (input.events.length === 0) throw refuse('events', `give at least one of ${WEBHOOK_EVENT_TYPES.join(', ')}`);
    const license = input.licenseId === undefined || input.licenseId === null ? null : mayTouch(actor, input.licenseId, await store.getLicense(input.licenseId));
    await checkWebhookUrl(input.url, options.webhooks.allowPrivate);
    const webhook = await store.webhooks.createWebhook({
      id: `wh_${randomBytes(9).toString('base64url')}`,
      tenantId: tenantScope(actor) ?? null,
      licenseId: license?.id ?? null,
      url: input.url,
      events: [...new Set(input.events as WebhookEventType[])],
      secret: `whsec_${randomBytes(32).toString('base64url')}`,
      createdAt: this.deps.now(),
      concurrency: input.concurrency ?? 1,
      batchSize: input.batchSize ?? 1,
    });
    const { concurrency, batchSize } = webhook;
    await this.deps.admin.audit(actor, license, 'webhook.create', { webhookId: webhook.id, url: webhook.url, events: webhook.events, concurrency, batchSize }, webhook.tenantId);
    return webhook;
  }

  list(actor: Actor): Promise<Webhook[]> {
    return this.deps.store.webhooks.listWebhooks(tenantScope(actor));
  }

  /**
   * The webhook if the actor may see it: none is 404; another tenant's (or, for a tenant admin,
   * the operator's) is 403, "not yours", as another tenant's license is (CONTRACT section 6).
   */
  async get(actor: Actor, id: string): Promise<Webhook> {
    const webhook = await this.deps.store.webhooks.getWebhook(id);
    if (!webhook) throw new SeatError(ErrorCode.NotFound, `no webhook ${echoId(id)}`);
    const scope = tenantScope(actor);
    if (scope !== undefined && webhook.tenantId !== scope) throw new SeatError(ErrorCode.Forbidden, `webhook ${echoId(id)} belongs to another tenant`);
    return webhook;
  }

  /** Changes how the webhook's events go out (requests at once, events per request); its cursor and log stay. */
  async update(actor: Actor, id: string, settings: DeliverySettings): Promise<Webhook> {
    const webhook = await this.get(actor, id);
    // What was given (a field left out stays as it is).
    const changes: DeliverySettings = {};
    if (settings.concurrency !== undefined) changes.concurrency = settings.concurrency;
    if (settings.batchSize !== undefined) changes.batchSize = settings.batchSize;
    if (!(await this.deps.store.webhooks.setDelivery(webhook.id, changes))) throw new SeatError(ErrorCode.NotFound, `no webhook ${echoId(id)}`);
    this.worker.changed(webhook.id, changes);
    const license = await this.licenseOf(webhook);
    const updated = { ...webhook, ...changes };
    const { concurrency, batchSize } = updated;
    await this.deps.admin.audit(
      actor,
      license,
      'webhook.update',
      { webhookId: webhook.id, url: webhook.url, concurrency, batchSize, before: { concurrency: webhook.concurrency, batchSize: webhook.batchSize } },
      webhook.tenantId,
    );
    return updated;
  }

  async remove(actor: Actor, id: string): Promise<void> {
    const webhook = await this.get(actor, id);
    this.worker.forget(webhook.id);
    if (!(await this.deps.store.webhooks.deleteWebhook(webhook.id))) throw new SeatError(ErrorCode.NotFound, `no webhook ${echoId(id)}`);
    const license = await this.licenseOf(webhook);
    await this.deps.admin.audit(actor, license, 'webhook.delete', { webhookId: webhook.id, url: webhook.url }, webhook.tenantId);
  }

  /** The license a webhook is narrowed to, for its audit entries (null: none, or gone). */
  private async licenseOf(webhook: Webhook): Promise<License | null> {
    return webhook.licenseId ? ((await this.deps.store.getLicense(webhook.licenseId)) ?? null) : null;
  }

  async deliveries(actor: Actor, id: string, page: { beforeId?: number; limit: number }): Promise<Delivery[]> {
    const webhook = await this.get(actor, id);
    return this.deps.store.webhooks.listDeliveries(webhook.id, page);
  }

  /** Runs one delivery round now (tests and the restart path; the worker runs it every WEBHOOK_POLL_MS). */
  tick(): Promise<void> {
    return this.worker.tick();
  }
}
