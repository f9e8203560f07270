// Paths and methods at the HTTP edge: unknown paths under /api answer 404 in JSON (elsewhere a
// small page under the pages' CSP), a method a path does not serve gets 405 with Allow, and the
// demo token endpoint's own refusals.
import { describe, expect, it } from 'vitest';
import { CSP } from '../../server/http/html';
import { setupDemo } from '../../server/demo-setup';
import { startServer } from '../support/harness';
import { expectError, request, withPages } from './http-edge-support';

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
      ['PUT', `/api/v1/licenses/${license.id}`, 'GET, HEAD, PATCH, DELETE'],
      ['POST', `/api/v1/licenses/${license.id}/sessions`, 'GET, HEAD'],
      ['GET', '/api/v1/sessions/x', 'DELETE'],
      ['PUT', '/api/v1/tenants', 'POST, GET, HEAD'],
      ['GET', '/api/v1/tenants/x/admin-token', 'POST'],
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
