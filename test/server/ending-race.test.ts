// An ending that races an admission: a socket whose admission resumed a session just before the
// session ended (another tab's `session:end`, a kick) must be told why, like the session's other
// sockets, not cut off without a word. Found by the soak (seed 5, --sqlite).
import { describe, expect, it } from 'vitest';
import type { SeatEngine } from '../../server/seats/seat-engine';
import type { SeatStore } from '../../server/seats/seat-store';
import { openStore } from '../../server/store/open-store';
import { admission, connect, granted, nextEvent, sign, startServer } from '../support/harness';

/**
 * A real store whose admissions, once a resume has committed, wait for `meanwhile` before the
 * engine hears of them: the window in which another transaction can end the resumed session.
 */
function slowResumes(store: SeatStore, meanwhile: (sessionId: string) => Promise<unknown>): SeatStore {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'admit') {
        return async (req: Parameters<SeatStore['admit']>[0]) => {
          const outcome = await target.admit(req);
          if (outcome.kind === 'granted' && outcome.resumed) await meanwhile(outcome.session.id);
          return outcome;
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('an ending that races an admission', () => {
  it('tells the socket that resumed the session just before it ended, with the reason', async () => {
    const late: { engine?: SeatEngine } = {};
    const store = slowResumes(openStore({ databaseUrl: ':memory:', pgPoolSize: 1 }), async (sessionId) => {
      await late.engine!.endSession(sessionId, 'ended_by_app', 'Ended by the app');
      // Past the tick in which the ending lets the session's sockets go.
      await new Promise((r) => setImmediate(r));
    });
    const { url, server, api } = await startServer({ store });
    late.engine = server.engine;
    const { license } = await api.setup({ seats: 2 });
    const token = await sign(license, { sid: 'portal-1' });

    const first = await granted(url, token);
    const firstEnded = nextEvent(first.socket, 'session:ended');
    const second = connect(url, token);
    const ended = nextEvent<{ reason: string; message: string }>(second, 'session:ended', 5000);
    const outcome = await admission(second);
    expect(outcome.kind).toBe('granted');
    expect(await ended).toEqual({ reason: 'ended_by_app', message: 'Ended by the app' });
    expect(await firstEnded).toMatchObject({ reason: 'ended_by_app' });
    expect(await api.ok('GET', `/licenses/${license.id}`)).toMatchObject({ seatsInUse: 0 });
  });
});
