// Refusals at the HTTP edge: every one in the contract's shape { error: { code, message } } with a
// fitting status, and none of them changing anything. Bodies that are not JSON objects, bodies
// on GETs, bad percent-escapes, what Node's parser refuses (431, malformed requests, timeouts),
// unknown paths and methods, control and bidi-override characters in shown text, and long ids
// echoed in messages. Plus the start page at `/`.
import http from 'node:http';
import net from 'node:net';
import express from 'express';
import { describe, expect, it, onTestFinished } from 'vitest';
import { CSP } from '../../server/http/html';
import { createHttpServer } from '../../server/http/errors';
import { mountPages } from '../../server/http/pages';
import { setupDemo } from '../../server/demo-setup';
import type { SeatServerOptions } from '../../server/seat-server';
import { OPERATOR_TOKEN, connectAndAdmit, granted, sign, startServer } from '../support/harness';

const AUTH = `Bearer ${OPERATOR_TOKEN}`;
const withPages: SeatServerOptions['routes'] = (app, ctx) => mountPages(app, ctx);

interface Reply {
  status: number;
  headers: Record<string, string>;
  text: string;
  json: any;
}

/** Writes `request` as is to a fresh connection and reads the reply until the server closes or `waitMs` passes. */
function raw(url: string, request: string | Buffer, waitMs = 3000): Promise<Reply> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    const chunks: Buffer[] = [];
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      const all = Buffer.concat(chunks).toString('utf8');
      const at = all.indexOf('\r\n\r\n');
      if (at < 0) return reject(new Error(`no HTTP reply: ${JSON.stringify(all.slice(0, 200))}`));
      const [statusLine, ...lines] = all.slice(0, at).split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      let text = all.slice(at + 4);
      if (headers['transfer-encoding'] === 'chunked') {
        let out = '';
        for (let rest = text; ; ) {
          const eol = rest.indexOf('\r\n');
          const size = parseInt(rest.slice(0, eol), 16);
          if (!size) break;
          out += rest.slice(eol + 2, eol + 2 + size);
          rest = rest.slice(eol + 2 + size + 2);
        }
        text = out;
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      resolve({ status: Number(statusLine!.split(' ')[1]), headers, text, json });
    };
    const timer = setTimeout(done, waitMs);
    socket.on('data', (d) => chunks.push(d));
    socket.on('close', done);
    socket.on('error', () => {}); // a reset after the reply still leaves the reply read
    socket.write(request);
  });
}

/** A request through node:http, which (unlike fetch) sends any body with any method. */
function request(url: string, method: string, path: string, opts: { body?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    // node:http sends a GET's or DELETE's body without a length unless told one.
    const length: Record<string, string> =
      opts.body === undefined || opts.headers?.['transfer-encoding'] ? {} : { 'content-length': String(Buffer.byteLength(opts.body)) };
    const req = http.request(`${url}${path}`, { method, headers: { authorization: AUTH, ...length, ...opts.headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode!, headers: res.headers as Record<string, string>, text, json });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

function expectError(r: { status: number; json?: any; body?: any }, status: number, code: string, message?: RegExp | string) {
  const body = r.json ?? r.body;
  expect(r.status, JSON.stringify(body)).toBe(status);
  expect(body, 'the contract error shape').toMatchObject({ error: { code, message: expect.any(String) } });
  if (message !== undefined) expect(body.error.message).toMatch(message);
}

describe('request bodies', () => {
  it('a kick with a body that is not a JSON object, or not JSON, is refused with 400 and kicks nobody', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 3 });
    const held = await granted(url, await sign(license, { sid: 'held' }));
    const id = held.grant.sessionId;
    const json = { 'content-type': 'application/json' };
    const cases: Array<[string, string, Record<string, string>, RegExp]> = [
      ['[]', '[]', json, /not an array/],
      ['0', '0', json, /not a number/],
      ['true', 'true', json, /not a boolean/],
      ['""', '""', json, /not a string/],
      ['null', 'null', json, /not null/],
      ['text/plain', '{"message":"bye"}', { 'content-type': 'text/plain' }, /content-type: application\/json/],
      ['form', 'message=bye', { 'content-type': 'application/x-www-form-urlencoded' }, /content-type: application\/json/],
      ['no content type', '{"message":"bye"}', {}, /content-type: application\/json/],
      ['chunked text', 'bye', { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' }, /content-type: application\/json/],
      ['chunked []', '[]', { ...json, 'transfer-encoding': 'chunked' }, /not an array/],
      ['not JSON', '{"message":', json, /^the body is not valid JSON$/],
      ['unknown field', '{"msg":"bye"}', json, /unknown field "msg"/],
      ['message not a string', '{"message":7}', json, /message/],
    ];
    for (const [why, body, headers, message] of cases) {
      const r = await request(url, 'DELETE', `/api/v1/sessions/${id}`, { body, headers });
      expect(r.status, why).toBe(400);
      expectError(r, 400, 'bad_request', message);
    }
    // Nothing changed: the session is live, its socket connected, nothing in the audit log.
    expect(held.socket.connected).toBe(true);
    const { sessions } = await admin.ok('GET', `/licenses/${license.id}/sessions`);
    expect(sessions.map((s: any) => s.id)).toEqual([id]);
    expect((await admin.ok('GET', '/audit')).audit.filter((a: any) => a.action === 'session.kick')).toHaveLength(0);

    // No body, an empty one, `{}` and `{ message }` all kick.
    const kicks: Array<[string, Record<string, string>, string | undefined]> = [
      ['no body', {}, undefined],
      ['content-length 0', { ...json, 'content-length': '0' }, ''],
      ['{}', json, '{}'],
      ['{ message }', json, '{"message":"bye"}'],
    ];
    for (const [why, headers, body] of kicks) {
      const s = await granted(url, await sign(license, { sid: `k-${why}` }));
      const r = await request(url, 'DELETE', `/api/v1/sessions/${s.grant.sessionId}`, { body, headers });
      expect(r.status, `${why}: ${r.text}`).toBe(200);
      expect(r.json).toMatchObject({ id: s.grant.sessionId, reason: 'kicked' });
    }
  });

  it('every route checks a body that is present, whatever its content type; GETs take none', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 2, name: 'Before' });
    const json = { 'content-type': 'application/json' };
    const writes: Array<[string, string]> = [
      ['POST', '/tenants'],
      ['POST', '/licenses'],
      ['PATCH', `/licenses/${license.id}`],
    ];
    for (const [method, path] of writes) {
      for (const [body, headers, message] of [
        ['[]', json, /JSON object, not an array/],
        ['"x"', json, /JSON object, not a string/],
        ['null', json, /JSON object, not null/],
        ['1', json, /JSON object, not a number/],
        ['{"name":"x","seats":1}', { 'content-type': 'text/plain' }, /content-type: application\/json/],
        ['name=x&seats=1', { 'content-type': 'application/x-www-form-urlencoded' }, /content-type: application\/json/],
        [undefined, {}, /send a JSON object as the body/],
      ] as const) {
        const r = await request(url, method, `/api/v1${path}`, { body, headers });
        expectError(r, 400, 'bad_request', message);
      }
    }
    const gets = ['/licenses', `/licenses/${license.id}`, `/licenses/${license.id}/sessions`, `/licenses/${license.id}/denials`, `/licenses/${license.id}/history`, '/audit'];
    for (const path of gets) {
      expectError(await request(url, 'GET', `/api/v1${path}`, { body: '{}', headers: json }), 400, 'bad_request', /a GET request takes no body/);
      expectError(await request(url, 'GET', `/api/v1${path}`, { body: 'x', headers: { 'content-type': 'text/plain' } }), 400, 'bad_request', /takes no body/);
      // Without a body (or with an empty one) they answer.
      expect((await request(url, 'GET', `/api/v1${path}`)).status, path).toBe(200);
      expect((await request(url, 'GET', `/api/v1${path}`, { headers: { ...json, 'content-length': '0' } })).status, path).toBe(200);
    }
    // Nothing changed.
    expect((await admin.ok('GET', `/licenses/${license.id}`))).toMatchObject({ seats: 2, name: 'Before' });
    expect((await api.ok('GET', '/licenses')).licenses).toHaveLength(1);
  });

  it('tells a bad body, a too large one and a bad path apart', async () => {
    const { api } = await startServer({ config: { maxPayloadBytes: 2048 } });
    const { license } = await api.setup();
    expectError(await api.call('POST', '/licenses', '{"seats": 1,'), 400, 'bad_request', /^the body is not valid JSON$/);
    expectError(await api.call('POST', '/licenses', { seats: 1, name: 'x'.repeat(5000) }), 413, 'payload_too_large', /larger than 2048 bytes/);
    for (const path of ['/licenses/%E0%A4%A', '/licenses/%zz', `/licenses/%zz/sessions`, '/sessions/%', `/licenses/${license.id}%ZZ/denials`]) {
      expectError(await api.call('GET', path), 400, 'bad_request', /^the path is not valid: bad percent-encoding$/);
    }
    expectError(await api.call('DELETE', '/sessions/%zz'), 400, 'bad_request', /^the path is not valid/);
    // A good escape still works.
    expect((await api.call('GET', `/licenses/${encodeURIComponent(license.id)}`)).status).toBe(200);
  });
});

describe("what Node's parser refuses", () => {
  it('headers over 16 KB get 431 in the error shape, with connection: close', async () => {
    const { url } = await startServer();
    const r = await raw(url, `GET /api/v1/licenses HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'x'.repeat(20_000)}\r\n\r\n`);
    expect(r.status).toBe(431);
    expect(r.headers.connection).toBe('close');
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(Number(r.headers['content-length'])).toBe(Buffer.byteLength(r.text));
    expectError(r, 431, 'headers_too_large', /headers are larger than/);
    // fetch reads it too.
    const viaFetch = await fetch(`${url}/api/v1/licenses`, { headers: { authorization: `Bearer ${'x'.repeat(20_000)}` } });
    expect(viaFetch.status).toBe(431);
    expect(await viaFetch.json()).toMatchObject({ error: { code: 'headers_too_large' } });
  });

  it('malformed requests and a missing Host get 400 in the error shape', async () => {
    const { url } = await startServer();
    for (const bad of [
      'GARBAGE\r\n\r\n',
      'GET /api/v1/licenses HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n',
      'POST /api/v1/licenses HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
      'GET /api/v1/licenses HTTP/1.1\r\n\r\n',
    ]) {
      const r = await raw(url, bad);
      expect(r.headers.connection, bad).toBe('close');
      expectError(r, 400, 'bad_request');
    }
  });

  it('a request that does not arrive in time gets 408 in the error shape', async () => {
    const app = express();
    const server = createHttpServer(app, { headersTimeout: 300, requestTimeout: 300, connectionsCheckingInterval: 50 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const r = await raw(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, 'GET / HTTP/1.1\r\nHost: x\r\n', 3000);
    expectError(r, 408, 'request_timeout');
    expect(r.headers.connection).toBe('close');
  });

  it('an unknown Expect is ignored rather than answered with an empty 417', async () => {
    const { url } = await startServer();
    const r = await raw(url, `GET /api/v1/licenses HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\nExpect: something\r\nConnection: close\r\n\r\n`);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ licenses: [] });
  });
});

describe('paths and methods', () => {
  it('unknown paths under /api, and /demo/token without the demo, answer 404 in JSON; elsewhere a small page', async () => {
    for (const routes of [undefined, withPages]) {
      const { url } = await startServer({ routes });
      for (const path of ['/api/v1/nope', '/api/nope', '/api', '/API/v1/nope', '/api/v1', '/demo/token']) {
        for (const method of ['GET', 'POST']) {
          const r = await request(url, method, path);
          expect(r.headers['content-type'], `${method} ${path}`).toMatch(/^application\/json/);
          expectError(r, 404, 'not_found');
        }
      }
      // Without a token too: a path that does not exist is 404, not 401.
      expectError(await request(url, 'GET', '/api/v1/nope', { headers: { authorization: '' } }), 404, 'not_found');
      const page = await fetch(`${url}/nope`);
      expect(page.status).toBe(404);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.headers.get('content-security-policy')).toBe(CSP);
      const html = await page.text();
      expect(html).toContain('<title>Not found</title>');
      expect(html).not.toContain('Cannot GET');
    }
  });

  it('a method a path does not serve gets 405 with Allow, in JSON', async () => {
    const { api, url } = await startServer();
    const { license } = await api.setup();
    const cases: Array<[string, string, string]> = [
      ['PUT', '/api/v1/licenses', 'POST, GET, HEAD'],
      ['DELETE', `/api/v1/licenses/${license.id}`, 'GET, HEAD, PATCH'],
      ['POST', `/api/v1/licenses/${license.id}/sessions`, 'GET, HEAD'],
      ['GET', '/api/v1/sessions/x', 'DELETE'],
      ['GET', '/api/v1/tenants', 'POST'],
      ['POST', '/api/openapi.json', 'GET, HEAD'],
    ];
    for (const [method, path, allow] of cases) {
      const r = await request(url, method, path);
      expectError(r, 405, 'method_not_allowed', new RegExp(`^${method} is not allowed here`));
      expect(r.headers.allow, `${method} ${path}`).toBe(allow);
    }
    const options = await request(url, 'OPTIONS', '/api/v1/licenses');
    expect(options.status).toBe(204);
    expect(options.headers.allow).toBe('POST, GET, HEAD');
    // HEAD of a GET route still answers.
    expect((await request(url, 'HEAD', '/api/v1/licenses')).status).toBe(200);
  });

  it('the demo token endpoint: 405 for other methods, its own body rule, and a bad cookie is no cookie', async () => {
    const { url } = await startServer({ routes: withPages, config: { demo: true } });
    const running = await startServer({ routes: withPages, config: { demo: true } });
    await setupDemo(running.server);
    const demo = running.url;
    expectError(await request(demo, 'GET', '/demo/token'), 405, 'method_not_allowed');
    expectError(await request(demo, 'POST', '/demo/token', { body: '[]', headers: { 'content-type': 'application/json' } }), 400, 'bad_request', /JSON object/);
    expectError(await request(demo, 'POST', '/demo/token', { body: 'name=x', headers: { 'content-type': 'text/plain' } }), 400, 'bad_request');
    expectError(await request(demo, 'POST', '/demo/token', { body: '{"name":', headers: { 'content-type': 'application/json' } }), 400, 'bad_request', /^the body is not valid JSON$/);
    expectError(await request(demo, 'POST', '/demo/token', { body: '{"name":"\\u202eevil"}', headers: { 'content-type': 'application/json' } }), 422, 'out_of_range', /^name: must not contain control or bidi-override characters/);
    const ok = await request(demo, 'POST', '/demo/token', { body: '{"name":"Ann"}', headers: { 'content-type': 'application/json', cookie: 'demo_sid=%zz' } });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.json.token).toEqual(expect.any(String));
    // With the demo on but no demo license (this server had no setupDemo), still JSON.
    expectError(await request(url, 'POST', '/demo/token'), 404, 'not_found');
  });
});

describe('the start page', () => {
  it('links the dashboard, the demo (only when on), the API document and /healthz, under the pages\' CSP', async () => {
    for (const demo of [true, false]) {
      const { url } = await startServer({ routes: withPages, config: { demo } });
      const res = await fetch(`${url}/`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      const csp = res.headers.get('content-security-policy');
      expect(csp).toBe((await fetch(`${url}/admin`)).headers.get('content-security-policy'));
      expect(csp).toBe(CSP);
      const html = await res.text();
      const hrefs = [...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1]);
      expect(hrefs).toEqual(expect.arrayContaining(['/admin', '/api/openapi.json', '/healthz', '/admin/app.css']));
      expect(hrefs.includes('/demo')).toBe(demo);
      // No inline script or style.
      expect(html).not.toMatch(/<script|<style|\sstyle=|\son[a-z]+=/i);
      for (const href of hrefs.filter((h) => h!.startsWith('/'))) {
        expect((await fetch(`${url}${href}`)).status, href).toBe(200);
      }
    }
  });
});

describe('shown text', () => {
  const BAD: Array<[string, string]> = [
    ['NUL', '\u0000'],
    ['US', '\u001f'],
    ['newline inside', 'a\nb'],
    ['DEL', '\u007f'],
    ['C1 NEL', '\u0085'],
    ['C1 APC', '\u009f'],
    ['LRE', '\u202a'],
    ['RLO', '\u202e'],
    ['LRI', '\u2066'],
    ['PDI', '\u2069'],
    ['lone high surrogate', '\ud800'],
    ['lone low surrogate', '\udfff'],
  ];
  const GOOD = ['Zoë Müller', '山田太郎', 'עברית', 'مرحبا', 'emoji 😀 pair', 'tab-free name'];

  it('names, denied messages and kick messages with control or bidi-override characters are refused with 422 naming the field', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 2, name: 'Clean' });
    const held = await granted(url, await sign(license, { sid: 'held' }));
    for (const [why, bad] of BAD) {
      const value = `x${bad}y`;
      const attempts: Array<[string, string, string, unknown]> = [
        ['tenant name', 'POST', '/tenants', { name: value }],
        ['license name', 'POST', '/licenses', { seats: 1, name: value }],
        ['deniedMessage', 'POST', '/licenses', { seats: 1, deniedMessage: value }],
        ['license name (patch)', 'PATCH', `/licenses/${license.id}`, { name: value }],
        ['deniedMessage (patch)', 'PATCH', `/licenses/${license.id}`, { deniedMessage: value }],
        ['kick message', 'DELETE', `/sessions/${held.grant.sessionId}`, { message: value }],
      ];
      for (const [what, method, path, body] of attempts) {
        const r = await (what === 'tenant name' ? api : admin).call(method, path, body);
        const field = Object.keys(body as object).find((k) => k !== 'seats');
        expect(r.status, `${what} with ${why}`).toBe(422);
        expect(r.body.error.code, `${what} with ${why}`).toBe('out_of_range');
        expect(r.body.error.message).toBe(`${field}: must not contain control or bidi-override characters, or lone surrogates`);
      }
    }
    // Nothing changed.
    expect(held.socket.connected).toBe(true);
    expect(await admin.ok('GET', `/licenses/${license.id}`)).toMatchObject({ name: 'Clean', deniedMessage: 'There are no free seats available' });
    expect((await api.ok('GET', '/licenses')).licenses).toHaveLength(1);
    // Every script, and pairs of surrogates, are fine; so is surrounding whitespace, trimmed.
    for (const good of GOOD) {
      expect((await admin.call('PATCH', `/licenses/${license.id}`, { name: good, deniedMessage: good })).status, good).toBe(200);
      expect((await api.call('POST', '/tenants', { name: good })).status, good).toBe(201);
    }
    expect((await admin.ok('PATCH', `/licenses/${license.id}`, { name: '  Padded\n' })).name).toBe('Padded');
    expect((await admin.call('DELETE', `/sessions/${held.grant.sessionId}`, { message: 'Bye 👋' })).status).toBe(200);
  });

  it('tokens whose name or app claims hold such characters are refused at connect with invalid_token naming the claim', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 2 });
    for (const claim of ['name', 'app']) {
      for (const [why, bad] of BAD) {
        const { result } = await connectAndAdmit(url, await sign(license, { sid: `s-${claim}`, [claim]: `x${bad}y` }));
        expect(result, `${claim} with ${why}`).toMatchObject({ kind: 'connect_error', message: 'invalid_token', data: { reason: 'invalid_token' } });
        expect((result as any).data.message).toBe(`the "${claim}" claim is invalid: must not contain control or bidi-override characters, or lone surrogates`);
      }
    }
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(0);
    for (const good of GOOD) {
      const g = await granted(url, await sign(license, { sid: 'good', name: good, app: good }));
      g.socket.disconnect();
    }
  });
});

describe('echoed ids', () => {
  it('ids quoted in error messages are cut to 64 characters with an ellipsis', async () => {
    const { url, api } = await startServer();
    const { license } = await api.setup();
    const long = 'a'.repeat(10_000);
    const cut = `"${'a'.repeat(64)}…"`;
    for (const [method, path, body, message] of [
      ['GET', `/licenses/${long}`, undefined, `no license ${cut}`],
      ['GET', `/licenses/${long}/sessions`, undefined, `no license ${cut}`],
      ['PATCH', `/licenses/${long}`, { seats: 1 }, `no license ${cut}`],
      ['DELETE', `/sessions/${long}`, undefined, `no live session ${cut}`],
      ['POST', '/licenses', { seats: 1, tenantId: 't'.repeat(100) }, `no tenant "${'t'.repeat(64)}…"`],
      ['POST', '/licenses', { seats: 1, [long]: 1 }, `unknown field ${cut}`],
    ] as const) {
      const r = await api.call(method, path, body);
      expect(r.body.error.message, `${method} ${path.slice(0, 30)}`).toBe(message);
    }
    // Short ids are quoted whole; unsafe characters in them are shown as U+FFFD.
    expect((await api.call('GET', '/licenses/nope')).body.error.message).toBe('no license "nope"');
    expect((await api.call('GET', '/licenses/a%E2%80%AEb')).body.error.message).toBe('no license "a\uFFFDb"');
    // A token's license id, too (up to 8 KB of token).
    const { result } = await connectAndAdmit(url, await sign({ id: 'l'.repeat(5000), secret: license.secret }, { sid: 's' }));
    expect(result).toMatchObject({ kind: 'connect_error', data: { reason: 'license_not_found', message: `no license "${'l'.repeat(64)}…"` } });
  });
});
