// Invariant 6: `kill -9` of the server process and a restart lose no seat and double-count none;
// clients reconnect on their own and resume their own sessions.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { granted, sign, startProcess, tempDir, until } from '../support/harness';

describe('kill -9 and restart', () => {
  it('every client resumes its own session; seats in use are the same before and after', async () => {
    const db = path.join(tempDir(), 'seats.db');
    const env = { DATABASE_URL: db, IDLE_TIMEOUT_MIN_SEC: '1', SWEEP_INTERVAL_MS: '200', LOG_LEVEL: 'info' };
    const first = await startProcess(env);
    const { license, admin } = await first.api.setup({ seats: 10, idleTimeoutSec: 30 });
    const clients = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const token = await sign(license, { sid: `portal-${i}`, weight: i === 0 ? 2 : 1 });
        const { socket, grant } = await granted(first.url, token, { reconnection: true });
        return { socket, sessionId: grant.sessionId, resumed: new Promise<any>((r) => socket.on('seat:granted', (g) => g.resumed && r(g))) };
      }),
    );
    // A second tab of portal-1 shares its seat.
    const tab = await granted(first.url, await sign(license, { sid: 'portal-1' }), { reconnection: true });
    expect(tab.grant.sessionId).toBe(clients[1]!.sessionId);
    const before = (await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse;
    expect(before).toBe(7);

    await first.kill9();
    await until(() => clients.every((c) => !c.socket.connected));
    // Same port, same file: the clients' own reconnection finds the new process.
    const second = await startProcess({ ...env, PORT: String(first.port) });
    const resumed = await Promise.all(clients.map((c) => c.resumed));
    resumed.forEach((g, i) => expect(g).toMatchObject({ resumed: true, sessionId: clients[i]!.sessionId }));
    await until(() => tab.socket.connected);
    const adminAfter = second.api.as(admin.token);
    await until(async () => (await adminAfter.ok('GET', `/licenses/${license.id}/sessions`)).sessions.every((s: any) => s.state === 'active'));
    const after = await adminAfter.ok('GET', `/licenses/${license.id}`);
    expect(after.seatsInUse).toBe(before);
    const { sessions } = await adminAfter.ok('GET', `/licenses/${license.id}/sessions`);
    expect(sessions).toHaveLength(6);
    expect(sessions.find((s: any) => s.sessionRef === 'portal-1').sockets).toBe(2);
  });

  it('sessions whose clients do not come back are released after the idle timeout', async () => {
    const db = path.join(tempDir(), 'seats.db');
    const env = { DATABASE_URL: db, IDLE_TIMEOUT_MIN_SEC: '1', SWEEP_INTERVAL_MS: '200' };
    const first = await startProcess(env);
    const { license, admin } = await first.api.setup({ seats: 3, idleTimeoutSec: 4 });
    const gone = await granted(first.url, await sign(license, { sid: 'gone' }));
    const back = await granted(first.url, await sign(license, { sid: 'back' }), { reconnection: true });
    // Retry fast: socket.io's default backoff could outlast the idle hold on a loaded machine.
    back.socket.io.reconnectionDelay(100).reconnectionDelayMax(300);
    const resumed = new Promise<any>((r) => back.socket.on('seat:granted', (g) => g.resumed && r(g)));
    gone.socket.io.reconnection(false);
    await first.kill9();
    gone.socket.disconnect();
    const second = await startProcess({ ...env, PORT: String(first.port) });
    const api2 = second.api.as(admin.token);
    expect(await resumed).toMatchObject({ sessionId: back.grant.sessionId });
    await until(async () => (await api2.ok('GET', `/licenses/${license.id}`)).seatsInUse === 1, 10_000);
    const { sessions } = await api2.ok('GET', `/licenses/${license.id}/sessions`);
    expect(sessions).toMatchObject([{ id: back.grant.sessionId, sessionRef: 'back', state: 'active' }]);
  });
});
