// The queue on two real nodes behind one PostgreSQL and one Redis: a socket queued on one node
// is granted by a release on the other, in the releasing transaction, and nobody connecting
// meanwhile takes the seat first.
import { io } from 'socket.io-client';
import { expect, it, onTestFinished } from 'vitest';
import { admission, type AppSocket, connect, granted, nextEvent, sign } from '../support/harness';
import { describeWith } from '../support/services';
import { clusterMissing, useCluster } from './cluster-support';

function waiter(url: string, token: string): AppSocket {
  const socket: AppSocket = io(url, { auth: { token, queue: true }, transports: ['websocket'], reconnection: false, forceNew: true });
  onTestFinished(() => void socket.disconnect());
  return socket;
}

describeWith(clusterMissing())('a cluster of two nodes: the queue', { timeout: 90_000 }, () => {
  const { cluster } = useCluster(2);

  it('a release on node A grants the head of the queue waiting on node B; positions move on both nodes', async () => {
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
    const { license, admin } = await a.api.setup({ seats: 1, queue: true });
    const holder = await granted(a.url, await sign(license, { sid: 'holder' }));
    const first = waiter(b.url, await sign(license, { sid: 'first' }));
    expect(await nextEvent(first, 'seat:queued')).toEqual({ position: 1, queueLength: 1 });
    const second = waiter(a.url, await sign(license, { sid: 'second' }));
    expect(await nextEvent(second, 'seat:queued')).toEqual({ position: 2, queueLength: 2 });

    const granted1 = nextEvent(first, 'seat:granted');
    const moved = nextEvent(second, 'seat:queued');
    await holder.socket.timeout(5000).emitWithAck('session:end');
    // A newcomer racing the release on either node finds no free seat.
    const racers = await Promise.all([a, b].map(async (n, i) => admission(connect(n.url, await sign(license, { sid: `racer-${i}` })))));
    expect(await granted1).toMatchObject({ resumed: false, seatsInUse: 1 });
    expect(await moved).toEqual({ position: 1, queueLength: 1 });
    expect(racers.map((r) => r.kind)).toEqual(['denied', 'denied']);
    const { sessions } = await admin.ok('GET', `/licenses/${license.id}/sessions`);
    expect(sessions.map((s: { sessionRef: string }) => s.sessionRef)).toEqual(['first']);
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(1);
  });

  it('deleting a license on node A tells the sockets waiting in its queue on node B, and lets them go', async () => {
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
    const { license, admin } = await a.api.setup({ seats: 1, queue: true });
    await granted(a.url, await sign(license, { sid: 'holder' }));
    const waiting = waiter(b.url, await sign(license, { sid: 'waiting' }));
    expect(await nextEvent(waiting, 'seat:queued')).toEqual({ position: 1, queueLength: 1 });
    const ended = nextEvent(waiting, 'session:ended');
    const gone = nextEvent(waiting, 'disconnect');
    expect((await admin.call('DELETE', `/licenses/${license.id}`)).status).toBe(204);
    expect(await ended).toEqual({ reason: 'license_deleted', message: 'This license was deleted' });
    expect(await gone).toBe('io server disconnect');
  });
  it('a device refused at its turn (beyond maxActivations) on node A is told on node B, and the seat goes to the next in line', async () => {
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
    const { license, admin } = await a.api.setup({ seats: 1, seatKey: ['device'], maxActivations: 3, queue: true });
    // pc-1 was here before (activated), pc-0 holds the seat.
    const before = await granted(a.url, await sign(license, { dev: 'pc-1' }));
    await before.socket.timeout(5000).emitWithAck('session:end');
    const holder = await granted(a.url, await sign(license, { dev: 'pc-0' }));
    // pc-2 joins with room for its activation; then the limit is lowered to the two devices activated.
    const refused = waiter(b.url, await sign(license, { dev: 'pc-2' }));
    expect(await nextEvent(refused, 'seat:queued')).toEqual({ position: 1, queueLength: 1 });
    const next = waiter(a.url, await sign(license, { dev: 'pc-1' }));
    expect(await nextEvent(next, 'seat:queued')).toEqual({ position: 2, queueLength: 2 });
    expect((await admin.call('PATCH', `/licenses/${license.id}`, { maxActivations: 2 })).status).toBe(200);

    const denied = nextEvent(refused, 'seat:denied');
    const gone = nextEvent(refused, 'disconnect');
    const seated = nextEvent(next, 'seat:granted');
    await holder.socket.timeout(5000).emitWithAck('session:end');
    expect(await denied).toMatchObject({ reason: 'too_many_activations', seats: 1 });
    expect(await gone).toBe('io server disconnect');
    expect(await seated).toMatchObject({ resumed: false, seatsInUse: 1 });
    const { denials } = await admin.ok('GET', `/licenses/${license.id}/denials`);
    expect(denials.map((d: { reason: string; deviceId: string }) => [d.reason, d.deviceId])).toEqual([['too_many_activations', 'pc-2']]);
  });
});
