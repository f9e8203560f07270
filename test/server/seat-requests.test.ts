// Seat requests (CONTRACT 8.6): a denied user asks for a seat with its own token; the license's
// admins see it live and in GET /licenses/:id/seat-requests, the holders hear the demand
// (`seat:demand`), and each user may ask only so often. Bad input changes nothing.
import { expect, it, describe } from 'vitest';
import { adminSocket, collect } from '../cluster/cluster-support';
import { admission, connect, granted, nextEvent, sign, startServer, until } from '../support/harness';

async function ask(url: string, token: string, body?: unknown) {
  const res = await fetch(`${url}/api/v1/seat-requests`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

describe('seat requests', () => {
  it('a denied user asks; admins see it live and listed; holders hear that someone waits', async () => {
    const { url, api } = await startServer();
    const { license, admin, tenant } = await api.setup({ seats: 1, deniedMessage: 'Ask IT for a seat' });
    const holder = await granted(url, await sign(license, { sid: 'a', sub: 'ann' }));
    const board = adminSocket(url, tenant.adminToken);
    const live = collect(board, 'admin:seat-request');
    await nextEvent(board, 'admin:snapshot');
    const bob = await sign(license, { sid: 'b', sub: 'bob', name: 'Bob' });
    expect((await admission(connect(url, bob))).kind).toBe('denied');
    const demand = nextEvent(holder.socket, 'seat:demand');
    const r = await ask(url, bob, { message: 'Month-end close, need it today' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ id: expect.any(String), licenseId: license.id, at: expect.any(String) });
    expect(await demand).toEqual({ waiting: 1 });
    await until(() => live.length === 1);
    expect(live[0]).toMatchObject({ id: r.body.id, licenseId: license.id, userId: 'bob', name: 'Bob', message: 'Month-end close, need it today' });
    expect((await admin.ok('GET', `/licenses/${license.id}/seat-requests`)).requests).toEqual([
      { id: r.body.id, at: r.body.at, userId: 'bob', name: 'Bob', message: 'Month-end close, need it today' },
    ]);
    // Another tenant's admin sees none of it.
    const other = await api.setup({ seats: 1 });
    expect((await other.admin.call('GET', `/licenses/${license.id}/seat-requests`)).status).toBe(403);
  });

  it('each user may ask SEAT_REQUESTS_PER_HOUR times an hour; bad tokens and bodies change nothing', async () => {
    const { url, api } = await startServer({ config: { seatRequestsPerHour: 2 } });
    const { license, admin } = await api.setup({ seats: 1 });
    const bob = await sign(license, { sid: 'b', sub: 'bob' });
    expect((await ask(url, bob)).status).toBe(201);
    expect((await ask(url, bob, {})).status).toBe(201);
    const third = await ask(url, bob);
    expect(third.status).toBe(429);
    expect(third.body.error).toMatchObject({ code: 'rate_limited', details: { retryAfterSec: expect.any(Number) } });
    // Another user is not held back by Bob.
    expect((await ask(url, await sign(license, { sid: 'c', sub: 'cy' }))).status).toBe(201);
    const cases: Array<[string, unknown, number, string]> = [
      ['not a token', undefined, 401, 'invalid_token'],
      [await sign(license, { sid: 'd' }, { exp: Math.floor(Date.now() / 1000) - 10 }), undefined, 401, 'token_expired'],
      [await sign({ id: license.id, secret: 'wrong' }, { sid: 'd' }), undefined, 401, 'invalid_token'],
      [await sign(license, { sid: 'd' }), { message: 'x'.repeat(501) }, 422, 'out_of_range'],
      [await sign(license, { sid: 'd' }), { message: 'bad\u202Etext' }, 422, 'out_of_range'],
      [await sign(license, { sid: 'd' }), { note: 'hi' }, 400, 'bad_request'],
    ];
    for (const [token, body, status, code] of cases) {
      const r = await ask(url, token, body);
      expect([status, r.body.error?.code]).toEqual([status, code]);
      expect(r.status).toBe(status);
    }
    // Refused as the admin API refuses: the field named, every issue listed.
    const long = await ask(url, await sign(license, { sid: 'd' }), { message: 'x'.repeat(501) });
    expect(long.body.error.details).toMatchObject({ field: 'message', issues: [{ path: ['message'], message: expect.stringMatching(/500/) }] });
    const typed = await ask(url, await sign(license, { sid: 'd' }), { message: 5 });
    expect([typed.status, typed.body.error.code, typed.body.error.details?.field]).toEqual([400, 'bad_request', 'message']);
    const extra = await ask(url, await sign(license, { sid: 'd' }), { extra: 1 });
    expect(extra.body.error.message).toBe('unknown field "extra"');
    expect(extra.body.error.details).toMatchObject({ field: 'extra' });
    expect((await admin.ok('GET', `/licenses/${license.id}/seat-requests`)).requests).toHaveLength(3);
    expect((await fetch(`${url}/api/v1/seat-requests`, { method: 'GET' })).status).toBe(405);
  });
});
