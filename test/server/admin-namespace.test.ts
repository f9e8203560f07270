// The /admin namespace: a snapshot on connect, then every change live (from sockets and REST); a bad admin token is a coded connect_error.
import { io } from 'socket.io-client';
import { describe, expect, it, onTestFinished } from 'vitest';
import { adminSocket, connectAndAdmit, granted, nextEvent, OPERATOR_TOKEN, sign, startServer } from '../support/harness';

describe('/admin namespace', () => {
  it('sends a snapshot, then every change live', async () => {
    const { url, api } = await startServer();
    const { license, admin, tenant } = await api.setup({ seats: 1 });
    await granted(url, await sign(license, { sid: 'p0', name: 'Zed' }));
    const watcher = adminSocket(url, tenant.adminToken);
    const snapshot: any = await nextEvent(watcher, 'admin:snapshot');
    expect(snapshot.actor).toEqual({ kind: 'tenant', tenantId: tenant.id, tenantName: expect.any(String) });
    expect(snapshot.licenses).toMatchObject([{ id: license.id, seatsInUse: 1, seats: 1 }]);
    expect(snapshot.licenses[0].secret).toBeUndefined();
    expect(snapshot.sessions).toMatchObject([{ sessionRef: 'p0', name: 'Zed', sockets: 1, state: 'active' }]);

    const denial = nextEvent(watcher, 'admin:denial');
    await connectAndAdmit(url, await sign(license, { sid: 'p1' }));
    expect(await denial).toMatchObject({ licenseId: license.id, reason: 'no_free_seats', sessionRef: 'p1', seatsInUse: 1 });

    const changed = nextEvent(watcher, 'admin:license');
    const audit = nextEvent(watcher, 'admin:audit');
    await admin.ok('PATCH', `/licenses/${license.id}`, { seats: 3 });
    expect(await changed).toMatchObject({ id: license.id, seats: 3 });
    expect(await audit).toMatchObject({ action: 'license.update', licenseId: license.id });

    const started = nextEvent(watcher, 'admin:session');
    const s = await granted(url, await sign(license, { sid: 'p2' }));
    expect(await started).toMatchObject({ licenseId: license.id, event: 'granted', seatsInUse: 2, session: { sessionRef: 'p2' } });
    const removed = nextEvent(watcher, 'admin:session-removed');
    await admin.ok('DELETE', `/sessions/${s.grant.sessionId}`);
    expect(await removed).toMatchObject({ sessionId: s.grant.sessionId, reason: 'kicked', seatsInUse: 1 });
  });

  it('a seat the queue gives its first waiter is an admin:session grant, as any other', async () => {
    const { url, api } = await startServer();
    const { license, admin, tenant } = await api.setup({ seats: 1, queue: true });
    const holder = await granted(url, await sign(license, { sid: 'holder' }));
    const waiter = io(url, { auth: { token: await sign(license, { sid: 'waiter' }), queue: true }, transports: ['websocket'], reconnection: false, forceNew: true });
    onTestFinished(() => void waiter.close());
    await nextEvent(waiter, 'seat:queued');
    const watcher = adminSocket(url, tenant.adminToken);
    await nextEvent(watcher, 'admin:snapshot');
    const sessions: any[] = [];
    watcher.on('admin:session', (e: any) => sessions.push(e));
    const seat = nextEvent(waiter, 'seat:granted');
    await admin.ok('DELETE', `/sessions/${holder.grant.sessionId}`);
    const grant: any = await seat;
    await new Promise((r) => setTimeout(r, 200));
    expect(sessions).toEqual([
      { licenseId: license.id, seatsInUse: 1, event: 'granted', session: expect.objectContaining({ id: grant.sessionId, sessionRef: 'waiter', state: 'active', sockets: 1 }) },
    ]);
  });

  it('refuses a bad admin token with a coded connect_error; the operator sees every tenant', async () => {
    const { url, api } = await startServer();
    const bad = adminSocket(url, 'wrong-token-wrong-token');
    const err: any = await nextEvent(bad, 'connect_error');
    expect(err.message).toBe('unauthorized');
    // A token past the longest read is named as such, not as no token.
    const long: any = await nextEvent(adminSocket(url, 'x'.repeat(4000)), 'connect_error');
    expect(long).toMatchObject({ message: 'unauthorized', data: { message: 'the admin token is 4000 characters long; admin tokens are at most 512' } });
    const a = await api.setup();
    const b = await api.setup();
    const op = adminSocket(url, OPERATOR_TOKEN);
    const snapshot: any = await nextEvent(op, 'admin:snapshot');
    expect(snapshot.actor).toEqual({ kind: 'operator' });
    expect(snapshot.licenses.map((l: any) => l.id).sort()).toEqual([a.license.id, b.license.id].sort());
  });
});
