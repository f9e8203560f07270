// Inactivity release (the internal specification: "after a period of inactivity, the license
// will become available to others"): a connected session that reports no `session:activity` for
// `inactivityTimeoutSec` is warned `inactivityWarningSec` before, then released with `inactive`;
// activity in any tab keeps the whole session and clears the warning; a flood costs nothing.
import { describe, expect, it } from 'vitest';
import { openStore } from '../../server/store/open-store';
import { admission, connect, granted, nextEvent, sign, sleep, startServer, until } from '../support/harness';

describe('inactivity release', () => {
  it('warns, then releases a session with no activity; the seat is free for another user', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1, inactivityTimeoutSec: 2, inactivityWarningSec: 1 });
    const a = await granted(url, await sign(license, { sid: 'a' }));
    const warning = await nextEvent(a.socket, 'seat:warning', 5000);
    expect(warning).toMatchObject({ reason: 'inactive', message: expect.any(String) });
    const releasesAt = Date.parse(warning.releasesAt);
    expect(releasesAt - Date.now()).toBeLessThanOrEqual(1500);
    // The dashboard sees the warning as it happens.
    expect((await admin.ok('GET', `/licenses/${license.id}/sessions`)).sessions[0].warnedAt).not.toBeNull();
    const ended = await nextEvent(a.socket, 'session:ended', 5000);
    expect(ended).toMatchObject({ reason: 'inactive' });
    expect(Date.now()).toBeGreaterThanOrEqual(releasesAt);
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(0);
    const b = await granted(url, await sign(license, { sid: 'b' }));
    expect(b.grant.resumed).toBe(false);
  });

  it('no seat is released unwarned: a warning no sweep fell in the window of goes out late, and the release waits its full length', async () => {
    // Sweeps 3 s apart, the warning's window 1 s (from 1.2 s to 2.2 s after the grant): the first
    // sweep after the grant comes past the deadline and its flush.
    const { url, api } = await startServer({ config: { sweepIntervalMs: 3000 } });
    const { license, admin } = await api.setup({ seats: 1, inactivityTimeoutSec: 2, inactivityWarningSec: 1 });
    const a = await granted(url, await sign(license, { sid: 'a' }));
    const events: string[] = [];
    a.socket.on('session:ended', () => events.push('ended'));
    const warning = await nextEvent(a.socket, 'seat:warning', 5000);
    events.push('warning');
    const toldAt = Date.now();
    const releasesAt = Date.parse(warning.releasesAt);
    // The warning's full second, not a deadline gone by.
    expect(releasesAt - toldAt).toBeGreaterThan(800);
    const { sessions } = await admin.ok('GET', `/licenses/${license.id}/sessions`);
    expect(sessions[0].warnedAt).not.toBeNull();
    await until(() => events.includes('ended'), 8000);
    expect(events).toEqual(['warning', 'ended']);
    expect(Date.now()).toBeGreaterThanOrEqual(releasesAt);
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(0);
  });

  it('activity in any tab keeps the whole session and clears the warning in every tab', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1, inactivityTimeoutSec: 2, inactivityWarningSec: 1 });
    const token = await sign(license, { sid: 'portal' });
    const tab1 = await granted(url, token);
    const tab2 = await granted(url, token);
    const warned = await nextEvent(tab2.socket, 'seat:warning', 5000);
    expect(warned.reason).toBe('inactive');
    const cleared1 = nextEvent(tab1.socket, 'seat:warning-cleared', 5000);
    const cleared2 = nextEvent(tab2.socket, 'seat:warning-cleared', 5000);
    tab1.socket.emit('session:activity');
    expect(await cleared1).toEqual({ reason: 'inactive' });
    expect(await cleared2).toEqual({ reason: 'inactive' });
    // Keep working in tab 1 past the timeout: the seat stays.
    let ended = false;
    tab2.socket.on('session:ended', () => (ended = true));
    for (let i = 0; i < 6; i++) {
      await sleep(500);
      tab1.socket.emit('session:activity');
    }
    expect(ended).toBe(false);
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(1);
    const [session] = (await admin.ok('GET', `/licenses/${license.id}/sessions`)).sessions;
    expect(Date.now() - Date.parse(session.lastActivityAt)).toBeLessThan(1500);
  });

  it("each heartbeat says how far the activity the node heard is on record, so other nodes' releases wait for it", async () => {
    // A real store whose heartbeats are noted; no flush or sweep runs by itself in this test.
    const beats: Array<{ now: number; through?: number }> = [];
    const real = openStore({ databaseUrl: ':memory:', pgPoolSize: 1 });
    const store = new Proxy(real, {
      get(target, prop) {
        if (prop === 'heartbeat') {
          return (nodeId: string, now: number, through?: number) => {
            beats.push({ now, through });
            return target.heartbeat(nodeId, now, through);
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const { url, api } = await startServer({ store, config: { activityFlushMs: 60_000, sweepIntervalMs: 60_000, heartbeatIntervalMs: 100 } });
    const { license } = await api.setup({ seats: 1, inactivityTimeoutSec: 60, inactivityWarningSec: 0 });
    const a = await granted(url, await sign(license, { sid: 'a' }));
    // Nothing heard that is not on record: the horizon is the beat's own time.
    await until(() => beats.length > 2);
    expect(beats.at(-1)!.through).toBe(beats.at(-1)!.now);
    // Activity heard, not written yet: the horizon stays where it was, however many beats pass.
    const heardAt = Date.now();
    a.socket.emit('session:activity');
    await until(() => beats.some((b) => b.now > heardAt + 500));
    const after = beats.filter((b) => b.now > heardAt + 200);
    expect(after.length).toBeGreaterThan(1);
    for (const b of after) expect(b.through).toBeLessThan(heardAt);
  });

  it('a flood of activity is throttled: it crashes nothing and the seat is kept', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1, inactivityTimeoutSec: 3, inactivityWarningSec: 1 });
    const a = await granted(url, await sign(license, { sid: 'a' }));
    const errors: unknown[] = [];
    a.socket.on('seat:error', (e) => errors.push(e));
    for (let i = 0; i < 5000; i++) a.socket.emit('session:activity');
    await sleep(500);
    expect(a.socket.connected).toBe(true);
    expect(errors).toEqual([]);
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(1);
    // Activity before a session holds a seat changes nothing either.
    const denied = connect(url, await sign(license, { sid: 'b' }));
    denied.emit('session:activity');
    expect((await admission(denied)).kind).toBe('denied');
  });

  it('the license settings are checked: bounds, null for off, and a PATCH that turns it on applies from then', async () => {
    const { url, api } = await startServer({ config: { inactivityTimeoutMinSec: 2, inactivityTimeoutMaxSec: 100 } });
    const { license, admin } = await api.setup({ seats: 2 });
    expect(license).toMatchObject({ inactivityTimeoutSec: null, inactivityWarningSec: 60 });
    const tooShort = await admin.call('PATCH', `/licenses/${license.id}`, { inactivityTimeoutSec: 1 });
    expect(tooShort.status).toBe(422);
    expect(tooShort.body.error.message).toContain('inactivityTimeoutSec');
    expect((await admin.call('PATCH', `/licenses/${license.id}`, { inactivityWarningSec: -1 })).status).toBe(422);
    expect((await admin.call('PATCH', `/licenses/${license.id}`, { inactivityTimeoutSec: 'soon' })).status).toBe(400);
    expect((await admin.ok('GET', `/licenses/${license.id}`)).inactivityTimeoutSec).toBeNull();
    // Off: a quiet session keeps its seat.
    const a = await granted(url, await sign(license, { sid: 'a' }));
    await sleep(2500);
    expect(a.socket.connected).toBe(true);
    // On: counted from the change, not from the grant; the quiet session goes once the timeout passes.
    const on = Date.now();
    await admin.ok('PATCH', `/licenses/${license.id}`, { inactivityTimeoutSec: 2, inactivityWarningSec: 0 });
    const ended = await nextEvent(a.socket, 'session:ended', 5000);
    expect(ended.reason).toBe('inactive');
    expect(Date.now() - on).toBeGreaterThanOrEqual(2000);
    await until(async () => (await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse === 0);
  });

  it('counts a grant answered late (a store that was slow) from when its client was told, not from the admission\'s start', async () => {
    // A real store whose admissions answer 1.5 s late, as one does while PostgreSQL restarts.
    const real = openStore({ databaseUrl: ':memory:', pgPoolSize: 1 });
    let slow = false;
    const store = new Proxy(real, {
      get(target, prop) {
        if (prop === 'admit') {
          return async (...args: Parameters<typeof real.admit>) => {
            const outcome = await target.admit(...args);
            if (slow) await sleep(1500);
            return outcome;
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const { url, api } = await startServer({ store, config: { inactivityTimeoutMinSec: 2, inactivityTimeoutMaxSec: 100, sweepIntervalMs: 100 } });
    const { license } = await api.setup({ seats: 1, inactivityTimeoutSec: 2, inactivityWarningSec: 0 });
    slow = true;
    const a = await granted(url, await sign(license, { sid: 'late' }));
    const toldAt = Date.now();
    const ended = await nextEvent(a.socket, 'session:ended', 6000);
    expect(ended.reason).toBe('inactive');
    // Two seconds without activity from the grant as told; from the admission's start it would be 0.5 s.
    expect(Date.now() - toldAt).toBeGreaterThanOrEqual(1800);
  });
});
