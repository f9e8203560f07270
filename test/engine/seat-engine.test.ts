// The seat parts on their own: no express, no socket.io (wireSeats builds no server). A real
// SQLite store in memory, the engine's and administration's API, and the domain event stream.
import { describe, expect, it, onTestFinished } from 'vitest';
import { parseConfig } from '../../server/config';
import type { DomainEvent } from '../../server/seats/hooks';
import { wireSeats } from '../../server/seat-server';
import type { Actor } from '../../server/seats/actor';
import type { VerifiedToken } from '../../server/seats/token-verifier';
import { SqliteSeatStore } from '../../server/store/sqlite-store';
import { sign, until } from '../support/harness';

const operator: Actor = { kind: 'operator' };

async function engineWithLicense(license: Record<string, unknown> = {}) {
  const store = SqliteSeatStore.open(':memory:');
  await store.migrate();
  const config = parseConfig({}, { adminToken: 'operator-token-for-tests', idleTimeoutMinSec: 1, kickCooldownSec: 60, sweepIntervalMs: 100, logLevel: 'silent' });
  const parts = wireSeats(store, config);
  const { engine, admin, auth } = parts;
  await parts.start();
  onTestFinished(async () => {
    await parts.stop();
    await store.close();
  });
  const events: DomainEvent[] = [];
  engine.subscribe((e) => events.push(e));
  const lic = await admin.createLicense(operator, { seats: 2, idleTimeoutSec: 1, ...license });
  let socket = 0;
  const admit = async (claims: Record<string, unknown>) => {
    const verified: VerifiedToken = await auth.authenticate(await sign(lic, claims));
    const socketId = `sock-${++socket}`;
    return { socketId, result: await engine.admit(verified, socketId) };
  };
  return { engine, admin, parts, store, lic, events, admit };
}

describe('SeatEngine', () => {
  it('grants, resumes by seat key, and denies past the seats with the license message', async () => {
    const { admit, events, lic } = await engineWithLicense({ seats: 2, seatKey: ['user'], deniedMessage: 'Full' });
    const a = await admit({ sub: 'amy', dev: 'x' });
    const a2 = await admit({ sub: 'amy', dev: 'y' });
    const b = await admit({ sub: 'bob' });
    const c = await admit({ sub: 'cy' });
    expect('granted' in a.result && a.result.granted).toMatchObject({ resumed: false, seatsInUse: 1, licenseId: lic.id });
    expect('granted' in a2.result && a2.result.granted).toMatchObject({ resumed: true, seatsInUse: 1 });
    expect('granted' in b.result && b.result.granted.seatsInUse).toBe(2);
    expect('denied' in c.result && c.result.denied).toEqual({ reason: 'no_free_seats', message: 'Full', seatsInUse: 2, seats: 2 });
    expect(events.map((e) => e.type)).toEqual(['license.changed', 'audit', 'session.started', 'session.resumed', 'session.started', 'denied']);
  });

  it('holds an idle seat until its deadline, then releases it by its own timer', async () => {
    const { engine, admit, events, store, lic } = await engineWithLicense({ seats: 1, idleTimeoutSec: 1 });
    const a = await admit({ sid: 'p' });
    const t2 = await admit({ sid: 'p' });
    await engine.detach(a.socketId);
    expect(events.at(-1)?.type).toBe('session.detached');
    await engine.detach(t2.socketId);
    const idle = events.at(-1);
    expect(idle?.type).toBe('session.idle');
    const deadline = (idle as Extract<DomainEvent, { type: 'session.idle' }>).session.expiresAt!;
    expect((await store.getLicense(lic.id))?.seatsInUse).toBe(1);
    await until(() => events.some((e) => e.type === 'session.ended'), 3000, 5);
    const late = Date.now() - deadline;
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThan(1000);
    expect(events.at(-1)).toMatchObject({ type: 'session.ended', reason: 'idle_timeout', seatsInUse: 0 });
    expect((await store.getLicense(lic.id))?.seatsInUse).toBe(0);
  });

  it('kicks with a cool-down, ends by app without one, and checks limits on license changes', async () => {
    const { engine, admin, admit, lic } = await engineWithLicense({ seats: 3, seatCap: 5 });
    const a = await admit({ sid: 'a' });
    const b = await admit({ sid: 'b' });
    if (!('granted' in a.result) || !('granted' in b.result)) throw new Error('expected grants');
    await engine.kick(operator, a.result.granted.sessionId, 'sorry');
    const again = await admit({ sid: 'a' });
    expect('denied' in again.result && again.result.denied.reason).toBe('kicked');
    await engine.endSession(b.result.granted.sessionId);
    const back = await admit({ sid: 'b' });
    expect('granted' in back.result).toBe(true);
    await expect(admin.updateLicense(operator, lic.id, { seats: 6 })).rejects.toMatchObject({ code: 'out_of_range' });
    await expect(admin.updateLicense(operator, lic.id, { idleTimeoutSec: 999_999 })).rejects.toMatchObject({ code: 'out_of_range' });
    await expect(engine.kick(operator, 'no-such-session')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('on start, releases connections of a previous life so their sessions go idle and can resume', async () => {
    const { parts, admit, store, lic } = await engineWithLicense({ seats: 1, idleTimeoutSec: 30 });
    const a = await admit({ sid: 'p' });
    if (!('granted' in a.result)) throw new Error('expected a grant');
    await parts.stop();
    // A second node life on the same store, as after a crash: the old connection row is stale.
    const next = wireSeats(store, parseConfig({}, { adminToken: 'operator-token-for-tests', logLevel: 'silent' }));
    await next.start();
    onTestFinished(() => next.stop());
    const [session] = await store.listSessions(lic.id);
    expect(session).toMatchObject({ id: a.result.granted.sessionId, state: 'idle', sockets: 0 });
    const verified = await next.auth.authenticate(await sign(lic, { sid: 'p' }));
    const resumed = await next.engine.admit(verified, 'new-socket');
    expect('granted' in resumed && resumed.granted).toMatchObject({ resumed: true, sessionId: a.result.granted.sessionId });
  });
});
