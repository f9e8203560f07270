// The webhook endpoints (docs/contract.md "Webhooks"): create (the secret is in this reply only),
// list, delete and the delivery log. Declared through the API router's `resource`, so they get its
// method, token and body checks and its error replies; the actor's scope is SeatWebhooks'.
import type { Response } from 'express';
import { z } from 'zod';
import { safeText, type WebhookDeliveryView, type WebhookEventType, type WebhookView } from '../../shared';
import type { Actor } from '../seats/actor';
import { WEBHOOK_MAX_BATCH, WEBHOOK_MAX_CONCURRENCY } from '../seats/decisions/webhook-batch';
import type { Delivery, Webhook } from '../seats/webhook-store';
import type { SeatWebhooks } from '../seats/webhooks';
import type { BodyRule } from './body';
import { queryInt } from './schemas';

type Handler = (req: { actor: Actor; params: Record<string, unknown>; body: unknown; query: unknown }, res: Response) => Promise<void>;
type Endpoints = Partial<Record<'get' | 'post' | 'patch' | 'delete', [BodyRule, Handler]>>;

export type WebhookParts = Pick<SeatWebhooks, 'create' | 'list' | 'remove' | 'deliveries' | 'update'>;

export const CreateWebhookBody = z.strictObject({
  // Listed and shown on the dashboard as sent: no control or bidi-override characters (422), and
  // trimmed, as the URL parser that delivers to it trims it.
  url: safeText(z.string().trim().min(1).max(2048)),
  // Unknown types are refused by name (422) in SeatWebhooks.create.
  events: z.array(z.string().max(100)).min(1).max(50),
  // Null, as GET /webhooks lists a webhook of every license, is the same as leaving it out.
  licenseId: z.string().min(1).max(200).nullish(),
  // Requests in flight at once, no session in two; 1 (the default) is one at a time, in order.
  concurrency: z.number().int().min(1).max(WEBHOOK_MAX_CONCURRENCY).optional(),
  // Events per request; 1 (the default) is one event per POST, its JSON the body; above 1 an array.
  batchSize: z.number().int().min(1).max(WEBHOOK_MAX_BATCH).optional(),
});

/** What may change on a webhook: how its events go out (requests at once, events per request). */
export const PatchWebhookBody = z
  .strictObject({
    concurrency: z.number().int().min(1).max(WEBHOOK_MAX_CONCURRENCY).optional(),
    batchSize: z.number().int().min(1).max(WEBHOOK_MAX_BATCH).optional(),
  })
  .refine((b) => b.concurrency !== undefined || b.batchSize !== undefined, { message: 'give concurrency or batchSize (or both)' });

export const DeliveriesQuery = z.object({
  before: queryInt({ min: 1 }).optional(),
  limit: queryInt({ min: 1, max: 500 }).default(50),
});

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function webhookView(w: Webhook): WebhookView {
  return { id: w.id, url: w.url, events: w.events, licenseId: w.licenseId, tenantId: w.tenantId, createdAt: iso(w.createdAt)!, concurrency: w.concurrency, batchSize: w.batchSize };
}

export function deliveryView(d: Delivery): WebhookDeliveryView {
  return {
    id: d.id,
    event: d.eventType as WebhookEventType,
    eventId: d.eventId,
    status: d.status,
    attempts: d.attempts,
    lastAttemptAt: iso(d.lastAttemptAt),
    nextAttemptAt: d.status === 'pending' ? iso(d.nextAttemptAt) : null,
    responseStatus: d.responseStatus,
    error: d.error,
  };
}

/** The webhook paths and their endpoints; `parse` is the router's (400 malformed, 422 out of range). */
export function webhookEndpoints(webhooks: WebhookParts, parse: <S extends z.ZodType>(schema: S, input: unknown) => z.infer<S>): Record<string, Endpoints> {
  const id = (req: { params: Record<string, unknown> }) => String(req.params.id);
  return {
    '/webhooks': {
      post: [
        'required',
        async (req, res) => {
          const webhook = await webhooks.create(req.actor, parse(CreateWebhookBody, req.body));
          res.status(201).json({ ...webhookView(webhook), secret: webhook.secret });
        },
      ],
      get: [
        'none',
        async (req, res) => {
          res.json({ webhooks: (await webhooks.list(req.actor)).map(webhookView) });
        },
      ],
    },
    '/webhooks/:id': {
      patch: [
        'required',
        async (req, res) => {
          const { concurrency, batchSize } = parse(PatchWebhookBody, req.body);
          res.json(webhookView(await webhooks.update(req.actor, id(req), { concurrency, batchSize })));
        },
      ],
      delete: [
        'none',
        async (req, res) => {
          await webhooks.remove(req.actor, id(req));
          res.status(204).end();
        },
      ],
    },
    '/webhooks/:id/deliveries': {
      get: [
        'none',
        async (req, res) => {
          const q = parse(DeliveriesQuery, req.query);
          const deliveries = await webhooks.deliveries(req.actor, id(req), { beforeId: q.before, limit: q.limit });
          // A full page may have more behind it: `nextBefore` asks for them.
          res.json({ deliveries: deliveries.map(deliveryView), nextBefore: deliveries.length === q.limit ? deliveries.at(-1)!.id : null });
        },
      ],
    },
  };
}

const errorReply = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
const jsonReply = (description: string, schema: object) => ({ description, content: { 'application/json': { schema } } });
const webhookRef = { $ref: '#/components/schemas/Webhook' };
const nullableString = { type: ['string', 'null'] };

/** The webhook replies' schemas, under the OpenAPI document's components.schemas (server/http/openapi.ts). */
export const WEBHOOK_OPENAPI_SCHEMAS = {
  Webhook: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      url: { type: 'string' },
      events: { type: 'array', items: { type: 'string' } },
      licenseId: { ...nullableString, description: 'null: every license' },
      tenantId: { ...nullableString, description: "null: the operator's, which hears every tenant" },
      createdAt: { type: 'string' },
      concurrency: { type: 'integer' },
      batchSize: { type: 'integer' },
    },
  },
  WebhookDelivery: {
    type: 'object',
    properties: {
      id: { type: 'integer' },
      event: { type: 'string', description: "the event's type" },
      eventId: { type: 'string' },
      status: { enum: ['pending', 'delivered', 'failed'] },
      attempts: { type: 'integer' },
      lastAttemptAt: nullableString,
      nextAttemptAt: { ...nullableString, description: 'when a pending delivery is tried next' },
      responseStatus: { type: ['integer', 'null'] },
      error: { ...nullableString, description: 'why the last attempt got no answer' },
    },
  },
};
const idParam = [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }];
const replies = {
  '400': errorReply('malformed input'),
  '401': errorReply('no or bad token'),
  '403': errorReply("another tenant's webhook (or, for a tenant admin, the operator's)"),
  '404': errorReply('no such webhook'),
  '405': errorReply('the path does not serve this method (see the Allow header)'),
};

/** The webhook paths of the OpenAPI document (server/http/openapi.ts). */
export const WEBHOOK_OPENAPI_PATHS = {
  '/webhooks': {
    post: {
      summary: "Create a webhook: POSTs of the events named, signed with Seat-Signature (t=…,v1= HMAC-SHA256 of \"t.body\" with the secret, returned here only). A tenant's hears its own tenant; the operator's every tenant",
      requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(CreateWebhookBody, { io: 'input' }) } } },
      responses: {
        '201': jsonReply('the webhook and its secret (in this reply only)', {
          allOf: [webhookRef, { type: 'object', properties: { secret: { type: 'string', description: 'whsec_…: signs its requests' } } }],
        }),
        '422': errorReply('url not http or https, or (without WEBHOOK_ALLOW_PRIVATE=on) not resolving or not a public unicast address; unknown event types (named); no events; concurrency not 1 to 32; batchSize not 1 to 100'),
        ...replies,
        '403': errorReply("licenseId is another tenant's license"),
        '404': errorReply('no such license'),
      },
    },
    get: { summary: 'The webhooks the actor may see, without their secrets', responses: { '200': jsonReply('{ webhooks }, oldest first', { type: 'object', properties: { webhooks: { type: 'array', items: webhookRef } } }), ...replies } },
  },
  '/webhooks/{id}': {
    parameters: idParam,
    patch: {
      summary: 'Change how the webhook’s events go out: requests in flight at once (no session in two), events per request (above 1, the body is a JSON array); its cursor and delivery log stay',
      requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(PatchWebhookBody, { io: 'input' }) } } },
      responses: { '200': jsonReply('the webhook', webhookRef), ...replies, '422': errorReply('concurrency not 1 to 32, batchSize not 1 to 100') },
    },
    delete: { summary: 'Delete a webhook and its delivery log', responses: { '204': { description: 'deleted' }, ...replies } },
  },
  '/webhooks/{id}/deliveries': {
    parameters: [
      ...idParam,
      { name: 'before', in: 'query', schema: { type: 'integer' }, description: 'a delivery id: those before it (the previous page’s nextBefore)' },
      { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } },
    ],
    get: {
      summary: 'The delivery log, newest first: one entry per event (status pending, delivered or failed; attempts; lastAttemptAt; responseStatus)',
      responses: {
        '200': jsonReply('{ deliveries, nextBefore }', {
          type: 'object',
          properties: {
            deliveries: { type: 'array', items: { $ref: '#/components/schemas/WebhookDelivery' } },
            nextBefore: { type: ['integer', 'null'], description: "the last entry's id when the page is full, else null" },
          },
        }),
        ...replies,
        '422': errorReply('limit out of range'),
      },
    },
  },
};
