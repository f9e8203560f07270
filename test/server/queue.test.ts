// The queue (CONTRACT 8.2 `seat:queued`): a client that asks to wait on a license with a queue is
// queued instead of denied, told its position whenever it moves, and granted by the transaction
// that frees a seat, so nobody can take it first; queued sockets hold no seat.
import path from 'node:path';
import { io } from 'socket.io-client';
import { SqliteSeatStore } from '../../server/store/sqlite-store';
import { describe, expect, it, onTestFinished } from 'vitest';
import { admission, type AppSocket, closeSocket, connect, granted, nextEvent, sign, sleep, startServer, tempDir, until } from '../support/harness';

function waiter(url: string, token: string, queue: unknown = true): AppSocket {
  const socket: AppSocket = io(url, { auth: { token, queue }, transports: ['websocket'], reconnection: false, forceNew: true });
  onTestFinished(() => void socket.disconnect());
  return socket;
}

describe('the queue', () => {
  it('queues in order, hands a freed seat to the head at once, and moves everyone up', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1, queue: true });
    const holder = await granted(url, await sign(license, { sid: 'a' }));
    const demands: unknown[] = [];
    holder.socket.on('seat:demand', (d) => demands.push(d));
    const b = waiter(url, await sign(license, { sid: 'b', sub: 'bea' }));
    expect(await nextEvent(b, 'seat:queued')).toEqual({ position: 1, queueLength: 1 });
    const c = waiter(url, await sign(license, { sid: 'c' }));
    expect(await nextEvent(c, 'seat:queued')).toEqual({ position: 2, queueLength: 2 });
    // The holders hear how many wait, as it changes.
    await until(() => demands.length === 2);
    expect(demands).toEqual([{ waiting: 1 }, { waiting: 2 }]);
    // Queued sockets hold nothing, and a newcomer that does not wait is denied.
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(1);
    expect((await admission(connect(url, await sign(license, { sid: 'd' })))).kind).toBe('denied');

    const bGranted = nextEvent(b, 'seat:granted');
    const cMoved = nextEvent(c, 'seat:queued');
    await holder.socket.timeout(5000).emitWithAck('session:end');
    expect(await bGranted).toMatchObject({ resumed: false, seatsInUse: 1, seats: 1 });
    expect(await cMoved).toEqual({ position: 1, queueLength: 1 });
    const { sessions } = await admin.ok('GET', `/licenses/${license.id}/sessions`);
    expect(sessions.map((s: { userId: string }) => s.userId)).toEqual(['bea']);
    // The granted socket holds its seat like any other: kicked, the next in line gets it.
    const cGranted = nextEvent(c, 'seat:granted');
    await admin.ok('DELETE', `/sessions/${sessions[0].id}`);
    expect(await cGranted).toMatchObject({ seatsInUse: 1 });
  });

  it('a queued socket that leaves gives up its place (kept for a reconnect within the idle hold); more seats serve the queue', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1, queue: true, idleTimeoutSec: 2 });
    await granted(url, await sign(license, { sid: 'a' }));
    const bToken = await sign(license, { sid: 'b' });
    const b = waiter(url, bToken);
    await nextEvent(b, 'seat:queued');
    const c = waiter(url, await sign(license, { sid: 'c' }));
    expect(await nextEvent(c, 'seat:queued')).toEqual({ position: 2, queueLength: 2 });
    const cUp = nextEvent(c, 'seat:queued');
    await closeSocket(b);
    expect(await cUp).toEqual({ position: 1, queueLength: 1 });
    // B comes back within its idle hold: its old place, ahead of C.
    const cDown = nextEvent(c, 'seat:queued');
    const b2 = waiter(url, bToken);
    expect(await nextEvent(b2, 'seat:queued')).toEqual({ position: 1, queueLength: 2 });
    expect(await cDown).toEqual({ position: 2, queueLength: 2 });
    // Two more seats: both waiting sockets get one, in order.
    const grants = [nextEvent(b2, 'seat:granted'), nextEvent(c, 'seat:granted')];
    await admin.ok('PATCH', `/licenses/${license.id}`, { seats: 3 });
    await Promise.all(grants);
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(3);
  });

  it('an idle seat that runs out goes to the queue', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1, queue: true, idleTimeoutSec: 1 });
    const holder = await granted(url, await sign(license, { sid: 'a' }));
    const b = waiter(url, await sign(license, { sid: 'b' }));
    await nextEvent(b, 'seat:queued');
    const bGranted = nextEvent(b, 'seat:granted', 5000);
    await closeSocket(holder.socket);
    expect(await bGranted).toMatchObject({ resumed: false });
    await until(async () => (await admin.ok('GET', `/licenses/${license.id}/sessions`)).sessions.length === 1);
  });

  it('two tabs of one portal session waiting take one seat together, when seats free up for both at once', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 2, queue: true });
    await granted(url, await sign(license, { sid: 'a' }));
    await granted(url, await sign(license, { sid: 'b' }));
    const kToken = await sign(license, { sid: 'k' });
    const k1 = waiter(url, kToken);
    expect(await nextEvent(k1, 'seat:queued')).toEqual({ position: 1, queueLength: 1 });
    const k2 = waiter(url, kToken);
    expect(await nextEvent(k2, 'seat:queued')).toEqual({ position: 2, queueLength: 2 });
    const m = waiter(url, await sign(license, { sid: 'm' }));
    expect(await nextEvent(m, 'seat:queued')).toEqual({ position: 3, queueLength: 3 });
    // Two seats more, served in one transaction: k's two tabs take one of them, m the other.
    const grants = [nextEvent(k1, 'seat:granted'), nextEvent(k2, 'seat:granted'), nextEvent(m, 'seat:granted')];
    await admin.ok('PATCH', `/licenses/${license.id}`, { seats: 4 });
    const [g1, g2, gm] = await Promise.all(grants);
    expect(g1).toMatchObject({ resumed: false });
    expect(g2).toMatchObject({ resumed: true, sessionId: g1.sessionId });
    expect(gm).toMatchObject({ resumed: false, seatsInUse: 4 });
    const { sessions } = await admin.ok('GET', `/licenses/${license.id}/sessions`);
    expect(sessions.map((s: { sockets: number }) => s.sockets).sort()).toEqual([1, 1, 1, 2]);
  });

  it('deleting a license hands its freed seats to nobody in its queue, and tells the waiting sockets before letting them go', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1, queue: true });
    const holder = await granted(url, await sign(license, { sid: 'a' }));
    const b = waiter(url, await sign(license, { sid: 'b' }));
    await nextEvent(b, 'seat:queued');
    let bGranted = false;
    b.on('seat:granted', () => (bGranted = true));
    const ended = nextEvent(holder.socket, 'session:ended');
    const bEnded = nextEvent(b, 'session:ended');
    const bGone = nextEvent(b, 'disconnect');
    expect((await admin.call('DELETE', `/licenses/${license.id}`)).status).toBe(204);
    expect(await ended).toMatchObject({ reason: 'license_deleted' });
    // The waiting socket holds no session, but its wait is over: it hears why, and is let go.
    expect(await bEnded).toEqual({ reason: 'license_deleted', message: 'This license was deleted' });
    expect(await bGone).toBe('io server disconnect');
    await sleep(300);
    expect(bGranted).toBe(false);
    expect((await admin.call('GET', `/licenses/${license.id}`)).status).toBe(404);
  });

  it('a seat granted to a queued socket that has just gone is let go of, not held by a row nobody closes', async () => {
    const store = SqliteSeatStore.open(path.join(tempDir(), 'seats.db'));
    const { url, api, server } = await startServer({ store });
    const { license, admin } = await api.setup({ seats: 1, queue: true, idleTimeoutSec: 60 });
    const holder = await granted(url, await sign(license, { sid: 'a' }));
    // A place of this node's whose socket went away after its disconnect found nothing to let go of.
    const claimant = { sessionRef: 'ghost', userId: null, deviceId: null, instanceId: null, app: null, name: null, weight: 1 };
    expect(await store.admit({ licenseId: license.id, socketId: 'gone-socket', nodeId: server.config.nodeId, claimant, now: Date.now(), queue: true })).toMatchObject({ kind: 'queued' });
    await holder.socket.timeout(5000).emitWithAck('session:end');
    await until(async () => {
      const { sessions } = await admin.ok('GET', `/licenses/${license.id}/sessions`);
      return sessions.length === 1 && sessions[0].sessionRef === 'ghost' && sessions[0].state === 'idle' && sessions[0].sockets === 0;
    });
  });

  it("a queued socket whose grant's word never came (granted on another node, the message lost) is told by the backstop", async () => {
    const file = path.join(tempDir(), 'seats.db');
    const store = SqliteSeatStore.open(file);
    const { url, api } = await startServer({ store });
    const { license, admin } = await api.setup({ seats: 1, queue: true });
    const holder = await granted(url, await sign(license, { sid: 'a' }));
    const b = waiter(url, await sign(license, { sid: 'b' }));
    await nextEvent(b, 'seat:queued');
    // "Another node": a second connection to the same database ends the holder's session, and its
    // transaction grants B's place. Nobody tells this server's engine.
    const other = SqliteSeatStore.open(file);
    onTestFinished(() => other.close());
    const bGranted = nextEvent(b, 'seat:granted', 10_000);
    expect(await other.endSession(holder.grant.sessionId, 'ended_by_app', Date.now())).toBeDefined();
    const grant = await bGranted;
    const { sessions } = await admin.ok('GET', `/licenses/${license.id}/sessions`);
    expect(sessions).toHaveLength(1);
    expect(grant).toMatchObject({ sessionId: sessions[0].id, licenseId: license.id, seatsInUse: 1, seats: 1 });
    // It holds its seat like any other: told when it ends.
    const ended = nextEvent(b, 'session:ended');
    await admin.ok('DELETE', `/sessions/${sessions[0].id}`);
    expect(await ended).toMatchObject({ reason: 'kicked' });
  });

  it("a queued socket whose refusal's word never came (refused at its turn on another node) is let go by the backstop to connect again, and one whose license's deletion's word never came is told", async () => {
    const file = path.join(tempDir(), 'seats.db');
    const store = SqliteSeatStore.open(file);
    const { url, api } = await startServer({ store });
    const { license, admin } = await api.setup({ seats: 1, queue: true, seatKey: ['device'], maxActivations: 2 });
    const holder = await granted(url, await sign(license, { dev: 'd1' }));
    const b = waiter(url, await sign(license, { dev: 'd2' }));
    await nextEvent(b, 'seat:queued');
    await admin.ok('PATCH', `/licenses/${license.id}`, { maxActivations: 1 });
    // "Another node": a second connection to the same database ends the holder's session; B's turn
    // finds its device beyond the limit, and the word of it goes to that node's bus, not this one's.
    const other = SqliteSeatStore.open(file);
    onTestFinished(() => other.close());
    const bLetGo = nextEvent(b, 'seat:error', 10_000);
    const bGone = nextEvent(b, 'disconnect', 10_000);
    expect(await other.endSession(holder.grant.sessionId, 'ended_by_app', Date.now())).toBeDefined();
    // Why its place went is not on record by socket: it is let go to connect again, and told then.
    expect(await bLetGo).toMatchObject({ code: 'unavailable', message: expect.stringContaining('place in the queue was lost') });
    await bGone;
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(0);
    expect((await admin.ok('GET', `/licenses/${license.id}/activations`)).activations.map((a: { deviceId: string }) => a.deviceId)).toEqual(['d1']);
    expect(await admission(waiter(url, await sign(license, { dev: 'd2' })))).toMatchObject({ kind: 'denied', payload: { reason: 'too_many_activations' } });

    const second = await api.setup({ seats: 1, queue: true });
    await granted(url, await sign(second.license, { sid: 'a' }));
    const c = waiter(url, await sign(second.license, { sid: 'c' }));
    await nextEvent(c, 'seat:queued');
    const cEnded = nextEvent(c, 'session:ended', 10_000);
    expect(await other.deleteLicense(second.license.id, Date.now())).toBeDefined();
    expect(await cEnded).toMatchObject({ reason: 'license_deleted' });
  });

  it("a client whose node died reconnects here at once and queues anew behind its old place: once the dead node's place is let go, the client gets it back", async () => {
    const file = path.join(tempDir(), 'seats.db');
    const store = SqliteSeatStore.open(file);
    const { url, api } = await startServer({ store });
    const { license } = await api.setup({ seats: 1, queue: true });
    const holder = await granted(url, await sign(license, { sid: 'holder' }));
    // "Node C": a second connection to the same database queues w1's socket there, first in line.
    const other = SqliteSeatStore.open(file);
    onTestFinished(() => other.close());
    const claimant = { sessionRef: 'w1', userId: null, deviceId: null, instanceId: null, app: null, name: null, weight: 1 };
    expect(await other.admit({ licenseId: license.id, socketId: 'w1-on-c', nodeId: 'node-c', claimant, now: Date.now(), queue: true })).toMatchObject({ kind: 'queued', position: 1 });
    const w2 = waiter(url, await sign(license, { sid: 'w2' }));
    expect(await nextEvent(w2, 'seat:queued')).toEqual({ position: 2, queueLength: 2 });
    // Node C dies; w1 reconnects here before C is taken for dead, and waits at the end.
    const w1 = waiter(url, await sign(license, { sid: 'w1' }));
    expect(await nextEvent(w1, 'seat:queued')).toEqual({ position: 3, queueLength: 3 });
    const heard = { w1: [] as unknown[], w2: [] as unknown[] };
    w1.on('seat:queued', (p) => heard.w1.push(p));
    w2.on('seat:queued', (p) => heard.w2.push(p));
    // C is taken for dead: its socket's place is kept for a reconnect, and the backstop hands it to w1
    // (a backstop run between C's rows going and its place being kept may tell the moves in two steps).
    await other.releaseNode('node-c', Date.now());
    await until(() => JSON.stringify(heard.w1.at(-1)) === JSON.stringify({ position: 1, queueLength: 2 }), 10_000);
    expect(heard.w2.at(-1)).toEqual({ position: 2, queueLength: 2 });
    const w1Granted = nextEvent(w1, 'seat:granted');
    await holder.socket.timeout(5000).emitWithAck('session:end');
    expect(await w1Granted).toMatchObject({ resumed: false, seatsInUse: 1 });
  });

  it('a queued socket whose move was decided on another node, its word lost, is told where it stands by the backstop', async () => {
    const file = path.join(tempDir(), 'seats.db');
    const store = SqliteSeatStore.open(file);
    const { url, api } = await startServer({ store });
    const { license } = await api.setup({ seats: 1, queue: true, idleTimeoutSec: 60 });
    await granted(url, await sign(license, { sid: 'holder' }));
    const other = SqliteSeatStore.open(file);
    onTestFinished(() => other.close());
    const claimant = { sessionRef: 'ahead', userId: null, deviceId: null, instanceId: null, app: null, name: null, weight: 1 };
    await other.admit({ licenseId: license.id, socketId: 'ahead-on-b', nodeId: 'node-b', claimant, now: Date.now(), queue: true });
    const w = waiter(url, await sign(license, { sid: 'w' }));
    expect(await nextEvent(w, 'seat:queued')).toEqual({ position: 2, queueLength: 2 });
    // (After the pass its own join started, which would read the queue as it is by then.)
    await sleep(300);
    // The one ahead leaves on node B; nobody tells this node.
    const moved = nextEvent(w, 'seat:queued', 10_000);
    await other.leaveQueue('ahead-on-b', Date.now());
    expect(await moved).toEqual({ position: 1, queueLength: 1 });
  });

  it('a bad queue flag is refused in the handshake and changes nothing', async () => {
    const { url, api } = await startServer();
    const queued = await api.setup({ seats: 1, queue: true });
    const notBoolean = await admission(waiter(url, await sign(queued.license, { sid: 'y' }), 'yes'));
    expect(notBoolean).toMatchObject({ kind: 'connect_error', data: { reason: 'bad_request' } });
    await sleep(100);
    expect((await queued.admin.ok('GET', `/licenses/${queued.license.id}`)).seatsInUse).toBe(0);
  });

  it('asking to wait on a license without a queue is an ordinary connect: granted while a seat fits, then denied', async () => {
    const { url, api } = await startServer();
    const plain = await api.setup({ seats: 1 });
    const first = await admission(waiter(url, await sign(plain.license, { sid: 'x' })));
    expect(first).toMatchObject({ kind: 'granted', payload: { licenseId: plain.license.id, seatsInUse: 1 } });
    const second = await admission(waiter(url, await sign(plain.license, { sid: 'y' })));
    expect(second).toMatchObject({ kind: 'denied', payload: { reason: 'no_free_seats' } });
    const { denials } = await plain.admin.ok('GET', `/licenses/${plain.license.id}/denials`);
    expect(denials).toMatchObject([{ reason: 'no_free_seats', sessionRef: 'y' }]);
    expect((await plain.admin.ok('GET', `/licenses/${plain.license.id}/queue`)).queueLength).toBe(0);
  });
});
