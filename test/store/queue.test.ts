// The queue on every store (docs/contract.md, "The queue"): a claimant that asked to wait joins
// in the admission's transaction; a release serves the queue in its own transaction, in order,
// skipping who does not fit yet; grants are handed on only once committed; a socket that left,
// or whose node died, keeps its place for a reconnect, and is never handed a seat.
import pg from 'pg';
import { expect, it } from 'vitest';
import type { SeatStore } from '../../server/seats/seat-store';
import type { QueueGrant } from '../../server/seats/types';
import { PostgresSeatStore } from '../../server/store/postgres-store';
import { describeWith, postgresMissing, startPostgres } from '../support/services';
import { claimant, forEachStore, grant, newLicense, seatsInUse } from './store-dialects';

const wait = (store: SeatStore, licenseId: string, c: ReturnType<typeof claimant>, now: number, socketId: string, nodeId = 'node-a') =>
  store.admit({ licenseId, socketId, nodeId, claimant: c, now, queue: true });

function grantsOf(store: SeatStore): QueueGrant[] {
  const seen: QueueGrant[] = [];
  store.onQueueGrants((g) => seen.push(...g));
  return seen;
}

forEachStore('queue', (nodes) => {
  it('queues in order, and a release hands the seat to the head in its own transaction, skipping one that does not fit', async () => {
    const [store] = await nodes(1);
    const seen = grantsOf(store!);
    const license = await newLicense(store!, { seats: 2, queue: true });
    const a = await grant(store!, license, claimant('a'), 10, 'sock-a');
    await grant(store!, license, claimant('b'), 10, 'sock-b');
    expect(await wait(store!, license.id, claimant('heavy', 2), 11, 'sock-heavy')).toMatchObject({ kind: 'queued', position: 1, queueLength: 1, seatsInUse: 2 });
    expect(await wait(store!, license.id, claimant('light'), 12, 'sock-light')).toMatchObject({ kind: 'queued', position: 2, queueLength: 2 });
    // Without asking to wait: denied, as ever.
    expect(await store!.admit({ licenseId: license.id, socketId: 's-x', nodeId: 'node-a', claimant: claimant('x'), now: 12 })).toMatchObject({ kind: 'denied' });
    await store!.endSession(a.session.id, 'ended_by_app', 20);
    await new Promise((r) => setImmediate(r));
    // One seat free: the heavy head does not fit yet, the light one behind it does.
    expect(seen.map((g) => [g.socketId, g.resumed, g.seatsInUse])).toEqual([['sock-light', false, 2]]);
    expect(await seatsInUse(store!, license.id)).toBe(2);
    expect((await store!.queuePlaces(license.id)).map((p) => [p.socketId, p.position])).toEqual([['sock-heavy', 1]]);
    // The backstop looks only at queues with a seat free: none here.
    expect(await store!.queuedLicenses()).toEqual([]);
    // More seats: the heavy one fits now.
    await store!.updateLicense(license.id, { seats: 4 }, 30);
    await new Promise((r) => setImmediate(r));
    expect(seen.map((g) => g.socketId)).toEqual(['sock-light', 'sock-heavy']);
    expect(await seatsInUse(store!, license.id)).toBe(4);
    expect(await store!.queuePlaces(license.id)).toEqual([]);
  });

  it('tells which queued sockets a grant gave a seat (by then), with their node, session and license: for a grant whose word was lost', async () => {
    const [store] = await nodes(1);
    const license = await newLicense(store!, { seats: 1, queue: true });
    const a = await grant(store!, license, claimant('a'), 10, 'sock-a');
    await wait(store!, license.id, claimant('b'), 11, 'sock-b', 'node-b');
    await wait(store!, license.id, claimant('c'), 12, 'sock-c', 'node-b');
    expect(await store!.grantedSockets(['sock-b', 'sock-c'], 100)).toEqual([]);
    await store!.endSession(a.session.id, 'ended_by_app', 20);
    const found = await store!.grantedSockets(['sock-b', 'sock-c', 'sock-unknown'], 20);
    expect(found.map((g) => [g.socketId, g.nodeId, g.session.sessionRef, g.session.sockets, g.license.id, g.seatsInUse, g.resumed, g.overage])).toEqual([
      ['sock-b', 'node-b', 'b', 1, license.id, 1, false, false],
    ]);
    // A grant after `grantedBy` is not reported yet: its word may still be on its way.
    expect(await store!.grantedSockets(['sock-b'], 19)).toEqual([]);
  });

  it('tells which queued sockets have neither a place nor a seat (their license deleted, or refused at their turn): for a word that was lost', async () => {
    const [store] = await nodes(1);
    const license = await newLicense(store!, { seats: 1, queue: true });
    const a = await grant(store!, license, claimant('a'), 10, 'sock-a');
    await wait(store!, license.id, claimant('b'), 11, 'sock-b', 'node-b');
    await wait(store!, license.id, claimant('c'), 12, 'sock-c', 'node-b');
    expect(await store!.unqueuedSockets(['sock-a', 'sock-b', 'sock-c', 'sock-unknown'])).toEqual(['sock-unknown']);
    // Granted: seated, not lost.
    await store!.endSession(a.session.id, 'ended_by_app', 20);
    expect(await store!.unqueuedSockets(['sock-b', 'sock-c'])).toEqual([]);
    // Left: its place is kept for a reconnect.
    await store!.leaveQueue('sock-c', 30);
    expect(await store!.unqueuedSockets(['sock-c'])).toEqual([]);
    await store!.deleteLicense(license.id, 40);
    expect(await store!.unqueuedSockets(['sock-b', 'sock-c'])).toEqual(['sock-b', 'sock-c']);
  });

  it('lets a kept place go only while it is still kept: one a reconnect took back meanwhile stays', async () => {
    const [store, other] = await nodes(2);
    const license = await newLicense(store!, { seats: 1, queue: true, idleTimeoutSec: 1 });
    await grant(store!, license, claimant('holder'), 10, 'sock-h');
    await wait(store!, license.id, claimant('w'), 11, 'sock-w1');
    await store!.leaveQueue('sock-w1', 20);
    // The reconnect takes its place back (on another node) while a purge that read it as due runs.
    const purging = store!.purgeQueue(5_000);
    expect(await wait(other!, license.id, claimant('w'), 21, 'sock-w2', 'node-b')).toMatchObject({ kind: 'queued', position: 1 });
    await purging;
    expect((await store!.queuePlaces(license.id)).map((p) => p.socketId)).toEqual(['sock-w2']);
  });

  it("hands a place kept for a reconnect to its seat key's newer socket waiting behind it, with its claims; other seat keys keep theirs", async () => {
    const [store] = await nodes(1);
    const license = await newLicense(store!, { seats: 1, queue: true });
    await grant(store!, license, claimant('holder'), 10, 'sock-h');
    await wait(store!, license.id, claimant('w1'), 11, 'sock-w1-c', 'node-c');
    await wait(store!, license.id, claimant('w2'), 12, 'sock-w2');
    await wait(store!, license.id, claimant('w1', 1, { name: 'Wyn' }), 13, 'sock-w1-b', 'node-b');
    expect(await store!.mergeKeptPlaces()).toEqual([]);
    await store!.releaseNode('node-c', 20);
    expect((await store!.queuePlaces(license.id)).map((p) => p.socketId)).toEqual(['sock-w2', 'sock-w1-b']);
    expect(await store!.mergeKeptPlaces()).toEqual([license.id]);
    expect((await store!.queuePlaces(license.id)).map((p) => [p.socketId, p.nodeId, p.position, p.queueLength])).toEqual([
      ['sock-w1-b', 'node-b', 1, 2],
      ['sock-w2', 'node-a', 2, 2],
    ]);
    expect((await store!.listQueues([license.id], 10)).map((c) => [c.sessionRef, c.name, c.since])).toEqual([
      ['w1', 'Wyn', 11],
      ['w2', null, 12],
    ]);
    expect(await store!.mergeKeptPlaces()).toEqual([]);
  });

  it('the backstop finds queues with a seat free (too small for the head), and serving them changes nothing until one fits', async () => {
    const [store] = await nodes(1);
    const license = await newLicense(store!, { seats: 3, queue: true });
    await grant(store!, license, claimant('a'), 10);
    await grant(store!, license, claimant('b'), 10);
    await wait(store!, license.id, claimant('heavy', 2), 11, 'sock-heavy');
    expect(await store!.queuedLicenses()).toEqual([license.id]);
    expect(await store!.serveQueue(license.id, 12)).toEqual([]);
    expect(await seatsInUse(store!, license.id)).toBe(2);
  });

  it('a release reads the queue a page at a time: a claimant behind more than a page that does not fit still gets the seat', async () => {
    const [store] = await nodes(1);
    const seen = grantsOf(store!);
    const license = await newLicense(store!, { seats: 1, queue: true });
    const a = await grant(store!, license, claimant('a'), 10);
    // 70 claimants of weight 2 never fit one seat; they keep their places ahead of the light one.
    for (let i = 0; i < 70; i++) await wait(store!, license.id, claimant(`heavy-${i}`, 2), 11, `sock-heavy-${i}`);
    expect(await wait(store!, license.id, claimant('light'), 12, 'sock-light')).toMatchObject({ kind: 'queued', position: 71, queueLength: 71 });
    await store!.endSession(a.session.id, 'ended_by_app', 20);
    await new Promise((r) => setImmediate(r));
    expect(seen.map((g) => g.socketId)).toEqual(['sock-light']);
    expect((await store!.queuePlaces(license.id)).length).toBe(70);
  });

  it('with no seat free, a waiting claimant whose seat key holds a session meanwhile still joins it', async () => {
    const [store] = await nodes(1);
    const license = await newLicense(store!, { seats: 2, queue: true });
    await grant(store!, license, claimant('a'), 10);
    // k waits with weight 2 (one seat free); another tab of k, of weight 1, gets the seat: full.
    await wait(store!, license.id, claimant('k', 2), 11, 'sock-k-waiting');
    await grant(store!, license, claimant('k'), 12, 'sock-k-tab');
    expect(await seatsInUse(store!, license.id)).toBe(2);
    const served = await store!.serveQueue(license.id, 13);
    expect(served.map((g) => [g.socketId, g.resumed])).toEqual([['sock-k-waiting', true]]);
    expect(await seatsInUse(store!, license.id)).toBe(2);
    expect(await store!.queuePlaces(license.id)).toEqual([]);
  });

  it('two waiting tabs of one seat key take one seat: the second joins the session the first was granted, in the same pass', async () => {
    const [store] = await nodes(1);
    const seen = grantsOf(store!);
    const license = await newLicense(store!, { seats: 1, queue: true });
    const a = await grant(store!, license, claimant('a'), 10, 'sock-a');
    await wait(store!, license.id, claimant('k'), 11, 'sock-k-1');
    await wait(store!, license.id, claimant('k'), 12, 'sock-k-2');
    await wait(store!, license.id, claimant('m'), 13, 'sock-m');
    // Two seats more: k takes one (both of its tabs), m the other.
    await store!.updateLicense(license.id, { seats: 3 }, 20);
    await new Promise((r) => setImmediate(r));
    expect(seen.map((g) => [g.socketId, g.resumed, g.session.sessionRef])).toEqual([
      ['sock-k-1', false, 'k'],
      ['sock-k-2', true, 'k'],
      ['sock-m', false, 'm'],
    ]);
    expect(seen[0]!.session.id).toBe(seen[1]!.session.id);
    expect(await seatsInUse(store!, license.id)).toBe(3);
    expect(await store!.queuePlaces(license.id)).toEqual([]);
    // Full again; two tabs of j wait, and one seat freed by a release takes them both.
    await wait(store!, license.id, claimant('j'), 21, 'sock-j-1');
    await wait(store!, license.id, claimant('j'), 22, 'sock-j-2');
    await store!.endSession(a.session.id, 'ended_by_app', 30);
    await new Promise((r) => setImmediate(r));
    expect(seen.slice(3).map((g) => [g.socketId, g.resumed, g.session.sessionRef])).toEqual([
      ['sock-j-1', false, 'j'],
      ['sock-j-2', true, 'j'],
    ]);
    expect(await seatsInUse(store!, license.id)).toBe(3);
    expect(await store!.queuePlaces(license.id)).toEqual([]);
  });

  it('a socket that left keeps its place for a reconnect of the same seat key, and gets no seat while away', async () => {
    const [store] = await nodes(1);
    const seen = grantsOf(store!);
    const license = await newLicense(store!, { seats: 1, queue: true, idleTimeoutSec: 10 });
    const a = await grant(store!, license, claimant('a'), 10, 'sock-a');
    await wait(store!, license.id, claimant('b'), 11, 'sock-b1');
    await wait(store!, license.id, claimant('c'), 12, 'sock-c');
    expect(await store!.leaveQueue('sock-b1', 13)).toBe(license.id);
    expect((await store!.queuePlaces(license.id)).map((p) => p.socketId)).toEqual(['sock-c']);
    // Back within the idle timeout, on another socket: its old place, ahead of C.
    expect(await wait(store!, license.id, claimant('b'), 14, 'sock-b2')).toMatchObject({ kind: 'queued', position: 1, queueLength: 2 });
    // Every queue waits on a full license: nothing for the backstop to serve.
    expect(await store!.queuedLicenses()).toEqual([]);
    // Away again when the seat frees: C gets it, B keeps its place.
    await store!.leaveQueue('sock-b2', 15);
    await store!.endSession(a.session.id, 'kicked', 16);
    await new Promise((r) => setImmediate(r));
    expect(seen.map((g) => g.socketId)).toEqual(['sock-c']);
    // Gone longer than the idle timeout: the place goes, and the wait is recorded.
    expect(await store!.purgeQueue(15 + 9_999)).toEqual([]);
    expect(await store!.purgeQueue(15 + 10_000)).toEqual([license.id]);
    expect(await wait(store!, license.id, claimant('b'), 30_000, 'sock-b3')).toMatchObject({ kind: 'queued', position: 1, queueLength: 1 });
  });

  it("a dead node's queued sockets keep their places and are handed no seat; served once across two nodes", async () => {
    const [n1, n2] = await nodes(2);
    const seen1 = grantsOf(n1!);
    const seen2 = n1 === n2 ? seen1 : grantsOf(n2!);
    const license = await newLicense(n1!, { seats: 1, queue: true });
    const a = await grant(n1!, license, claimant('a'), 10, 'sock-a');
    await wait(n1!, license.id, claimant('dead'), 11, 'sock-dead', 'node-dead');
    await wait(n2!, license.id, claimant('live'), 12, 'sock-live', 'node-b');
    await n1!.releaseNode('node-dead', 13);
    await Promise.all([n1!.endSession(a.session.id, 'ended_by_app', 20), n2!.endSession(a.session.id, 'ended_by_app', 20)]);
    await new Promise((r) => setImmediate(r));
    const all = n1 === n2 ? seen1 : [...seen1, ...seen2];
    expect(all.map((g) => g.socketId)).toEqual(['sock-live']);
    expect(await seatsInUse(n1!, license.id)).toBe(1);
    // The dead node's claimant reconnects elsewhere: still first in line.
    expect(await wait(n2!, license.id, claimant('dead'), 21, 'sock-dead-2', 'node-b')).toMatchObject({ kind: 'queued', position: 1 });
  });
});

describeWith([postgresMissing()])('queue on PostgreSQL: a socket leaving while a release serves the queue', { timeout: 60_000 }, () => {
  it('gets no seat when it left after the release read the queue and before it took the entry', async () => {
    const cluster = await startPostgres();
    const url = await cluster.createDatabase('queue_race');
    const store = PostgresSeatStore.open(url, 4);
    const leaving = new pg.Client({ connectionString: url });
    try {
      await store.migrate();
      const seen = grantsOf(store);
      const license = await newLicense(store, { seats: 1, queue: true });
      const a = await grant(store, license, claimant('a'), 10, 'sock-a');
      await wait(store, license.id, claimant('b'), 11, 'sock-b');
      // The socket leaves as `leaveQueue` does (no license lock), its update not committed yet…
      await leaving.connect();
      await leaving.query('begin');
      await leaving.query("update queue_entries set left_at = 20 where socket_id = 'sock-b' and left_at is null");
      // … while a release serves the queue: it reads the entry as waiting, then waits on its row.
      const release = store.endSession(a.session.id, 'ended_by_app', 20);
      await new Promise((r) => setTimeout(r, 500));
      await leaving.query('commit');
      await release;
      await new Promise((r) => setImmediate(r));
      // Left first: no seat, no connection row for a socket its node has let go, its place kept.
      expect(seen).toEqual([]);
      expect(await seatsInUse(store, license.id)).toBe(0);
      const rows = await leaving.query("select count(*)::int as n from connections where socket_id = 'sock-b'");
      expect(rows.rows[0].n).toBe(0);
      expect(await store.queuePlaces(license.id)).toEqual([]);
      const kept = await leaving.query("select left_at from queue_entries where socket_id = 'sock-b'");
      expect(kept.rows).toEqual([{ left_at: '20' }]);
    } finally {
      await leaving.end().catch(() => undefined);
      await store.close();
      await cluster.destroy();
    }
  });
});
