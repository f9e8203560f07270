// A seat past its deadline is released at the next seat move the engine makes, not only by its
// timer: a mass disconnect holds the event loop in one poll phase for a second and more, and no
// timer fires in it (deadlines.ts).
import { expect, it } from 'vitest';
import { engineWithLicense } from '../support/engine';

it('releases a seat whose deadline passed at the next seat move, while its timer has not fired', async () => {
  // The engine's clock is ours: its deadline passes here while the real timer waits ten minutes,
  // and the backstop sweep waits an hour.
  let now = Date.now();
  const { engine, admit, events, store, lic } = await engineWithLicense({ seats: 5, idleTimeoutSec: 600 }, { now: () => now, sweepIntervalMs: 3_600_000 });

  const gone = await admit({ sid: 'gone' });
  await admit({ sid: 'other' });
  await engine.detach(gone.socketId);
  expect(events.at(-1)).toMatchObject({ type: 'session.idle', session: { sessionRef: 'gone' } });

  now += 601_000;
  await admit({ sid: 'third' });
  const ended = () => events.find((e) => e.type === 'session.ended');
  for (let i = 0; i < 50 && !ended(); i++) await new Promise((r) => setImmediate(r));
  expect(ended()).toMatchObject({ type: 'session.ended', reason: 'idle_timeout', session: { sessionRef: 'gone' } });
  expect((await store.getLicense(lic.id))?.seatsInUse).toBe(2);
});
