// /healthz, /metrics and the OpenAPI document.
import { io } from 'socket.io-client';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type Api, connectAndAdmit, granted, nextEvent, OPERATOR_TOKEN, sign, startServer, until } from '../support/harness';
import { startReceiver } from '../support/webhook-receiver';
import { request } from './http-edge-support';

describe('meta endpoints', () => {
  it('serves /healthz, /metrics and the OpenAPI document', async () => {
    const { url, api } = await startServer();
    const { license } = await api.setup();
    await granted(url, await sign(license, { sid: 'p' }));
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/seat_admissions_total\{outcome="granted"\} 1/);
    const doc: any = await (await fetch(`${url}/api/openapi.json`)).json();
    expect(doc.openapi).toMatch(/^3\./);
    for (const p of ['/tenants', '/licenses', '/licenses/{id}', '/licenses/{id}/sessions', '/licenses/{id}/denials', '/sessions/{id}']) {
      expect(doc.paths[p], p).toBeDefined();
    }
    expect(doc.components.schemas.CreateLicense.properties.seats).toMatchObject({ type: 'integer', minimum: 0 });
  });

  it("the OpenAPI document declares every JSON reply: each operation's schema names every field the server sends, with its type", async () => {
    const receiver = await startReceiver();
    const { url, api } = await startServer({ env: { WEBHOOK_ALLOW_PRIVATE: 'on', WEBHOOK_POLL_MS: '50' } });
    const doc: any = await (await fetch(`${url}/api/openapi.json`)).json();
    const METHODS = ['get', 'put', 'post', 'patch', 'delete'];
    const replySchema = (template: string, method: string, status: string) => doc.paths[template]?.[method]?.responses[status]?.content?.['application/json']?.schema;

    // Every 2xx reply other than a 204 is JSON, and declares its schema.
    const withoutSchema: string[] = [];
    for (const [template, item] of Object.entries<any>(doc.paths)) {
      for (const method of METHODS) {
        for (const status of Object.keys(item[method]?.responses ?? {})) {
          if (/^2/.test(status) && status !== '204' && !replySchema(template, method, status)) withoutSchema.push(`${method.toUpperCase()} ${template} ${status}`);
        }
      }
    }

    // A schema with its $ref resolved and its allOf merged: its types, enum, properties, items.
    const flat = (schema: any): any => {
      if (schema.$ref) return flat(doc.components.schemas[schema.$ref.split('/').at(-1)]);
      if (!schema.allOf) return schema;
      const parts = schema.allOf.map(flat);
      return { ...Object.assign({}, ...parts), properties: Object.assign({}, ...parts.map((p: any) => p.properties ?? {})) };
    };
    const typeOf = (v: unknown): string[] =>
      v === null ? ['null'] : Array.isArray(v) ? ['array'] : typeof v === 'number' ? (Number.isInteger(v) ? ['integer', 'number'] : ['number']) : [typeof v];
    // Where a reply strays from its schema: a field not declared (an object's extra keys need
    // additionalProperties), a value of another type or outside its enum, an array without items.
    const strays = (value: unknown, raw: any, at: string): string[] => {
      if (!raw) return [`${at}: no schema`];
      const schema = flat(raw);
      const types = [schema.type ?? []].flat();
      if (types.length > 0 && !typeOf(value).some((t) => types.includes(t))) return [`${at}: ${JSON.stringify(value)} is not ${types.join(' or ')}`];
      if (schema.enum && !schema.enum.includes(value)) return [`${at}: ${JSON.stringify(value)} is not one of ${schema.enum.join(', ')}`];
      if (Array.isArray(value)) return value.flatMap((v, i) => strays(v, schema.items, `${at}[${i}]`));
      if (typeof value !== 'object' || value === null) return [];
      return Object.entries(value).flatMap(([k, v]) => {
        const declared = schema.properties?.[k] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
        if (declared) return strays(v, declared, `${at}.${k}`);
        return schema.additionalProperties === true ? [] : [`${at}.${k}: not declared`];
      });
    };

    // Every operation with a JSON reply, called for real with data in every list it answers.
    const replies: Array<{ op: string; status: string; body: unknown; schema: unknown }> = [];
    const call = async (as: Api, method: string, template: string, ids: Record<string, string> = {}, body?: unknown) => {
      const r = await as.call(method.toUpperCase(), template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(ids[name]!)), body);
      const op = `${method.toUpperCase()} ${template}`;
      expect(r.status, `${op}: ${JSON.stringify(r.body)}`).toBeLessThan(300);
      replies.push({ op, status: String(r.status), body: r.body, schema: replySchema(template, method, String(r.status)) });
      return r.body;
    };
    const tenant = await call(api, 'post', '/tenants', {}, { name: 'Acme' });
    const { adminToken } = await call(api, 'post', '/tenants/{id}/admin-token', { id: tenant.id });
    const admin = api.as(adminToken);
    const license = await call(admin, 'post', '/licenses', {}, {
      seats: 2,
      queue: true,
      seatKey: ['device'],
      maxActivations: 5,
      offlineGraceSec: 60,
      reservations: [{ group: 'design', seats: 1, window: { days: [1, 2, 3, 4, 5, 6, 7], from: '00:00', to: '24:00', tz: 'UTC' } }],
      groupLimits: [{ group: 'design', max: 2 }],
    });
    const id = { id: license.id };
    const hook = await call(admin, 'post', '/webhooks', {}, { url: receiver.url, events: ['session.started'], licenseId: license.id });
    const holder = await granted(url, await sign(license, { dev: 'a', sub: 'ann', name: 'Ann', app: 'cad', grp: 'design' }));
    const client = api.as(await sign(license, { dev: 'b', sub: 'bo' }));
    const lease = await call(client, 'post', '/leases');
    await call(client, 'put', '/leases/{leaseId}', { leaseId: lease.leaseId });
    expect((await connectAndAdmit(url, await sign(license, { dev: 'c' }))).result.kind).toBe('denied');
    const waiting = io(url, { auth: { token: await sign(license, { dev: 'd', sub: 'di', app: 'cad' }), queue: true }, transports: ['websocket'], reconnection: false, forceNew: true });
    onTestFinished(() => void waiting.disconnect());
    await nextEvent(waiting, 'seat:queued');
    await call(api.as(await sign(license, { dev: 'c', sub: 'cy', name: 'Cy' })), 'post', '/seat-requests', {}, { message: 'a seat, please' });
    await until(async () => (await admin.ok('GET', `/webhooks/${hook.id}/deliveries`)).deliveries.length > 0);

    await call(api, 'get', '/tenants');
    await call(admin, 'get', '/licenses');
    await call(admin, 'get', '/licenses/{id}', id);
    await call(admin, 'get', '/licenses/{id}/sessions', id);
    await call(admin, 'get', '/licenses/{id}/denials', id);
    await call(admin, 'get', '/licenses/{id}/history', id);
    await call(admin, 'get', '/licenses/{id}/queue', id);
    await call(admin, 'get', '/licenses/{id}/seat-requests', id);
    await call(admin, 'get', '/licenses/{id}/activations', id);
    await call(admin, 'post', '/licenses/{id}/preview', id, { seats: 1 });
    await call(admin, 'patch', '/licenses/{id}', id, { name: 'Renamed' });
    await call(admin, 'get', '/webhooks');
    await call(admin, 'patch', '/webhooks/{id}', { id: hook.id }, { concurrency: 2 });
    await call(admin, 'get', '/webhooks/{id}/deliveries', { id: hook.id });
    await call(admin, 'post', '/licenses/{id}/secret', id, { graceSec: 60 });
    await call(admin, 'delete', '/sessions/{id}', { id: holder.grant.sessionId }, { message: 'bye' });
    await call(admin, 'get', '/audit');
    await call(api, 'get', '/receipt-keys');
    await call(api, 'post', '/receipt-keys');

    // Each reply as its schema declares it; every operation with a JSON reply was called.
    const stray = replies.flatMap((r) => strays(r.body, r.schema, `${r.op} ${r.status}`));
    // No list of a reply was empty, so its items' fields were checked too.
    const emptyLists = replies.flatMap((r) => Object.entries(r.body as object).filter(([, v]) => Array.isArray(v) && v.length === 0).map(([k]) => `${r.op} ${k}`));
    const called = new Set(replies.map((r) => r.op));
    const uncalled = Object.entries<any>(doc.paths).flatMap(([template, item]) =>
      METHODS.filter((m) => Object.keys(item[m]?.responses ?? {}).some((s) => /^2/.test(s) && s !== '204'))
        .map((m) => `${m.toUpperCase()} ${template}`)
        .filter((op) => !called.has(op)),
    );
    expect({ withoutSchema, stray, emptyLists, uncalled }).toEqual({ withoutSchema: [], stray: [], emptyLists: [], uncalled: [] });
  });

  it('the OpenAPI document lists every status an operation answers to bad input', async () => {
    const limit = 2048;
    const { url, api } = await startServer({ config: { maxPayloadBytes: limit } });
    const { license, tenant, admin } = await api.setup({ seats: 2, seatKey: ['device'], maxActivations: 2 });
    const client = await sign(license, { dev: 'dev-1' });
    const held = await granted(url, client);
    const lease = await (await fetch(`${url}/api/v1/leases`, { method: 'POST', headers: { authorization: `Bearer ${await sign(license, { dev: 'dev-2' })}` } })).json();
    const doc: any = await (await fetch(`${url}/api/openapi.json`)).json();
    const ids: Record<string, string> = { id: license.id, deviceId: 'dev-1', leaseId: lease.leaseId };
    const idFor = (path: string, name: string) =>
      name !== 'id' ? ids[name]! : path.startsWith('/tenants') ? tenant.id : path.startsWith('/sessions') ? held.grant.sessionId : path.startsWith('/webhooks') ? 'wh_none' : license.id;

    // Out-of-range values the document's schemas cannot show: each must be listed as answered.
    const elsewhere = await api.ok('POST', '/tenants', { name: 'Elsewhere' });
    const specific: Array<[string, string, string, unknown, string?]> = [
      // A move while the license holds a session (the operator's alone): 409.
      ['post', '/licenses/{id}/preview', '', { tenantId: elsewhere.id }, OPERATOR_TOKEN],
      ['patch', '/licenses/{id}', '', { tenantId: elsewhere.id }, OPERATOR_TOKEN],
      ['post', '/licenses/{id}/preview', '', { seats: -1 }],
      ['patch', '/licenses/{id}', '', { seats: -1 }],
      ['post', '/licenses', '', { seats: -1 }],
      ['post', '/tenants', '', { name: '' }],
      ['post', '/licenses/{id}/secret', '', { graceSec: -1 }],
      ['delete', '/sessions/{id}', '', { message: 'a\u0007' }],
      ['post', '/seat-requests', '', { message: 'a'.repeat(501) }],
      ['post', '/seat-requests', '', { x: 1 }],
      ['post', '/webhooks', '', { url: 'ftp://x', events: ['session.started'] }],
      ['get', '/licenses/{id}/history', '?tz=Nowhere/None', undefined],
      ['get', '/licenses/{id}/sessions', '?format=xml', undefined],
    ];
    const probes: Array<{ method: string; template: string; path: string; query: string; body?: string; token?: string }> = [];
    for (const [template, item] of Object.entries<any>(doc.paths)) {
      for (const method of ['get', 'put', 'post', 'patch', 'delete']) {
        const op = item[method];
        if (!op) continue;
        const fill = (value: (name: string) => string) => template.replace(/\{(\w+)\}/g, (_, name: string) => value(name));
        const path = fill((name) => encodeURIComponent(idFor(template, name)));
        const clientToken = (op.security ?? doc.security).some((s: any) => 'clientToken' in s);
        const token = clientToken ? client : template === '/receipt-keys' ? OPERATOR_TOKEN : admin.token;
        const params = [...(item.parameters ?? []), ...(op.parameters ?? [])].filter((p: any) => p.in === 'query');
        const base = { method, template, path, query: '', token };
        probes.push({ ...base, token: undefined }, { ...base, token: 'not-a-token' });
        if (template.includes('{')) probes.push({ ...base, path: fill(() => '%zz') });
        if (op.requestBody) {
          probes.push({ ...base, body: '{' }, { ...base, body: '[]' }, { ...base, body: JSON.stringify({ pad: 'x'.repeat(limit) }) }, { ...base, body: '{"unknown":1}' });
        } else {
          probes.push({ ...base, body: '{}' });
        }
        for (const p of params) {
          for (const value of ['', 'abc', '0', '-1', '0x10', 'x'.repeat(300), '99999999999']) probes.push({ ...base, query: `?${p.name}=${encodeURIComponent(value)}` });
          probes.push({ ...base, query: `?${p.name}=1&${p.name}=2` });
        }
        for (const [m, t, query, body, by] of specific) {
          if (m === method && t === template) probes.push({ ...base, query, body: body === undefined ? undefined : JSON.stringify(body), token: by ?? token });
        }
      }
    }
    const missing: string[] = [];
    const seen = new Set<string>();
    for (const p of probes) {
      // node:http: a GET may carry a body here (fetch refuses to send one).
      const r = await request(url, p.method.toUpperCase(), `/api/v1${p.path}${p.query}`, {
        body: p.body,
        headers: { authorization: p.token ? `Bearer ${p.token}` : '', ...(p.body === undefined ? {} : { 'content-type': 'application/json' }) },
      });
      seen.add(String(r.status));
      const listed = Object.keys(doc.paths[p.template][p.method].responses);
      if (!listed.includes(String(r.status))) missing.push(`${p.method.toUpperCase()} ${p.template}${p.query.slice(0, 40)} ${p.body?.slice(0, 30) ?? ''} → ${r.status}, listed ${listed.join(',')}`);
    }
    expect(missing).toEqual([]);
    // The battery reached the statuses it is about.
    for (const status of ['400', '401', '404', '409', '413', '422']) expect(seen, status).toContain(status);
  });
});
