// Integers in queries are read strictly: decimal digits (a leading minus, then out of range where
// negatives are not allowed). Hex, exponents, fractions, spaces, a plus, an empty value or a
// parameter given twice are 400 bad_request naming the parameter; in range is read as written.
import { describe, expect, it } from 'vitest';
import { startServer } from '../support/harness';

describe('query integers', () => {
  it('every numeric query parameter refuses what is not decimal digits with 400 naming it, and out of range with 422', async () => {
    const { api } = await startServer({ env: { WEBHOOK_ALLOW_PRIVATE: 'on' } });
    const { license, admin } = await api.setup({ seats: 2 });
    const webhook = await admin.ok('POST', '/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['session.started'] });
    const params: Array<[path: string, name: string, low: string]> = [
      [`/licenses/${license.id}/sessions`, 'limit', '0'],
      [`/licenses/${license.id}/sessions`, 'offset', '-1'],
      [`/licenses/${license.id}/denials`, 'limit', '-1'],
      ['/audit', 'limit', '0'],
      ['/audit', 'before', '0'],
      [`/webhooks/${webhook.id}/deliveries`, 'limit', '0'],
      [`/webhooks/${webhook.id}/deliveries`, 'before', '-5'],
    ];
    for (const [path, name, low] of params) {
      // `%201` is " 1", `%2B1` "+1".
      for (const bad of ['0x10', '%201', '1%20', '', '1e2', '1.5', '1.0', '%2B1', 'abc', '-', '1_000', `1&${name}=2`]) {
        const r = await admin.call('GET', `${path}?${name}=${bad}`);
        expect([r.status, r.body.error?.code], `${path}?${name}=${bad}`).toEqual([400, 'bad_request']);
        expect(r.body.error.details.field, `${path}?${name}=${bad}`).toBe(name);
        expect(r.body.error.message).toMatch(new RegExp(`^${name}: `));
      }
      // `before` (an id) has no upper bound: a number too long to read counts as the largest.
      for (const out of name === 'before' ? [low] : [low, '99999999999', '9'.repeat(400)]) {
        const r = await admin.call('GET', `${path}?${name}=${out}`);
        expect([r.status, r.body.error?.code], `${path}?${name}=${out.slice(0, 20)}`).toEqual([422, 'out_of_range']);
        expect(r.body.error.details.field).toBe(name);
      }
      for (const ok of ['1', '07', '20']) expect((await admin.call('GET', `${path}?${name}=${ok}`)).status, `${path}?${name}=${ok}`).toBe(200);
    }
    // Read as written: offset=10 skips ten, where 0x10 was read as 16.
    const page = await admin.ok('GET', `/licenses/${license.id}/sessions?offset=010&limit=5`);
    expect([page.offset, page.matched]).toEqual([10, 0]);
    // Other fields of a 400 are named too: a body's first wrong field.
    const body = await admin.call('POST', '/licenses', { seats: 'many' });
    expect([body.status, body.body.error.details.field]).toEqual([400, 'seats']);
    const id = await admin.call('POST', '/licenses', { id: '..', seats: 1 });
    expect([id.status, id.body.error.details.field]).toEqual([400, 'id']);
  });
});
