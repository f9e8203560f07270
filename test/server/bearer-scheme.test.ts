// `Authorization: Bearer <token>`: the scheme's name is case-insensitive (RFC 9110 section 11.1),
// on the admin API, the receipt keys, the leases' client tokens and the metrics alike; any other
// scheme, or none, is 401.
import { describe, expect, it } from 'vitest';
import { OPERATOR_TOKEN, sign, startServer } from '../support/harness';

const get = (url: string, authorization?: string, method = 'GET') =>
  fetch(url, { method, headers: authorization === undefined ? {} : { authorization } }).then(async (r) => {
    const text = await r.text();
    return { status: r.status, body: (r.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as any };
  });

describe('the Bearer scheme', () => {
  it('is read in any case, with the token alone; other schemes are 401', async () => {
    const { url, api } = await startServer();
    const { license } = await api.setup({ seats: 2, idleTimeoutSec: 2 });
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      expect((await get(`${url}/api/v1/licenses/${license.id}`, `${scheme} ${OPERATOR_TOKEN}`)).status).toBe(200);
      expect((await get(`${url}/api/v1/receipt-keys`, `${scheme} ${OPERATOR_TOKEN}`)).status).toBe(200);
      expect((await get(`${url}/metrics`, `${scheme} ${OPERATOR_TOKEN}`)).status).toBe(200);
    }
    const token = await sign(license, { sid: 'till-1' });
    const lease = await fetch(`${url}/api/v1/leases`, { method: 'POST', headers: { authorization: `bearer ${token}` } });
    expect(lease.status).toBe(201);
    for (const header of [`Basic ${OPERATOR_TOKEN}`, OPERATOR_TOKEN, 'Bearer', undefined]) {
      const r = await get(`${url}/api/v1/licenses/${license.id}`, header);
      expect(r).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    }
  });
});
