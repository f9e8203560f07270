// Unmet demand in the history, on every store: claimants that left the queue without a seat are
// counted in the bucket where they left, with their average wait; those the queue served are
// counted apart. And the board's list of a queue: attached entries in order, with who they are.
import { expect, it } from 'vitest';
import { evenBounds } from '../../server/seats/time-buckets';
import { claimant, forEachStore, grant, newLicense } from './store-dialects';

forEachStore('history: unmet demand', (nodes) => {
  it('counts the claimants that left the queue without a seat, and their average wait, per bucket', async () => {
    const [store] = await nodes(1);
    const license = await newLicense(store!, { seats: 1, queue: true, idleTimeoutSec: 1 });
    const holder = await grant(store!, license, claimant('holder'), 1000);
    const queue = (key: string, at: number, socketId: string) =>
      store!.admit({ licenseId: license.id, socketId, nodeId: 'node-a', claimant: claimant(key, 1, { userId: `u-${key}`, name: `N ${key}`, app: 'cad' }), now: at, queue: true });
    expect((await queue('a', 1100, 'sock-a')).kind).toBe('queued');
    expect((await queue('b', 1200, 'sock-b')).kind).toBe('queued');
    expect((await queue('c', 1300, 'sock-c')).kind).toBe('queued');

    // The board's list: in order, with the claimant's fields and when it joined.
    const listed = await store!.listQueues([license.id], 100);
    expect(listed.map((q) => [q.position, q.userId, q.name, q.app, q.since, q.queueLength])).toEqual([
      [1, 'u-a', 'N a', 'cad', 1100, 3],
      [2, 'u-b', 'N b', 'cad', 1200, 3],
      [3, 'u-c', 'N c', 'cad', 1300, 3],
    ]);
    expect((await store!.listQueues([license.id], 2)).map((q) => q.userId)).toEqual(['u-a', 'u-b']);

    // a's and b's sockets go: the list moves up at once; their places go for good after the idle timeout.
    await store!.leaveQueue('sock-a', 1400);
    await store!.leaveQueue('sock-b', 1500);
    expect((await store!.listQueues([license.id], 100)).map((q) => [q.position, q.userId, q.queueLength])).toEqual([[1, 'u-c', 1]]);
    await store!.purgeQueue(2600); // a leaves (waited 1500 ms, since 1100), b leaves (waited 1400 ms)
    // c is served in the next bucket when the holder ends.
    await store!.endSession(holder.session.id, 'ended_by_app', 3500);
    expect(await store!.listQueues([license.id], 100)).toEqual([]);

    const buckets = await store!.history(license.id, evenBounds(1000, 4000, 1000));
    expect(buckets.map((b) => [b.at, b.queuedGranted, b.unmetDemand, b.unmetAvgWaitSec])).toEqual([
      [1000, 0, 0, null],
      [2000, 0, 2, 1], // (1500 + 1400) / 2 ms, in whole seconds
      [3000, 1, 0, null],
    ]);
    // One day-sized bucket holds them all.
    const [day] = await store!.history(license.id, [0, 86_400_000]);
    expect(day).toMatchObject({ queuedGranted: 1, unmetDemand: 2, unmetAvgWaitSec: 1 });
    // Another license sees none of it.
    const other = await newLicense(store!, { seats: 1 });
    expect((await store!.history(other.id, [0, 86_400_000]))[0]).toMatchObject({ queuedGranted: 0, unmetDemand: 0, unmetAvgWaitSec: null });
    // The retention prunes the waits with the rest of the history.
    await store!.pruneHistory(10_000);
    expect((await store!.history(license.id, [0, 86_400_000]))[0]).toMatchObject({ queuedGranted: 0, unmetDemand: 0 });
  });

  it("lists several licenses' queues in one read, each cut to the limit, with each queue's whole length", async () => {
    const [store] = await nodes(1);
    const a = await newLicense(store!, { seats: 0, queue: true });
    const b = await newLicense(store!, { seats: 0, queue: true });
    const quiet = await newLicense(store!, { seats: 0, queue: true });
    const wait = (l: typeof a, key: string, at: number) =>
      store!.admit({ licenseId: l.id, socketId: `${l.id}-${key}`, nodeId: 'node-a', claimant: claimant(key, 1, { userId: key }), now: at, queue: true });
    for (const [l, key, at] of [[a, 'a1', 1], [b, 'b1', 2], [a, 'a2', 3], [b, 'b2', 4], [a, 'a3', 5]] as const) expect((await wait(l, key, at)).kind).toBe('queued');
    const listed = await store!.listQueues([a.id, b.id, quiet.id], 2);
    const by = (id: string) => listed.filter((q) => q.licenseId === id).map((q) => [q.position, q.userId, q.queueLength]);
    expect(by(a.id)).toEqual([[1, 'a1', 3], [2, 'a2', 3]]);
    expect(by(b.id)).toEqual([[1, 'b1', 2], [2, 'b2', 2]]);
    expect(by(quiet.id)).toEqual([]);
    expect(await store!.listQueues([], 2)).toEqual([]);
  });
});
