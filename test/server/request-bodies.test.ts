// Request bodies at the HTTP edge: a body that is not a JSON object, or not JSON, or has another
// content type, is refused with 400 in the contract's shape { error: { code, message } } and
// changes nothing; GETs take no body; a too large body (413) and a bad percent-escape in the path
// are told apart.
import { describe, expect, it } from 'vitest';
import { granted, sign, startServer } from '../support/harness';
import { expectError, request } from './http-edge-support';

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
      // Not what its content-encoding says: the inflater's failure is the body's, not the server's (was 503).
      ...(['gzip', 'deflate', 'br'] as const).map((enc): [string, string, Record<string, string>, RegExp] => [
        `not ${enc}`,
        '{"message":"bye"}',
        { ...json, 'content-encoding': enc },
        /^the body could not be decompressed as its content-encoding says$/,
      ]),
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
