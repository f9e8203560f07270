// App end: the app's own logic ends its session (`session:end`); every tab is told `ended_by_app`
// and the seat is free at once, with no cool-down (AIMMS PRO).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { granted, nextEvent, sign, startServer } from '../support/harness';
import { describeWith, type Postgres, postgresMissing, startPostgres } from '../support/services';

describe('app end', () => {
  it("the app's own logic ends its session and frees the seat at once", async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1 });
    const token = await sign(license, { sid: 'portal-a' });
    const a = await granted(url, token);
    const b = await granted(url, token);
    const endedOnB = nextEvent(b.socket, 'session:ended');
    const ack = await a.socket.timeout(5000).emitWithAck('session:end');
    expect(ack).toEqual({ ok: true });
    expect(await endedOnB).toMatchObject({ reason: 'ended_by_app' });
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(0);
    // Not a kick: the same portal session may take a seat again straight away.
    const again = await granted(url, token);
    expect(again.grant.resumed).toBe(false);
  });
  it('refuses `session:end` sent with a payload (it takes none; null and {} are none): the ack says bad_request, or seat:error without an ack, and the session stays', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 2 });
    const mine = await granted(url, await sign(license, { sid: 'mine' }));
    const other = await granted(url, await sign(license, { sid: 'other' }));
    const ack = await (mine.socket as any).timeout(5000).emitWithAck('session:end', { sessionId: other.grant.sessionId });
    expect(ack).toMatchObject({ ok: false, error: { code: 'bad_request', message: expect.stringContaining('no payload') } });
    const error = nextEvent(mine.socket, 'seat:error');
    (mine.socket as any).emit('session:end', 'not-a-function');
    expect(await error).toMatchObject({ code: 'bad_request' });
    const { sessions } = await admin.ok('GET', `/licenses/${license.id}/sessions`);
    expect(sessions.map((s: any) => [s.sessionRef, s.state]).sort()).toEqual([['mine', 'active'], ['other', 'active']]);
    expect(await (mine.socket as any).timeout(5000).emitWithAck('session:end', [])).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(2);
    // A null or an empty object (no payload) is none: the session ends as asked.
    expect(await (mine.socket as any).timeout(5000).emitWithAck('session:end', null)).toEqual({ ok: true });
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(1);
    expect(await (other.socket as any).timeout(5000).emitWithAck('session:end', {})).toEqual({ ok: true });
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(0);
  });
});

// On PostgreSQL each ending is a round trip of its own: the first to land ends the session while the
// others are still on their way, and its sockets are let go only once each has its own answer.
describeWith([postgresMissing()])('app end on PostgreSQL', () => {
  let pg: Postgres;
  beforeAll(async () => {
    pg = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await pg?.destroy();
  });

  it('every tab that sends `session:end` at the same moment gets its answer before it is let go, whichever of them ended the session', async () => {
    const { url, api } = await startServer({ databaseUrl: await pg.createDatabase('app_end') });
    const { license, admin } = await api.setup({ seats: 1 });
    const token = await sign(license, { sid: 'portal-a' });
    for (let round = 0; round < 5; round++) {
      const tabs = await Promise.all([0, 1, 2, 3].map(() => granted(url, token)));
      const ended = tabs.map((t) => nextEvent(t.socket, 'session:ended'));
      const acks = await Promise.all(tabs.map((t) => t.socket.timeout(5000).emitWithAck('session:end').catch((err: Error) => err.message)));
      expect(acks).toEqual([{ ok: true }, { ok: true }, { ok: true }, { ok: true }]);
      for (const e of ended) expect(await e).toMatchObject({ reason: 'ended_by_app' });
      await Promise.all(tabs.map((t) => (t.socket.connected ? nextEvent(t.socket, 'disconnect') : undefined)));
      expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(0);
    }
  });
});
