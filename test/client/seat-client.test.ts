// The SDK against a real server: states, events, endSession, kicks, denials, and fresh tokens on
// reconnect after a server restart.
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { SeatClient, type SeatState } from '../../client/sdk';
import { createSeatServer } from '../../server/seat-server';
import { SqliteSeatStore } from '../../server/store/sqlite-store';
import { FAST, granted, sign, startServer, tempDir, until } from '../support/harness';

function client(url: string, token: string | (() => string | Promise<string>)): SeatClient {
  const c = new SeatClient({ url, token, socketOptions: { reconnectionDelay: 100, reconnectionDelayMax: 200 } });
  onTestFinished(() => c.close());
  return c;
}

function states(c: SeatClient): SeatState[] {
  const seen: SeatState[] = [];
  c.on('state', (s) => seen.push(s));
  return seen;
}

describe('SeatClient', () => {
  it('reports granted, then resumed for a second tab of the same session', async () => {
    const { url, api } = await startServer();
    const { license } = await api.setup({ seats: 1 });
    const token = await sign(license, { sid: 'p1' });
    const a = client(url, token);
    const seen = states(a);
    await until(() => a.state === 'granted');
    expect(a.grant).toMatchObject({ resumed: false, seatsInUse: 1, seats: 1 });
    expect(seen).toContain('granted');
    const b = client(url, token);
    await until(() => b.state === 'granted');
    expect(b.grant).toMatchObject({ resumed: true, sessionId: a.grant!.sessionId });
  });

  it('stops at denied with the license message and does not reconnect', async () => {
    const { url, api } = await startServer();
    const { license } = await api.setup({ seats: 1, deniedMessage: 'No available licenses, please contact IT' });
    await granted(url, await sign(license, { sid: 'p1' }));
    const c = client(url, await sign(license, { sid: 'p2' }));
    const denied = new Promise((r) => c.on('denied', r));
    expect(await denied).toMatchObject({ reason: 'no_free_seats', message: 'No available licenses, please contact IT' });
    expect(c.state).toBe('denied');
    await new Promise((r) => setTimeout(r, 500));
    expect(c.socket.connected).toBe(false);
    expect(c.state).toBe('denied');
  });

  it('endSession ends every tab with ended_by_app and frees the seat', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1 });
    const token = await sign(license, { sid: 'p1' });
    const a = client(url, token);
    const b = client(url, token);
    await until(() => a.state === 'granted' && b.state === 'granted');
    const endedB = new Promise((r) => b.on('ended', r));
    await a.endSession();
    expect(await endedB).toMatchObject({ reason: 'ended_by_app' });
    await until(() => a.state === 'ended');
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(0);
    await new Promise((r) => setTimeout(r, 400));
    expect(a.socket.connected || b.socket.connected).toBe(false);
  });

  it('endSession called by every tab of a session at the same moment resolves in each', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1 });
    const token = await sign(license, { sid: 'p1' });
    for (let round = 0; round < 3; round++) {
      const tabs = [client(url, token), client(url, token), client(url, token)];
      await until(() => tabs.every((t) => t.state === 'granted'));
      // A millisecond apart, as tabs would: the others' requests may reach the server after it let
      // them go for the first one's ending, and find no answer.
      const results = await Promise.allSettled(tabs.map(async (t, i) => (i > 0 && (await new Promise((r) => setTimeout(r, i))), t.endSession())));
      expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : r.status))).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
      await until(() => tabs.every((t) => t.state === 'ended'));
      expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(0);
    }
  });

  it('endSession called before the grant waits for it, then ends the session (as the README snippet does)', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1 });
    const c = client(url, await sign(license, { sid: 'p1' }));
    expect(c.state).toBe('connecting');
    const ended = new Promise((r) => c.on('ended', r));
    await c.endSession();
    expect(await ended).toMatchObject({ reason: 'ended_by_app' });
    expect(c.grant).toBeDefined();
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(0);
  });

  it('endSession resolves without doing anything when the client ends up denied, or is closed before its grant', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1 });
    const holder = client(url, await sign(license, { sid: 'holder' }));
    await until(() => holder.state === 'granted');
    const late = client(url, await sign(license, { sid: 'late' }));
    await late.endSession(); // waits for the admission: a denial, so nothing to end
    expect(late.state).toBe('denied');
    await late.endSession(); // and again, once denied
    const closed = client(url, await sign(license, { sid: 'closed' }));
    const ending = closed.endSession();
    closed.close();
    await ending;
    const badToken = client(url, await sign({ ...license, secret: 'not-the-secret' }, { sid: 'p3' }));
    await badToken.endSession();
    expect(badToken.state).toBe('denied');
    expect(holder.state).toBe('granted');
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(1);
  });

  it('a kick moves the client to ended with the admin message', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1 });
    const c = client(url, await sign(license, { sid: 'p1' }));
    await until(() => c.state === 'granted');
    const ended = new Promise((r) => c.on('ended', r));
    await admin.ok('DELETE', `/sessions/${c.grant!.sessionId}`, { message: 'bye' });
    expect(await ended).toEqual({ reason: 'kicked', message: 'bye' });
    expect(c.state).toBe('ended');
  });

  it('tries again when the server could not admit it (seat:error unavailable), as for a refused handshake', async () => {
    const store = SqliteSeatStore.open(':memory:');
    const { url, api } = await startServer({ store });
    const { license } = await api.setup({ seats: 1 });
    const token = await sign(license, { sid: 'p1' });
    // The store fails between the handshake and the admission: it closes as the admission begins
    // (closed before the connect, the handshake too failed whenever more than the second a license
    // is kept for token checks passed between the two, as on a loaded machine).
    const admit = store.admit.bind(store);
    store.admit = async (req) => {
      await store.close();
      return admit(req);
    };
    const c = client(url, token);
    const errors: string[] = [];
    c.on('error', (e) => errors.push('code' in e ? `seat_error:${e.code}` : `connect_error:${e.reason}:${e.final}`));
    // First the admission fails after the handshake; then the client's own retry is refused in
    // the handshake (the engine reads the license afresh after a store failure), and retried.
    await until(() => errors.length >= 2, 5000);
    expect(errors.slice(0, 2)).toEqual(['seat_error:unavailable', 'connect_error:unavailable:false']);
    expect(c.state).not.toBe('denied');
  });

  it('gives up on an invalid token with a final error', async () => {
    const { url, api } = await startServer();
    const { license } = await api.setup();
    const c = client(url, await sign({ ...license, secret: 'not-the-secret' }, { sid: 'p1' }));
    const error = new Promise((r) => c.on('error', r));
    expect(await error).toMatchObject({ reason: 'invalid_token', final: true });
    expect(c.state).toBe('denied');
  });

  it('fetches a fresh token when the first has expired, and after a server restart resumes its session', async () => {
    const dir = tempDir();
    const databaseUrl = path.join(dir, 'seats.db');
    const first = createSeatServer({ env: {}, config: { ...FAST, databaseUrl } });
    const { port, url } = await first.listen(0);
    let firstClosed = false;
    onTestFinished(() => (firstClosed ? undefined : first.close()));
    const { Api } = await import('../support/harness');
    const { license } = await new Api(url, FAST.adminToken!).setup({ seats: 1, idleTimeoutSec: 30 });

    let calls = 0;
    const c = client(url, async () => {
      calls += 1;
      // The first token is already expired: the client must ask again and get in.
      return calls === 1 ? sign(license, { sid: 'p1' }, { exp: Math.floor(Date.now() / 1000) - 10 }) : sign(license, { sid: 'p1' });
    });
    await until(() => c.state === 'granted', 10_000);
    expect(calls).toBeGreaterThanOrEqual(2);
    const sessionId = c.grant!.sessionId;

    // Crash-like stop (rows left as they were), then a new process on the same port and file.
    await first.close();
    firstClosed = true;
    await until(() => c.state !== 'granted');
    const second = createSeatServer({ env: {}, config: { ...FAST, databaseUrl } });
    await second.listen(port);
    onTestFinished(() => second.close());
    const before = calls;
    await until(() => c.state === 'granted', 15_000);
    expect(calls).toBeGreaterThan(before);
    expect(c.grant).toMatchObject({ resumed: true, sessionId, seatsInUse: 1 });
  });
});
