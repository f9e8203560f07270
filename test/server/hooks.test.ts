// Hooks for embedding code: typed async hooks see every decision, can refuse an admission, and
// the embedder can end a session from its own logic.
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { HookPayloads, SeatHooks } from '../../server/seats/hooks';
import { connectAndAdmit, granted, nextEvent, sign, startServer, until } from '../support/harness';

describe('server hooks', () => {
  it('run for start, resume, idle, end and denial, and onAdmission can refuse', async () => {
    const seen: string[] = [];
    const hooks: SeatHooks = {
      onAdmission: ({ claims }) => (claims.sub === 'blocked' ? { deny: 'Your account is locked' } : undefined),
      onSessionStarted: ({ session }) => void seen.push(`started:${session.sessionRef}`),
      onSessionResumed: ({ session }) => void seen.push(`resumed:${session.sessionRef}`),
      onSessionIdle: ({ session }) => void seen.push(`idle:${session.sessionRef}`),
      onSessionEnded: ({ session, reason }) => void seen.push(`ended:${session.sessionRef}:${reason}`),
      onDenied: ({ denial, message }) => void seen.push(`denied:${denial.reason}:${message}`),
    };
    const { url, api, server } = await startServer({ hooks });
    const { license, admin } = await api.setup({ seats: 1, idleTimeoutSec: 1 });
    const token = await sign(license, { sid: 'p1', sub: 'amy' });
    const a = await granted(url, token);
    const b = await granted(url, token);
    const refused = await connectAndAdmit(url, await sign(license, { sid: 'p2', sub: 'blocked' }));
    expect(refused.result).toMatchObject({ kind: 'denied', payload: { reason: 'denied_by_app', message: 'Your account is locked' } });
    a.socket.disconnect();
    b.socket.disconnect();
    await until(() => seen.includes('ended:p1:idle_timeout'), 5000);

    // The embedder ends a session from its own logic.
    const c = await granted(url, token);
    const ended = nextEvent(c.socket, 'session:ended');
    await server.engine.endSession(c.grant.sessionId, 'ended_by_app', 'Model run finished');
    expect(await ended).toEqual({ reason: 'ended_by_app', message: 'Model run finished' });
    await until(() => seen.includes('ended:p1:ended_by_app'));
    expect(seen).toEqual([
      'started:p1',
      'resumed:p1',
      'denied:denied_by_app:Your account is locked',
      'idle:p1',
      'ended:p1:idle_timeout',
      'started:p1',
      'ended:p1:ended_by_app',
    ]);
    expect((await admin.ok('GET', `/licenses/${license.id}/denials`)).denials[0]).toMatchObject({ reason: 'denied_by_app', userId: 'blocked' });
  });

  it('types each hook payload', () => {
    expectTypeOf<Parameters<NonNullable<SeatHooks['onSessionEnded']>>[0]>().toEqualTypeOf<HookPayloads['onSessionEnded']>();
    // `ended` (the reason is no longer on record) is only told to sockets; hooks see the real one.
    expectTypeOf<HookPayloads['onSessionEnded']['reason']>().toEqualTypeOf<'kicked' | 'ended_by_app' | 'license_suspended' | 'seats_reduced' | 'idle_timeout' | 'deactivated' | 'inactive' | 'ended' | 'license_deleted'>();
  });
});
