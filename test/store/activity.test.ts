// Activity and inactivity on every store (docs/contract.md, "Inactivity release"): activity is
// written for many sessions at once and ends pending warnings; a warning is marked by one node
// only; the release (`inactive`) happens once, under the license's lock, and frees the seat.
import type { Kysely } from 'kysely';
import { expect, it } from 'vitest';
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

  it('one warning across nodes, none after newer activity, and one release that frees the seat', async () => {
    const [n1, n2] = await nodes(2);
    const license = await newLicense(n1!, { seats: 1, inactivityTimeoutSec: 10, inactivityWarningSec: 5 });
    const a = await grant(n1!, license, claimant('a'), 1000);
    const marks = await Promise.all([n1!.markWarned(a.session.id, 1000, 6000), n2!.markWarned(a.session.id, 1000, 6001)]);
    expect(marks.filter(Boolean)).toHaveLength(1);
    // A mark made on stale activity loses.
    await n2!.recordActivity([a.session.id], 6500);
    expect(await n1!.markWarned(a.session.id, 1000, 6600)).toBeUndefined();
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
    expect(await store!.releaseInactive(on.id, 59_000, FLUSH)).toEqual([]);
    expect((await store!.releaseInactive(on.id, 60_000 + FLUSH, FLUSH)).map((e) => e.reason)).toEqual(['inactive']);
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
