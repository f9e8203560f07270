// The session table at scale, server side: GET /licenses/:id/sessions pages, searches, filters and
// sorts (and answers as before without parameters), bad parameters are 400/422, another tenant's
// license is 403; the /admin snapshot carries each license's newest 200 sessions and every
// license's count; `admin:watch` narrows a board's session events to the licenses it watches,
// and a board cannot watch another tenant's license.
import { describe, expect, it } from 'vitest';
import { adminSocket, Api, granted, nextEvent, OPERATOR_TOKEN, sign, startServer } from '../support/harness';
import { bulkSessions } from '../support/bulk-sessions';
import { serverWithStore } from '../browser/history-support';

const ask = (s: ReturnType<typeof adminSocket>, event: 'admin:watch' | 'admin:unwatch', licenseId: unknown) =>
  new Promise<any>((resolve) => s.emit(event, { licenseId }, resolve));

/** Collects the socket's session events for a while. */
function sessionEvents(s: ReturnType<typeof adminSocket>) {
  const seen: string[] = [];
  s.on('admin:session', (c: any) => seen.push(`${c.licenseId}:${c.event}`));
  s.on('admin:session-removed', (c: any) => seen.push(`${c.licenseId}:removed`));
  return seen;
}

describe('session table: REST paging, search, filters and sort', () => {
  it('pages, searches, filters and sorts one license of many sessions; without parameters answers as before', async () => {
    const { url, store, tenantToken, newLicense } = await serverWithStore();
    const license = await newLicense({ seats: 300 });
    const t0 = Date.now() - 3_600_000;
    // 250 sessions: users u000..u249, every third in app "cad", every fifth named "Zoë …".
    await bulkSessions(store, license.id, 250, t0, (i) => {
      const key = `u${String(i).padStart(3, '0')}`;
      return { sessionRef: key, userId: key, app: i % 3 === 0 ? 'cad' : 'viewer', name: i % 5 === 0 ? `Zoë ${key}` : `Ann ${key}` };
    });
    const admin = new Api(url, tenantToken);
    const path = `/licenses/${license.id}/sessions`;

    const all = await admin.ok('GET', path);
    expect(all.sessions).toHaveLength(250);
    expect(all.sessions[0].userId).toBe('u000');
    expect(all).toMatchObject({ total: 250, matched: 250, offset: 0 });

    const page2 = await admin.ok('GET', `${path}?limit=50&offset=50`);
    expect(page2.sessions.map((s: any) => s.userId)).toEqual(Array.from({ length: 50 }, (_, i) => `u${String(50 + i).padStart(3, '0')}`));
    expect(page2).toMatchObject({ total: 250, matched: 250, offset: 50 });

    const newest = await admin.ok('GET', `${path}?limit=3&sort=startedAt&order=desc`);
    expect(newest.sessions.map((s: any) => s.userId)).toEqual(['u249', 'u248', 'u247']);

    // Search is case-insensitive over user, name and app; filters combine.
    const zoe = await admin.ok('GET', `${path}?q=${encodeURIComponent('zoË')}&limit=1000`);
    expect(zoe.matched).toBe(50);
    expect(zoe.sessions.every((s: any) => s.name.startsWith('Zoë'))).toBe(true);
    const cadZoe = await admin.ok('GET', `${path}?q=zo%C3%AB&app=cad`);
    expect(cadZoe.matched).toBe(17); // multiples of 15 below 250
    expect(cadZoe.sessions.every((s: any) => s.app === 'cad')).toBe(true);
    expect((await admin.ok('GET', `${path}?user=u123`)).sessions.map((s: any) => s.userId)).toEqual(['u123']);
    expect((await admin.ok('GET', `${path}?state=idle`)).matched).toBe(0);
    expect((await admin.ok('GET', `${path}?state=active&limit=1`)).matched).toBe(250);

    const byName = await admin.ok('GET', `${path}?sort=name&order=asc&limit=2`);
    expect(byName.sessions.map((s: any) => s.name)).toEqual(['Ann u001', 'Ann u002']);
    const byNameDesc = await admin.ok('GET', `${path}?sort=name&order=desc&limit=1`);
    expect(byNameDesc.sessions[0].name).toBe('Zoë u245');

    // CSV honours the filters.
    const csv = await fetch(`${url}/api/v1${path}?format=csv&user=u007`, { headers: { authorization: `Bearer ${tenantToken}` } });
    expect((await csv.text()).trim().split('\n')).toHaveLength(2);

    // Bad parameters: a wrong shape is 400, a number out of range 422; nothing else is read.
    for (const [query, status] of [
      ['limit=abc', 400],
      ['sort=color', 400],
      ['state=gone', 400],
      ['limit=0', 422],
      ['limit=1001', 422],
      ['offset=-1', 422],
      ['q=' + 'x'.repeat(201), 422],
    ] as const) {
      const r = await admin.call('GET', `${path}?${query}`);
      expect([query, r.status]).toEqual([query, status]);
      expect(r.body.error.code).toBeTypeOf('string');
    }

    // Another tenant's admin cannot page it.
    const other = await new Api(url, OPERATOR_TOKEN).setup();
    const refused = await other.admin.call('GET', `${path}?limit=10`);
    expect(refused.status).toBe(403);
  });
});

describe('session table: snapshot bound and per-license watching', () => {
  it('the snapshot carries the newest 200 sessions of a license and its total', async () => {
    const { url, store, tenantToken, newLicense } = await serverWithStore();
    const big = await newLicense({ seats: 300 });
    const small = await newLicense({ seats: 5 });
    const t0 = Date.now() - 3_600_000;
    await bulkSessions(store, big.id, 230, t0, (i) => ({ sessionRef: `b${i}` }));
    await bulkSessions(store, small.id, 1, t0, () => ({ sessionRef: 's0' }));
    const board = adminSocket(url, tenantToken);
    const snapshot: any = await nextEvent(board, 'admin:snapshot');
    expect(snapshot.sessionTotals).toEqual({ [big.id]: 230, [small.id]: 1 });
    const bigRefs = snapshot.sessions.filter((s: any) => s.licenseId === big.id).map((s: any) => s.sessionRef);
    expect(bigRefs).toHaveLength(200);
    expect(new Set(bigRefs)).toEqual(new Set(Array.from({ length: 200 }, (_, i) => `b${i + 30}`)));
    expect(snapshot.sessions.filter((s: any) => s.licenseId === small.id)).toHaveLength(1);
  });

  it('a watching board hears session events of the licenses it watches only; license counts still come for all', async () => {
    const { url, api } = await startServer();
    const { license: a, tenant, admin } = await api.setup({ seats: 5 });
    const b = await admin.ok('POST', '/licenses', { seats: 5, idleTimeoutSec: 2 });
    const foreign = await api.setup({ seats: 5 });

    const everything = adminSocket(url, tenant.adminToken);
    const watcher = adminSocket(url, tenant.adminToken);
    await Promise.all([nextEvent(everything, 'admin:snapshot'), nextEvent(watcher, 'admin:snapshot')]);
    const allSeen = sessionEvents(everything);
    const watchSeen = sessionEvents(watcher);
    const counts: string[] = [];
    watcher.on('admin:license', (l: any) => counts.push(`${l.id}:${l.seatsInUse}`));

    expect(await ask(watcher, 'admin:watch', a.id)).toEqual({ ok: true });
    // Another tenant's license, none, and a malformed request are refused, and nothing is joined.
    expect(await ask(watcher, 'admin:watch', foreign.license.id)).toMatchObject({ error: { code: 'forbidden' } });
    expect(await ask(watcher, 'admin:watch', 'lic_nope')).toMatchObject({ error: { code: 'not_found' } });
    expect(await ask(watcher, 'admin:watch', 42)).toMatchObject({ error: { code: 'bad_request' } });

    const sa = await granted(url, await sign(a, { sid: 'a1' }));
    await granted(url, await sign(b, { sid: 'b1' }));
    await granted(url, await sign(foreign.license, { sid: 'f1' }));
    const removed = nextEvent(watcher, 'admin:session-removed');
    await admin.ok('DELETE', `/sessions/${sa.grant.sessionId}`);
    await removed;
    await new Promise((r) => setTimeout(r, 200));

    expect(watchSeen).toEqual([`${a.id}:granted`, `${a.id}:removed`]);
    expect(allSeen).toEqual(expect.arrayContaining([`${a.id}:granted`, `${b.id}:granted`, `${a.id}:removed`]));
    expect(allSeen.some((e) => e.startsWith(foreign.license.id))).toBe(false);
    // The watcher still hears every license's seat count.
    expect(counts).toEqual(expect.arrayContaining([`${b.id}:1`]));

    // Unwatched, it hears no session events of it any more.
    expect(await ask(watcher, 'admin:unwatch', a.id)).toEqual({ ok: true });
    const heard = nextEvent(everything, 'admin:session');
    await granted(url, await sign(a, { sid: 'a2' }));
    await heard;
    await new Promise((r) => setTimeout(r, 200));
    expect(watchSeen).toHaveLength(2);
  });
});
