// The OpenAPI document of the REST API, with request schemas generated from the zod schemas the
// router validates with, so the document cannot drift from the code.
import { z } from 'zod';
import { CLAIMANT_ID_FIELDS } from '../seats/types';
import { NoFields, SeatRequestBody } from './lease-routes';
import { CreateLicenseBody, CreateTenantBody, KickBody, PatchLicenseBody, RotateSecretBody, RotateTokenBody } from './schemas';
import { WEBHOOK_OPENAPI_PATHS, WEBHOOK_OPENAPI_SCHEMAS } from './webhook-routes';

const schema = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' });
const json = (s: object) => ({ content: { 'application/json': { schema: s } } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errors = {
  '400': { description: 'malformed input', ...json(ref('Error')) },
  '401': { description: 'no or bad token', ...json(ref('Error')) },
  '403': { description: 'not yours', ...json(ref('Error')) },
  '404': { description: 'not found', ...json(ref('Error')) },
  '405': { description: 'the path does not serve this method (see the Allow header)', ...json(ref('Error')) },
};
const unsafeText = { '422': { description: 'out of range, or text with control or bidi-override characters', ...json(ref('Error')) } };
const typed = (type: string | string[], ...keys: string[]) => Object.fromEntries(keys.map((k) => [k, { type }]));
const object = (properties: Record<string, unknown>) => ({ type: 'object', properties });
/** `{ [name]: [items] }`: a reply that is one list. */
const listOf = (name: string, items: object) => object({ [name]: { type: 'array', items } });
const idParam = [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }];
/** An ISO 8601 instant (schemas.ts `isoInstant`): a date-time, or a date alone (its midnight, UTC); basic or extended format. */
const dateParam = (name: string) => ({
  name,
  in: 'query',
  description: 'ISO 8601: a date-time (2026-11-29T08:00:00Z; seconds optional, a time without a zone is UTC; 20261129T080000Z too) or a date alone (its midnight, UTC)',
  schema: { type: 'string', examples: ['2026-11-29T08:00:00Z', '2026-11-29'] },
});
/** `?format=csv`: the same rows as `text/csv` with a header row, as a download. */
const formatParam = { name: 'format', in: 'query', schema: { enum: ['json', 'csv'], default: 'json' } };

/** HTTP leases (docs/contract.md 8.4): the client's own token, not an admin's. */
const leaseSecurity = [{ clientToken: [] }];
const leaseErrors = {
  '400': errors['400'],
  '401': { description: 'no token, or refused: code invalid_token, token_expired, missing_claim or license_not_found', ...json(ref('Error')) },
  '405': errors['405'],
};
const leasePaths = {
  '/leases': {
    post: {
      summary: 'Take a seat without a socket: one more connection of the session of the token’s seat key (no body, or {})',
      security: leaseSecurity,
      requestBody: { required: false, ...json(schema(NoFields)) },
      responses: {
        '201': { description: 'the lease: renew it before renewBy', ...json(ref('Lease')) },
        '429': { description: 'too many leases taken from this address (CONNECT_RATE_PER_SEC, CONNECT_BURST)', ...json(ref('Error')) },
        '409': { description: 'denied: code is the denial reason (no_free_seats, license_suspended, kicked, too_many_activations, denied_by_app), logged as a denial', ...json(ref('Error')) },
        ...leaseErrors,
      },
    },
  },
  '/leases/{leaseId}': {
    parameters: [{ name: 'leaseId', in: 'path', required: true, schema: { type: 'string' } }],
    put: {
      summary: 'Renew: a later renewBy; a lapsed lease whose seat is still held comes back (resumed: true)',
      security: leaseSecurity,
      requestBody: { required: false, ...json(schema(NoFields)) },
      responses: {
        '200': { description: 'the lease with a later renewBy', ...json(ref('Lease')) },
        '403': { description: 'the lease is of another license or seat key', ...json(ref('Error')) },
        '404': { description: 'no such lease (or it was released)', ...json(ref('Error')) },
        '410': { description: 'the seat is gone: code is the end reason (kicked, ended_by_app, license_suspended, seats_reduced, idle_timeout, …)', ...json(ref('Error')) },
        ...leaseErrors,
      },
    },
    delete: {
      summary: 'Release: the seat is free at once when no other connection of the session remains (ended_by_app)',
      security: leaseSecurity,
      responses: {
        '204': { description: 'released' },
        '403': { description: 'the lease is of another license or seat key', ...json(ref('Error')) },
        '404': { description: 'no such lease (a second DELETE too)', ...json(ref('Error')) },
        ...leaseErrors,
      },
    },
  },
};

/**
 * The operator's receipt keys (offline grace, docs/contract.md "Offline grace and signed
 * receipts"); their public halves are at GET /.well-known/jwks.json, outside the API, with no token.
 */
const receiptKeyPaths = {
  '/receipt-keys': {
    get: {
      summary: 'The keys that sign seat receipts, oldest first, and which one signs now (operator)',
      responses: {
        '200': {
          description: '{ keys }, oldest first',
          ...json(listOf('keys', object({ ...typed('string', 'kid', 'createdAt'), current: { type: 'boolean', description: 'the key that signs now' } }))),
        },
        ...errors,
      },
    },
    post: {
      summary: 'Rotate: a new key signs seat receipts from now on; the old ones stay in /.well-known/jwks.json so receipts already issued verify (operator; no body, or {})',
      requestBody: { required: false, ...json(schema(NoFields)) },
      responses: { '201': { description: '{ kid }: the key that signs from now on', ...json(object(typed('string', 'kid'))) }, ...errors },
    },
  },
};

type Operation = { parameters?: Parameter[]; requestBody?: { content: Record<string, { schema: unknown }> }; responses: Record<string, unknown> };
type Parameter = { in: string; schema?: unknown };
const METHODS = ['get', 'put', 'post', 'patch', 'delete'] as const;

/** Whether a JSON schema checks a bound (a value of the right type may still be out of range: 422). */
function bounded(schema: unknown, schemas: Record<string, unknown>): boolean {
  if (typeof schema !== 'object' || schema === null) return false;
  const s = schema as Record<string, unknown>;
  if (typeof s.$ref === 'string') return bounded(schemas[s.$ref.replace('#/components/schemas/', '')], schemas);
  if (['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minLength', 'maxLength', 'minItems', 'maxItems'].some((k) => k in s)) return true;
  return Object.values(s).some((v) => (Array.isArray(v) ? v.some((x) => bounded(x, schemas)) : bounded(v, schemas)));
}

/**
 * The statuses every operation can answer, added where an operation does not list them already
 * (its own, more specific descriptions stay): one place, so no operation can leave one out.
 * - 400: any operation (a malformed path, a body where none is taken, a bad body or query);
 * - 401: a token missing or refused; 405: another method on the path; 503: the database away;
 * - 404: a path with a parameter (nothing by that id);
 * - 413: an operation that takes a body (over MAX_PAYLOAD_BYTES);
 * - 422: an operation whose body or query has a checked bound (out of range, unsafe text).
 */
function withStatuses(paths: Record<string, Record<string, unknown>>, schemas: Record<string, unknown>): Record<string, Record<string, unknown>> {
  const error = (description: string) => ({ description, ...json(ref('Error')) });
  for (const [path, item] of Object.entries(paths)) {
    const pathParams = (item.parameters ?? []) as Parameter[];
    for (const method of METHODS) {
      const op = item[method] as Operation | undefined;
      if (!op) continue;
      const params = [...pathParams, ...(op.parameters ?? [])];
      const body = op.requestBody?.content['application/json']?.schema;
      const add: Record<string, unknown> = {
        '400': error('malformed: a body where none is taken, a body or query of the wrong shape, a path that is not valid percent-encoding'),
        '401': error('no or bad token'),
        ...(path.includes('{') ? { '404': error('not found') } : {}),
        '405': error('the path does not serve this method (see the Allow header)'),
        ...(op.requestBody ? { '413': error('the body is larger than MAX_PAYLOAD_BYTES (refused before it is read; the connection closes)') } : {}),
        ...(bounded(body, schemas) || params.some((p) => p.in === 'query' && bounded(p.schema, schemas)) ? { '422': error('out of range, or text with control or bidi-override characters: details.field names it (a number with two bounds: details.min and details.max too)') } : {}),
        '503': error('the database does not answer; retry shortly'),
      };
      op.responses = Object.fromEntries(Object.entries({ ...add, ...op.responses }).sort(([a], [b]) => a.localeCompare(b)));
    }
  }
  return paths;
}

export function openApiDocument(): Record<string, unknown> {
  const document = openApiPaths();
  const components = document.components as { schemas: Record<string, unknown> };
  withStatuses(document.paths as Record<string, Record<string, unknown>>, components.schemas);
  return document;
}

function openApiPaths(): Record<string, unknown> & { paths: unknown; components: unknown } {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Live seat server',
      version: '1',
      description:
        'Concurrent-seat licenses: tenants, licenses, live sessions, kicks and the denial log. ' +
        'A request body, where one is taken, is a JSON object sent with content-type application/json; ' +
        'a body sent to an endpoint that takes none (GET) is refused with 400.',
    },
    servers: [{ url: '/api/v1' }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN (operator) or a tenant adminToken' },
        clientToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: "a client token (HS256 with the license's secret), as a socket sends in auth.token" },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: { code: { type: 'string' }, message: { type: 'string' }, details: { type: 'object' } },
            },
          },
        },
        CreateTenant: schema(CreateTenantBody),
        CreateLicense: schema(CreateLicenseBody),
        PatchLicense: schema(PatchLicenseBody),
        Kick: schema(KickBody),
        RotateSecret: schema(RotateSecretBody),
        License: object({
          ...typed('string', 'id', 'tenantId', 'name', 'status', 'deniedMessage', 'createdAt', 'updatedAt'),
          ...typed('integer', 'seats', 'seatsInUse', 'idleTimeoutSec', 'inactivityWarningSec', 'leaseIntervalSec', 'offlineGraceSec'),
          seatCap: { type: ['integer', 'null'] },
          maxActivations: { type: ['integer', 'null'], minimum: 1 },
          inactivityTimeoutSec: { type: ['integer', 'null'] },
          overage: { type: 'number', minimum: 1, maximum: 2 },
          queue: { type: 'boolean' },
          reservations: {
            type: 'array',
            items: {
              ...object({
                group: { type: 'string' },
                seats: { type: 'integer' },
                window: { ...object({ days: { type: 'array', items: { type: 'integer' } }, ...typed('string', 'from', 'to', 'tz') }), required: ['days', 'from', 'to', 'tz'] },
              }),
              required: ['group', 'seats'],
            },
          },
          groupLimits: { type: 'array', items: { ...object({ group: { type: 'string' }, max: { type: 'integer' } }), required: ['group', 'max'] } },
          seatKey: { type: 'array', items: { enum: ['session', 'user', 'device', 'instance'] } },
        }),
        Session: object({
          ...typed('string', 'id', 'licenseId', 'state', 'startedAt'),
          ...typed(['string', 'null'], ...CLAIMANT_ID_FIELDS, 'group', 'app', 'name', 'idleSince', 'expiresAt', 'lastActivityAt', 'warnedAt', 'receiptUntil'),
          ...typed('integer', 'weight', 'sockets', 'leases'),
          apps: { type: 'array', items: { type: 'string' }, description: 'every app name among its sockets' },
        }),
        Activation: object(typed('string', 'deviceId', 'activatedAt', 'lastSeenAt')),
        Lease: object({
          ...typed('string', 'leaseId', 'sessionId', 'licenseId', 'renewBy', 'receipt'),
          ...typed('integer', 'seatsInUse', 'seats', 'leaseIntervalSec', 'idleTimeoutSec'),
          ...typed('boolean', 'resumed', 'overage'),
        }),
        Denial: object({
          ...typed('string', 'licenseId', 'at', 'reason'),
          ...typed(['string', 'null'], ...CLAIMANT_ID_FIELDS),
        }),
        Tenant: object({ ...typed('string', 'id', 'name', 'createdAt'), licenses: { type: 'integer', description: 'its license count' } }),
        AuditEntry: object({
          id: { type: 'integer' },
          ...typed('string', 'at', 'actor', 'action'),
          ...typed(['string', 'null'], 'tenantId', 'licenseId'),
          detail: { type: 'object', additionalProperties: true, description: "the action's own fields" },
        }),
        SeatRequest: object({ ...typed('string', 'id', 'at'), ...typed(['string', 'null'], 'userId', 'name', 'message') }),
        QueueEntry: object({
          position: { type: 'integer', description: '1 is next' },
          ...typed(['string', 'null'], 'userId', 'name', 'app', 'group'),
          since: { type: 'string', description: 'when it joined the queue' },
        }),
        HistoryBucket: object({
          at: { type: 'string', description: "the bucket's start" },
          ...typed('integer', 'denials', 'peakSeatsInUse', 'seats', 'queuedGranted', 'unmetDemand'),
          denialsByReason: { type: 'object', additionalProperties: { type: 'integer' }, description: 'denials per reason (reasons with none left out)' },
          full: { type: 'boolean', description: 'every seat in force was taken at some moment' },
          unmetAvgWaitSec: { type: ['integer', 'null'], description: 'the average wait of those who left the queue without a seat (null: none left)' },
        }),
        ...WEBHOOK_OPENAPI_SCHEMAS,
      },
    },
    paths: {
      '/tenants': {
        post: {
          summary: 'Create a tenant (operator)',
          requestBody: { required: true, ...json(ref('CreateTenant')) },
          responses: {
            '201': { description: 'the tenant and its adminToken (in this reply only)', ...json(object(typed('string', 'id', 'name', 'adminToken', 'createdAt'))) },
            ...unsafeText,
            ...errors,
          },
        },
        get: {
          summary: 'Tenants with their names and license counts (a tenant admin gets its own)',
          responses: { '200': { description: '{ tenants }, oldest first', ...json(listOf('tenants', ref('Tenant'))) }, ...errors },
        },
      },
      '/tenants/{id}/admin-token': {
        parameters: idParam,
        post: {
          summary: "Rotate a tenant's admin token (operator): the old one fails at once; the new one is in the reply only",
          requestBody: { required: false, ...json(schema(RotateTokenBody)) },
          responses: { '201': { description: '{ adminToken }', ...json(object(typed('string', 'adminToken'))) }, ...errors },
        },
      },
      '/licenses': {
        post: {
          summary: 'Create a license; the reply carries its signing secret',
          requestBody: { required: true, ...json(ref('CreateLicense')) },
          responses: {
            '201': {
              description: 'the license and its secret',
              ...json({ allOf: [ref('License'), object({ secret: { type: 'string', description: "the license's signing secret for client tokens (HS256)" } })] }),
            },
            '409': { description: 'the id is taken', ...json(ref('Error')) },
            '422': { description: 'out of range (seatCap, idle-timeout bounds), or text with control or bidi-override characters', ...json(ref('Error')) },
            ...errors,
          },
        },
        get: {
          summary: 'List licenses (a tenant admin gets its own)',
          responses: { '200': { description: '{ licenses }', ...json(listOf('licenses', ref('License'))) }, ...errors },
        },
      },
      '/licenses/{id}': {
        parameters: idParam,
        get: { summary: 'A license with live seatsInUse', responses: { '200': { description: 'the license', ...json(ref('License')) }, ...errors } },
        patch: {
          summary: 'Change a license; suspending or lowering seats ends sessions; tenantId (the operator only) moves it to that tenant while it holds no session',
          requestBody: { required: true, ...json(ref('PatchLicense')) },
          responses: {
            '200': { description: 'the license', ...json(ref('License')) },
            '409': { description: 'a move (tenantId) while the license holds sessions or has clients queued: nothing changed', ...json(ref('Error')) },
            '422': { description: 'out of range, or text with control or bidi-override characters', ...json(ref('Error')) },
            ...errors,
          },
        },
        delete: {
          summary: 'Delete a license: its sessions end (license_deleted), its denials and activations go (its seat history stays until the retention prunes it, and its id with it); later tokens get license_not_found',
          responses: { '204': { description: 'deleted' }, ...errors },
        },
      },
      '/licenses/{id}/secret': {
        parameters: idParam,
        post: {
          summary: "Rotate a license's signing secret; tokens signed with the old one verify for graceSec more (default 86400, 0 to 2592000)",
          requestBody: { required: false, ...json(ref('RotateSecret')) },
          responses: {
            '201': {
              description: '{ secret, previousSecretValidUntil }',
              ...json(object({ secret: { type: 'string', description: 'the new signing secret (in this reply only)' }, previousSecretValidUntil: { type: 'string', description: 'tokens signed with the old one verify until then' } })),
            },
            '422': { description: 'graceSec out of range', ...json(ref('Error')) },
            ...errors,
          },
        },
      },
      '/licenses/{id}/sessions': {
        parameters: [
          ...idParam,
          formatParam,
          { name: 'q', in: 'query', description: 'case-insensitive text in user, name, app, session ref, device, instance or session id', schema: { type: 'string', maxLength: 200 } },
          { name: 'user', in: 'query', description: 'exactly this user id', schema: { type: 'string', maxLength: 200 } },
          { name: 'app', in: 'query', description: 'sessions with a socket of this app', schema: { type: 'string', maxLength: 200 } },
          { name: 'state', in: 'query', schema: { type: 'string', enum: ['active', 'idle'] } },
          { name: 'sort', in: 'query', schema: { type: 'string', enum: ['startedAt', 'user', 'name', 'app', 'state', 'idleSince'] } },
          { name: 'order', in: 'query', schema: { type: 'string', enum: ['asc', 'desc'] } },
          { name: 'limit', in: 'query', description: 'absent: every matching session', schema: { type: 'integer', minimum: 1, maximum: 1000 } },
          { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, maximum: 1_000_000 } },
        ],
        get: {
          summary: 'Live sessions, searched, filtered, sorted and paged (no parameters: all, oldest first; `?format=csv`: the same rows as CSV)',
          responses: {
            '200': {
              description: '{ sessions, total, matched, offset }',
              ...json({
                type: 'object',
                properties: { sessions: { type: 'array', items: ref('Session') }, total: { type: 'integer' }, matched: { type: 'integer' }, offset: { type: 'integer' } },
              }),
            },
            ...errors,
          },
        },
      },
      '/licenses/{id}/denials': {
        parameters: [...idParam, dateParam('since'), dateParam('until'), { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 10_000, default: 1000 } }, formatParam],
        get: { summary: 'The denial log, newest first (`?format=csv`: the same rows as CSV)', responses: { '200': { description: '{ denials }', ...json(listOf('denials', ref('Denial'))) }, ...errors } },
      },
      '/licenses/{id}/history': {
        parameters: [
          ...idParam,
          { name: 'bucket', in: 'query', schema: { enum: ['hour', 'day'] } },
          dateParam('since'),
          dateParam('until'),
          { name: 'tz', in: 'query', schema: { type: 'string', minLength: 1, maxLength: 64, default: 'UTC' }, description: "an IANA time zone: buckets start at its full hours and midnights (422 for an unknown one)" },
          formatParam,
        ],
        get: {
          summary: 'Denials, peak seats in use, the seats in force and whether they were all taken, and the queue\'s grants and unmet demand (left it without a seat, their average wait), per hour or day of tz, over the retention window (`?format=csv`: the same rows as CSV)',
          responses: {
            '200': {
              description: '{ bucket, tz, until, buckets }, buckets oldest first',
              ...json(object({ bucket: { enum: ['hour', 'day'] }, ...typed('string', 'tz', 'until'), buckets: { type: 'array', items: ref('HistoryBucket') } })),
            },
            ...errors,
          },
        },
      },
      '/licenses/{id}/queue': {
        parameters: idParam,
        get: {
          summary: "The license's queue: the waiting clients in order (the first 1000) and how many wait",
          responses: {
            '200': {
              description: '{ queueLength, queue }',
              ...json(object({ queueLength: { type: 'integer', description: 'how many wait, listed or not' }, queue: { type: 'array', items: ref('QueueEntry') } })),
            },
            ...errors,
          },
        },
      },
      '/licenses/{id}/seat-requests': {
        parameters: idParam,
        get: { summary: "The license's seat requests, newest first", responses: { '200': { description: '{ requests }', ...json(listOf('requests', ref('SeatRequest'))) }, ...errors } },
      },
      '/seat-requests': {
        post: {
          summary: 'A user asks for a seat (the client token, as for leases); 429 past SEAT_REQUESTS_PER_HOUR',
          security: leaseSecurity,
          requestBody: { required: false, ...json(schema(SeatRequestBody)) },
          responses: {
            '201': { description: '{ id, licenseId, at }', ...json(object(typed('string', 'id', 'licenseId', 'at'))) },
            '401': { description: 'no token, or refused: code invalid_token, token_expired, missing_claim or license_not_found', ...json(ref('Error')) },
            '422': { description: 'message longer than 500 characters, or with control or bidi-override characters', ...json(ref('Error')) },
            '429': { description: 'too many requests this hour (details.retryAfterSec)', ...json(ref('Error')) },
          },
        },
      },
      '/licenses/{id}/preview': {
        parameters: idParam,
        post: {
          summary: 'Which sessions a license patch would end, and why; nothing changes',
          requestBody: { required: true, ...json(ref('PatchLicense')) },
          responses: {
            '200': {
              description: '{ wouldEnd }, in the order they would end',
              ...json(listOf('wouldEnd', object({ sessionId: { type: 'string' }, ...typed(['string', 'null'], 'userId', 'name'), reason: { type: 'string', description: 'seats_reduced or license_suspended' } }))),
            },
            ...errors,
            '409': { description: 'a move (tenantId) while the license holds sessions or has clients queued', ...json(ref('Error')) },
          },
        },
      },
      '/licenses/{id}/activations': {
        parameters: idParam,
        get: { summary: 'Devices activated on the license (maxActivations)', responses: { '200': { description: '{ activations }', ...json(listOf('activations', ref('Activation'))) }, ...errors } },
        delete: {
          summary: 'Deactivate a device named in the query, as DELETE /licenses/{id}/activations/{deviceId} does: for any device id, "." and ".." too, which a URL parser collapses in a path segment',
          parameters: [{ name: 'deviceId', in: 'query', required: true, description: 'the device id, not empty (400 when missing, empty or given twice)', schema: { type: 'string' } }],
          responses: { '204': { description: 'deactivated' }, ...errors },
        },
      },
      '/licenses/{id}/activations/{deviceId}': {
        parameters: [...idParam, { name: 'deviceId', in: 'path', required: true, schema: { type: 'string' } }],
        delete: { summary: "Deactivate a device: its live sessions end (deactivated) and the activation is free for another device", responses: { '204': { description: 'deactivated' }, ...errors } },
      },
      '/audit': {
        parameters: [
          { name: 'licenseId', in: 'query', schema: { type: 'string', minLength: 1, maxLength: 200 } },
          { name: 'action', in: 'query', schema: { type: 'string', minLength: 1, maxLength: 100 } },
          { name: 'before', in: 'query', schema: { type: 'integer', minimum: 1 }, description: 'an entry id: the entries written before it (the previous page’s nextBefore)' },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 500 } },
        ],
        get: {
          summary: 'Audit log of admin actions, newest first, filtered and paged',
          responses: {
            '200': {
              description: '{ audit, nextBefore }',
              ...json(object({ audit: { type: 'array', items: ref('AuditEntry') }, nextBefore: { type: ['integer', 'null'], description: "the last entry's id when the page is full, else null" } })),
            },
            ...errors,
          },
        },
      },
      '/sessions/{id}': {
        parameters: idParam,
        delete: {
          summary: 'Kick a session: its sockets get session:ended (kicked) and the seat is free at once',
          requestBody: { required: false, ...json(ref('Kick')) },
          responses: {
            '200': {
              description: 'the ended session: its id, license, end reason (kicked) and the seats now in use',
              ...json(object({ ...typed('string', 'id', 'licenseId', 'reason'), seatsInUse: { type: 'integer' } })),
            },
            ...unsafeText,
            ...errors,
          },
        },
      },
      ...leasePaths,
      ...receiptKeyPaths,
      ...WEBHOOK_OPENAPI_PATHS,
    },
  };
}
