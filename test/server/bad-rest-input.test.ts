// Invariant 7, REST: malformed, oversized, unauthorised and out-of-range requests get coded errors and change nothing.
import { describe, expect, it } from 'vitest';
import { startServer } from '../support/harness';

describe('bad REST input', () => {
  it('answers malformed, oversized, unauthorised and out-of-range requests with coded errors', async () => {
    const { api } = await startServer({ config: { maxPayloadBytes: 2048 } });
    const { license, admin } = await api.setup({ seats: 2 });
    const expectError = (r: { status: number; body: any }, status: number, code: string) => {
      expect(r.status).toBe(status);
      expect(r.body.error.code).toBe(code);
      expect(typeof r.body.error.message).toBe('string');
    };
    expectError(await api.as('').call('GET', '/licenses'), 401, 'unauthorized');
    expectError(await api.as('nope-nope-nope').call('GET', '/licenses'), 401, 'unauthorized');
    expectError(await admin.call('POST', '/licenses', '{"seats": 1,'), 400, 'bad_request');
    expectError(await admin.call('POST', '/licenses', { seats: 'many' }), 400, 'bad_request');
    expectError(await admin.call('POST', '/licenses', { seats: 1, extra: true }), 400, 'bad_request');
    expectError(await admin.call('POST', '/licenses', { seats: -1 }), 422, 'out_of_range');
    // A 422 names its field in `details`, whichever check refused it.
    expect((await admin.call('POST', '/licenses', { seats: -1 })).body.error.details).toMatchObject({ field: 'seats' });
    const kick = await admin.call('DELETE', '/sessions/nope', { message: 'a\u0007b' });
    expect(kick.status).toBe(422);
    expect(kick.body.error.details.field).toBe('message');
    expectError(await admin.call('POST', '/licenses', { seats: 1, name: 'x'.repeat(5000) }), 413, 'payload_too_large');
    expectError(await admin.call('POST', '/licenses', { seats: 1, seatKey: ['session', 'session'] }), 400, 'bad_request');
    expectError(await admin.call('POST', '/licenses', { seats: 1, seatKey: ['galaxy'] }), 400, 'bad_request');
    expectError(await admin.call('PATCH', `/licenses/${license.id}`, {}), 400, 'bad_request');
    expectError(await admin.call('PATCH', `/licenses/${license.id}`, { status: 'deleted' }), 400, 'bad_request');
    expectError(await admin.call('GET', '/licenses/nope'), 404, 'not_found');
    expectError(await admin.call('DELETE', '/sessions/nope'), 404, 'not_found');
    expectError(await admin.call('POST', '/tenants', { name: 'x' }), 403, 'forbidden');
    expectError(await admin.call('GET', '/nowhere'), 404, 'not_found');
    expectError(await api.call('POST', '/licenses', { seats: 1, tenantId: 'no-such-tenant' }), 404, 'not_found');
    expectError(await admin.call('POST', '/licenses', { id: license.id, seats: 1 }), 409, 'conflict');
    expect(await admin.ok('GET', `/licenses/${license.id}`)).toMatchObject({ seats: 2, status: 'active', name: license.name });
  });

  it("takes a license's own id in a PATCH (a license as read, sent back) and leaves it; refuses another id, and an unknown field, naming it", async () => {
    const { api } = await startServer();
    const { license, admin } = await api.setup({ seats: 2 });
    expect(await admin.ok('PATCH', `/licenses/${license.id}`, { id: license.id, seats: 3 })).toMatchObject({ id: license.id, seats: 3 });
    const preview = await admin.call('POST', `/licenses/${license.id}/preview`, { id: license.id, seats: 0 });
    expect(preview).toMatchObject({ status: 200, body: { wouldEnd: [] } });
    const renamed = await admin.call('PATCH', `/licenses/${license.id}`, { id: 'another', seats: 1 });
    expect([renamed.status, renamed.body.error.code, renamed.body.error.details.field]).toEqual([400, 'bad_request', 'id']);
    // Said as the input checks say a wrong field: every issue listed, with its path.
    expect(renamed.body.error.details.issues).toEqual([{ path: ['id'], message: expect.stringContaining('never changes') }]);
    expect(renamed.body.error.message).toContain(`"another" is not this license's "${license.id}"`);
    // Its own id alone changes nothing: refused as an empty body is.
    const empty = await admin.call('PATCH', `/licenses/${license.id}`, {});
    const onlyId = await admin.call('PATCH', `/licenses/${license.id}`, { id: license.id });
    expect([onlyId.status, onlyId.body.error]).toEqual([400, empty.body.error]);
    const unknown = await admin.call('PATCH', `/licenses/${license.id}`, { bogus: 1, seats: 1 });
    expect([unknown.status, unknown.body.error.message, unknown.body.error.details.field]).toEqual([400, 'unknown field "bogus"', 'bogus']);
    expect(await admin.ok('GET', `/licenses/${license.id}`)).toMatchObject({ id: license.id, seats: 3 });
    expect((await admin.ok('GET', '/licenses')).licenses.map((l: any) => l.id)).toEqual([license.id]);
  });

  it("tells a whole number beyond the safe integers the field's own bounds, not zod's <=9007199254740991, and changes nothing", async () => {
    const { api } = await startServer();
    const { license, admin } = await api.setup({ seats: 2 });
    const cases = [
      ['POST', '/licenses', { seats: 2 ** 60 }, 'seats', 0, 1_000_000],
      ['POST', '/licenses', { seats: -(2 ** 60) }, 'seats', 0, 1_000_000],
      ['PATCH', `/licenses/${license.id}`, { offlineGraceSec: 1e20 }, 'offlineGraceSec', 0, 2_592_000],
      ['PATCH', `/licenses/${license.id}`, { groupLimits: [{ group: 'g', max: 2 ** 60 }] }, 'groupLimits.0.max', 0, 1_000_000],
      ['POST', '/webhooks', { url: 'https://93.184.216.34/h', events: ['session.started'], concurrency: 1e300 }, 'concurrency', 1, 32],
    ] as const;
    for (const [method, path, body, field, min, max] of cases) {
      const r = await admin.call(method, path, body);
      expect([r.status, r.body.error.code], field).toEqual([422, 'out_of_range']);
      expect(r.body.error.message).toMatch(new RegExp(`^${field.replace(/\./g, '\\.')} must be between ${min} and ${max}( seconds)?$`));
      expect(r.body.error.details).toMatchObject({ field, min, max });
      expect(r.body.error.details.issues).toHaveLength(1);
    }
    expect(await admin.ok('GET', `/licenses/${license.id}`)).toMatchObject({ seats: 2, offlineGraceSec: 0, groupLimits: [] });
    expect((await admin.ok('GET', '/licenses')).licenses).toHaveLength(1);
    expect((await admin.ok('GET', '/webhooks')).webhooks).toEqual([]);
  });

  it('refuses the license ids "." and "..", which no URL path can carry, as it refuses any id outside the pattern', async () => {
    const { api } = await startServer();
    const { admin } = await api.setup({ seats: 1 });
    const pattern = await admin.call('POST', '/licenses', { id: 'a b', seats: 1 });
    expect(pattern.status).toBe(400);
    for (const id of ['.', '..']) {
      const r = await admin.call('POST', '/licenses', { id, seats: 1 });
      expect(r.status, id).toBe(pattern.status);
      expect(r.body.error.code).toBe('bad_request');
      // The same shape as the pattern's refusal: the same details, naming the field.
      expect(Object.keys(r.body.error.details).sort()).toEqual(Object.keys(pattern.body.error.details).sort());
      expect(r.body.error.details.issues).toEqual(pattern.body.error.details.issues);
      expect(r.body.error.message).toBe(pattern.body.error.message);
      expect(r.body.error.message).toMatch(/^id: .*not "\." or "\.\."/);
    }
    // Nothing was made; ids with dots among other characters are fine.
    expect((await admin.ok('GET', '/licenses')).licenses.map((l: any) => l.id).filter((id: string) => /^\.+$/.test(id))).toEqual([]);
    for (const id of ['...', '.a', 'a..', 'v1.2']) expect((await admin.call('POST', '/licenses', { id, seats: 1 })).status, id).toBe(201);
  });
});
