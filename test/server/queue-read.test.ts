// The queue on the board (docs/contract.md "The queue"): `GET /licenses/:id/queue` lists the
// waiting claimants in order with who they are and since when, scoped like every read (another
// tenant's license is 403, none is 404); the /admin snapshot carries the queues and `admin:queue`
// follows every change live, only to the license's tenant and the operator.
import { io } from 'socket.io-client';
import { describe, expect, it, onTestFinished } from 'vitest';
import { adminSocket, type AppSocket, granted, nextEvent, OPERATOR_TOKEN, sign, startServer, until } from '../support/harness';

function waiter(url: string, token: string): AppSocket {
  const socket: AppSocket = io(url, { auth: { token, queue: true }, transports: ['websocket'], reconnection: false, forceNew: true });
  onTestFinished(() => void socket.disconnect());
  return socket;
}

describe('the queue read', () => {
  it('lists the queue in order, scoped to the tenant, in the snapshot and live', async () => {
    const { url, api } = await startServer();
    const { license, admin, tenant } = await api.setup({ seats: 1, queue: true });
    const other = await api.setup({ seats: 1 });
    await granted(url, await sign(license, { sid: 'holder' }));
    expect(await admin.ok('GET', `/licenses/${license.id}/queue`)).toEqual({ queueLength: 0, queue: [] });

    const before = Date.now();
    const b = waiter(url, await sign(license, { sid: 'b', sub: 'bea', name: 'Bea', app: 'cad' }));
    expect(await nextEvent(b, 'seat:queued')).toEqual({ position: 1, queueLength: 1 });
    const c = waiter(url, await sign(license, { sid: 'c', sub: 'cy' }));
    expect(await nextEvent(c, 'seat:queued')).toEqual({ position: 2, queueLength: 2 });

    const read = await admin.ok('GET', `/licenses/${license.id}/queue`);
    expect(read).toEqual({
      queueLength: 2,
      queue: [
        { position: 1, userId: 'bea', name: 'Bea', app: 'cad', group: null, since: expect.any(String) },
        { position: 2, userId: 'cy', name: null, app: null, group: null, since: expect.any(String) },
      ],
    });
    expect(Date.parse(read.queue[0].since)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(read.queue[0].since)).toBeLessThanOrEqual(Date.parse(read.queue[1].since));
    // The operator reads it too; another tenant's admin may not; no license is 404.
    expect((await api.ok('GET', `/licenses/${license.id}/queue`)).queueLength).toBe(2);
    expect((await other.admin.call('GET', `/licenses/${license.id}/queue`)).status).toBe(403);
    expect((await admin.call('GET', '/licenses/lic_nope/queue')).status).toBe(404);
    expect((await admin.call('GET', `/licenses/${license.id}/queue`, undefined, { authorization: 'Bearer nope-nope-nope' })).status).toBe(401);

    // The board: the snapshot carries the queue; a change comes live to the tenant, not to another.
    const board = adminSocket(url, tenant.adminToken);
    const snapshot: any = await nextEvent(board, 'admin:snapshot');
    expect(snapshot.queues[license.id].queue.map((q: any) => [q.position, q.userId])).toEqual([[1, 'bea'], [2, 'cy']]);
    expect(snapshot.queues[license.id].queueLength).toBe(2);
    const stranger = adminSocket(url, other.tenant.adminToken);
    const strangerSnap: any = await nextEvent(stranger, 'admin:snapshot');
    expect(strangerSnap.queues).toEqual({});
    const strangerHeard: unknown[] = [];
    stranger.on('admin:queue', (q) => strangerHeard.push(q));
    const op = adminSocket(url, OPERATOR_TOKEN);
    await nextEvent(op, 'admin:snapshot');

    const live: any[] = [];
    board.on('admin:queue', (q: any) => live.push(q));
    const opHeard: any[] = [];
    op.on('admin:queue', (q: any) => opHeard.push(q));
    b.disconnect();
    await until(() => live.length > 0 && live.at(-1).queueLength === 1);
    expect(live.at(-1)).toEqual({ licenseId: license.id, queueLength: 1, queue: [{ position: 1, userId: 'cy', name: null, app: null, group: null, since: expect.any(String) }] });
    await until(() => opHeard.some((q) => q.queueLength === 1));
    expect((await admin.ok('GET', `/licenses/${license.id}/queue`)).queue.map((q: any) => q.userId)).toEqual(['cy']);
    expect(strangerHeard).toEqual([]);
  });

  it('a burst of queue changes (many waiting clients leaving at once) reaches the board as a few reads, ending empty', async () => {
    const { url, api } = await startServer();
    const { license, admin, tenant } = await api.setup({ seats: 1, queue: true });
    await granted(url, await sign(license, { sid: 'holder' }));
    const waiting: AppSocket[] = [];
    for (let i = 0; i < 40; i++) {
      const s = waiter(url, await sign(license, { sid: `w${i}` }));
      await nextEvent(s, 'seat:queued');
      waiting.push(s);
    }
    expect((await admin.ok('GET', `/licenses/${license.id}/queue`)).queueLength).toBe(40);
    const board = adminSocket(url, tenant.adminToken);
    const snapshot: any = await nextEvent(board, 'admin:snapshot');
    expect(snapshot.queues[license.id].queueLength).toBe(40);
    const heard: any[] = [];
    board.on('admin:queue', (q: any) => heard.push(q));
    for (const s of waiting) s.disconnect();
    await until(() => heard.at(-1)?.queueLength === 0);
    // Coalesced: far fewer reads than the 40 changes.
    expect(heard.length).toBeLessThan(20);
  });
});
