// /healthz, /metrics and the OpenAPI document.
import { describe, expect, it } from 'vitest';
import { connectAndAdmit, granted, OPERATOR_TOKEN, sign, startServer } from '../support/harness';
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

  it("the OpenAPI document's reply schemas name every field the server sends", async () => {
    const { url, api } = await startServer();
    const doc: any = await (await fetch(`${url}/api/openapi.json`)).json();
    // The property names a schema declares, through $ref and allOf.
    const fields = (schema: any): string[] => {
      if (schema.$ref) return fields(doc.components.schemas[schema.$ref.split('/').at(-1)]);
      if (schema.allOf) return schema.allOf.flatMap(fields);
      return Object.keys(schema.properties ?? {});
    };
    const reply = (path: string, method: string, status: string) => doc.paths[path][method].responses[status].content['application/json'].schema;
    const item = (path: string, method: string, list: string) => reply(path, method, '200').properties[list].items;
    const undeclared = (sent: object, schema: any) => Object.keys(sent).filter((k) => !fields(schema).includes(k));

    const { license, admin } = await api.setup({ seats: 1, seatKey: ['device'] });
    expect(undeclared(license, reply('/licenses', 'post', '201')), 'POST /licenses').toEqual([]);
    await granted(url, await sign(license, { dev: 'a', app: 'planner' }));
    expect((await connectAndAdmit(url, await sign(license, { dev: 'b' }))).result.kind).toBe('denied');
    const { sessions } = await admin.ok('GET', `/licenses/${license.id}/sessions`);
    expect(undeclared(sessions[0], item('/licenses/{id}/sessions', 'get', 'sessions')), 'a session').toEqual([]);
    const { denials } = await admin.ok('GET', `/licenses/${license.id}/denials`);
    expect(undeclared(denials[0], item('/licenses/{id}/denials', 'get', 'denials')), 'a denial').toEqual([]);
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
