// Activity and inactivity on every store (docs/contract.md, "Inactivity release"): activity is
// written for many sessions at once and ends pending warnings; a warning is marked by one node
// only; the release (`inactive`) happens once, under the license's lock, and frees the seat.
import type { Kysely } from 'kysely';
import { expect, it } from 'vitest';
import { EventBus } from '../../server/seats/event-bus';
import { Inactivity } from '../../server/seats/inactivity';
import type { Database } from '../../server/store/schema';
import { claimant, forEachStore, grant, newLicense, seatsInUse } from './store-dialects';

const FLUSH = 100;

forEachStore('activity and inactivity', (nodes) => {
  it('writes activity for many sessions in one call, never moving it back, and ends their pending warnings', async () => {
    const [store] = await nodes(1);
    const license = await newLicense(store!, { seats: 3, inactivityTimeoutSec: 10, inactivityWarningSec: 5 });
    const a = await grant(store!, license, claimant('a'), 1000);
    const b = await grant(store!, license, claimant('b'), 1000);
    // Due for a warning at 6000 (10 s timeout, 5 s warning).
    expect((await store!.inactivityDue(5999)).map((c) => c.session.id)).toEqual([]);
    expect((await store!.inactivityDue(6000)).map((c) => c.session.id).sort()).toEqual([a.session.id, b.session.id].sort());
    expect(await store!.markWarned(a.session.id, 1000, 6000)).toMatchObject({ id: a.session.id, warnedAt: 6000 });
    const cleared = await store!.recordActivity([a.session.id, b.session.id, 'gone'], 7000);
    expect(cleared).toEqual([{ sessionId: a.session.id, licenseId: license.id }]);
    expect((await store!.getSession(a.session.id))!).toMatchObject({ lastActivityAt: 7000, warnedAt: null });
    // Older activity arriving late moves nothing back.
    await store!.recordActivity([b.session.id], 3000);
    expect((await store!.getSession(b.session.id))!.lastActivityAt).toBe(7000);
    expect(await store!.inactivityDue(11_999)).toEqual([]);
  });

  it('a resume decided late, its time older than a later connect, moves no activity back', async () => {
    const [store] = await nodes(1);
    const license = await newLicense(store!, { seats: 3, inactivityTimeoutSec: 10, inactivityWarningSec: 5 });
    const first = await grant(store!, license, claimant('a'), 1000, 'tab-1');
    expect((await grant(store!, license, claimant('a'), 5000, 'tab-2')).session.lastActivityAt).toBe(5000);
    // A connect at 3000 whose admission was decided after the one at 5000 (a database outage between).
    const late = await grant(store!, license, claimant('a'), 3000, 'tab-3');
    expect([late.resumed, late.session.lastActivityAt]).toEqual([true, 5000]);
    expect((await store!.getSession(first.session.id))!.lastActivityAt).toBe(5000);
    // Due for its warning 5 s after the newest activity, not the late one's.
    expect(await store!.inactivityDue(9999)).toEqual([]);
    expect((await store!.inactivityDue(10_000)).map((c) => c.session.id)).toEqual([first.session.id]);
  });

  it('one warning across nodes, none after newer activity, and one release that frees the seat', async () => {
    const [n1, n2] = await nodes(2);
    const license = await newLicense(n1!, { seats: 1, inactivityTimeoutSec: 10, inactivityWarningSec: 5 });
    const a = await grant(n1!, license, claimant('a'), 1000);
    const marks = await Promise.all([n1!.markWarned(a.session.id, 1000, 6000), n2!.markWarned(a.session.id, 1000, 6001)]);
    expect(marks.filter(Boolean)).toHaveLength(1);
    // A mark made on stale activity loses.
    await n2!.recordActivity([a.session.id], 6500);
    expect(await n1!.markWarned(a.session.id, 1000, 6600)).toBeUndefined();
    // Warned again in time for the deadline the activity moved (16,500): no seat goes unwarned.
    expect(await n1!.releaseInactive(license.id, 100_000, FLUSH)).toEqual([]);
    expect(await n2!.markWarned(a.session.id, 6500, 11_500 + FLUSH)).toMatchObject({ warnedAt: 11_500 + FLUSH });
    // Not before the deadline plus the flush.
    expect(await n1!.releaseInactive(license.id, 16_500 + FLUSH - 1, FLUSH)).toEqual([]);
    const released = await Promise.all([n1!.releaseInactive(license.id, 16_500 + FLUSH, FLUSH), n2!.releaseInactive(license.id, 16_500 + FLUSH, FLUSH)]);
    expect(released.flat().map((e) => [e.session.id, e.reason, e.seatsInUse])).toEqual([[a.session.id, 'inactive', 0]]);
    expect(await seatsInUse(n1!, license.id)).toBe(0);
    expect(await n1!.endedAmong([a.session.id])).toEqual([{ sessionId: a.session.id, reason: 'inactive' }]);
  });

  it('leaves idle sessions and licenses without a timeout alone, and a resume is activity', async () => {
    const [store] = await nodes(1);
    const off = await newLicense(store!, { seats: 2 });
    const on = await newLicense(store!, { seats: 2, inactivityTimeoutSec: 10, inactivityWarningSec: 5, idleTimeoutSec: 3600 });
    await grant(store!, off, claimant('quiet'), 1000);
    const idle = await grant(store!, on, claimant('idle'), 1000, 'sock-idle');
    await store!.detach('sock-idle', 2000);
    expect(await store!.inactivityDue(1_000_000)).toEqual([]);
    expect(await store!.releaseInactive(off.id, 1_000_000, FLUSH)).toEqual([]);
    // Back within the idle hold: the resume counts as activity.
    const again = await grant(store!, on, claimant('idle'), 50_000);
    expect(again.session).toMatchObject({ id: idle.session.id, lastActivityAt: 50_000 });
    expect(await store!.markWarned(idle.session.id, 50_000, 55_000 + FLUSH)).toBeDefined();
    expect(await store!.releaseInactive(on.id, 59_000, FLUSH)).toEqual([]);
    expect((await store!.releaseInactive(on.id, 60_000 + FLUSH, FLUSH)).map((e) => e.reason)).toEqual(['inactive']);
  });

  it('a warning that went out only past the deadline holds the release its full length after it', async () => {
    const [store] = await nodes(1);
    const license = await newLicense(store!, { seats: 2, inactivityTimeoutSec: 10, inactivityWarningSec: 5 });
    const a = await grant(store!, license, claimant('a'), 1000);
    // Deadline 11,000, and no sweep warned in time: unwarned, it stays.
    expect(await store!.releaseInactive(license.id, 20_000, FLUSH)).toEqual([]);
    expect(await store!.markWarned(a.session.id, 1000, 20_000)).toMatchObject({ warnedAt: 20_000 });
    expect(await store!.releaseInactive(license.id, 25_000 + FLUSH - 1, FLUSH)).toEqual([]);
    expect((await store!.releaseInactive(license.id, 25_000 + FLUSH, FLUSH)).map((e) => [e.session.id, e.reason])).toEqual([[a.session.id, 'inactive']]);
  });
});

forEachStore('inactivity waits for every live node to have its activity on record', (nodes) => {
  it('a release waits for the horizon on another live node\'s heartbeat, and for its own; a dead node holds nothing', async () => {
    const [n1, n2] = await nodes(2);
    const license = await newLicense(n1!, { seats: 2, inactivityTimeoutSec: 10, inactivityWarningSec: 5 });
    const a = await grant(n1!, license, claimant('a'), 1000);
    await n1!.markWarned(a.session.id, 1000, 6000 + FLUSH);
    // Deadline 11,000; released from 11,000 + FLUSH on what is on record. Node 2 beats at 20,000,
    // its activity on record only up to 10,000 (a flush failed): it may hold activity for `a`.
    await n2!.heartbeat('node-2', 20_000, 10_000);
    const heard = (through: number) => ({ nodeId: 'node-1', through, liveSince: 20_000 - 5000 });
    expect(await n1!.releaseInactive(license.id, 20_000, FLUSH, heard(20_000))).toEqual([]);
    // This node's own horizon holds it the same way.
    await n2!.heartbeat('node-2', 20_500, 20_500);
    expect(await n1!.releaseInactive(license.id, 20_500, FLUSH, heard(10_999))).toEqual([]);
    // Node 2 flushed (nothing for `a`), and its beat says so: released.
    const released = await n1!.releaseInactive(license.id, 20_500, FLUSH, heard(20_500));
    expect(released.map((e) => [e.session.id, e.reason])).toEqual([[a.session.id, 'inactive']]);

    // A node that stopped beating holds nothing: what it heard and did not write is lost with it.
    const b = await grant(n1!, license, claimant('b'), 30_000);
    await n1!.markWarned(b.session.id, 30_000, 35_000 + FLUSH);
    await n2!.heartbeat('node-2', 31_000, 31_000);
    expect(await n1!.releaseInactive(license.id, 50_000, FLUSH, { nodeId: 'node-1', through: 50_000, liveSince: 40_000 })).toMatchObject([{ session: { id: b.session.id } }]);
    // A row from before the column: its heartbeat stands in for the horizon.
    const c = await grant(n1!, license, claimant('c'), 60_000);
    await n1!.markWarned(c.session.id, 60_000, 65_000 + FLUSH);
    await n2!.heartbeat('node-2', 69_000, 69_000);
    const { db } = n2 as unknown as { db: Kysely<Database> };
    await db.updateTable('nodes').set({ activity_through: null }).where('id', '=', 'node-2').execute();
    expect(await n1!.releaseInactive(license.id, 75_000, FLUSH, { nodeId: 'node-1', through: 75_000, liveSince: 65_000 })).toEqual([]);
    await n2!.heartbeat('node-2', 74_000, 74_000);
    expect(await n1!.releaseInactive(license.id, 75_000, FLUSH, { nodeId: 'node-1', through: 75_000, liveSince: 65_000 })).toMatchObject([{ session: { id: c.session.id } }]);
  });
});

forEachStore('a node whose activity is not on record yet holds the other nodes\' inactivity releases', (nodes) => {
  it('its flush fails: its heartbeat keeps the last horizon it wrote, and no node releases past it', async () => {
    const [s1, s2] = await nodes(2);
    const license = await newLicense(s1!, { seats: 2, inactivityTimeoutSec: 1, inactivityWarningSec: 0 });
    const a = await grant(s1!, license, claimant('a'), 1000);
    let clock = 1000;
    const now = () => clock;
    const options = (nodeId: string) => ({ activityFlushMs: FLUSH, sweepIntervalMs: 1000, nodeId, nodeTimeoutMs: 5000 });
    const deciding = new Inactivity({ store: s1!, bus: new EventBus(), now, options: options('node-1') });
    // Node 2 hears the session's activity; its database connection is cut (a restart), then back.
    let down = false;
    let gate: Promise<void> = Promise.resolve();
    const store2 = {
      recordActivity: async (ids: readonly string[], at: number) => {
        await gate;
        if (down) throw new Error('Connection terminated unexpectedly');
        return s2!.recordActivity(ids, at);
      },
      inactivityDue: (at: number) => s2!.inactivityDue(at),
      markWarned: (id: string, last: number, at: number) => s2!.markWarned(id, last, at),
      releaseInactive: s2!.releaseInactive.bind(s2),
      getLicense: (id: string) => s2!.getLicense(id),
      getSession: (id: string) => s2!.getSession(id),
    };
    const hearing = new Inactivity({ store: store2, bus: new EventBus(), now, options: options('node-2') });
    const beat = () => s2!.heartbeat('node-2', clock, hearing.heardThrough());

    clock = 1500;
    hearing.heard(a.session.id);
    down = true;
    await expect(hearing.flush()).rejects.toThrow('Connection terminated');
    // Nothing it heard since its start (1000) is on record.
    expect(hearing.heardThrough()).toBe(1000);
    await beat();
    // Past the deadline (2000) and a flush, on record: node 1 would release, but node 2 holds activity.
    clock = 3000;
    await deciding.sweep();
    expect(await s1!.getSession(a.session.id)).toMatchObject({ state: 'active', lastActivityAt: 1000 });

    // Back: the flush writes the activity, and the horizon moves.
    down = false;
    clock = 3100;
    await hearing.flush();
    expect(hearing.heardThrough()).toBe(3100);
    await beat();
    clock = 3200;
    await deciding.sweep();
    expect(await s1!.getSession(a.session.id)).toMatchObject({ state: 'active', lastActivityAt: 3100 });

    // A flush in flight: what it writes is not on record until it commits.
    let open!: () => void;
    gate = new Promise<void>((resolve) => (open = resolve));
    clock = 3300;
    hearing.heard(a.session.id);
    const flushing = hearing.flush();
    clock = 3400;
    expect(hearing.heardThrough()).toBe(3100);
    open();
    await flushing;
    expect(hearing.heardThrough()).toBe(3400);

    // Quiet from 3300: released once node 2's beat has passed the deadline (4300).
    clock = 4500;
    await s2!.heartbeat('node-2', 4200, 4200);
    await deciding.sweep();
    expect(await s1!.getSession(a.session.id)).toMatchObject({ state: 'active' });
    await beat();
    await deciding.sweep();
    expect(await s1!.getSession(a.session.id)).toBeUndefined();
    expect(await s1!.endedAmong([a.session.id])).toEqual([{ sessionId: a.session.id, reason: 'inactive' }]);
  });
});

forEachStore('inactivity against a flush in flight', (nodes) => {
  it('a release waits for activity being written for the session, and then does not release it', async () => {
    const [n1, n2] = await nodes(2);
    const license = await newLicense(n1!, { seats: 2, inactivityTimeoutSec: 10, inactivityWarningSec: 5 });
    const a = await grant(n1!, license, claimant('a'), 1000);
    // Another node's flush: newer activity written, not committed yet.
    const { db } = n2 as unknown as { db: Kysely<Database> };
    let commit!: () => void;
    let written!: () => void;
    const writing = new Promise<void>((resolve) => (written = resolve));
    const flush = db.transaction().execute(async (trx) => {
      await trx.updateTable('sessions').set({ last_activity_at: 11_000 }).where('id', '=', a.session.id).execute();
      written();
      await new Promise<void>((resolve) => (commit = resolve));
    });
    await writing;
    // Due on what was committed (activity at 1000), not on what is being written.
    const release = n1!.releaseInactive(license.id, 11_000 + FLUSH, FLUSH);
    await new Promise((resolve) => setTimeout(resolve, 200));
    commit();
    await flush;
    expect(await release).toEqual([]);
    expect(await n1!.getSession(a.session.id)).toMatchObject({ state: 'active', lastActivityAt: 11_000 });
    expect(await seatsInUse(n1!, license.id)).toBe(1);
  });
});
