// A seat past its deadline is released at the next seat move the engine makes, not only by its
// timer: a mass disconnect holds the event loop in one poll phase for a second and more, and no
// timer fires in it (deadlines.ts).
import { onTestFinished } from 'vitest';
import { expect, it } from 'vitest';
import { parseConfig } from '../../server/config';
import type { DomainEvent } from '../../server/seats/hooks';
import { wireSeats } from '../../server/seat-server';
import { SqliteSeatStore } from '../../server/store/sqlite-store';
import { operator } from '../support/engine';
import { sign } from '../support/harness';

it('releases a seat whose deadline passed at the next seat move, while its timer has not fired', async () => {
  const store = SqliteSeatStore.open(':memory:');
  await store.migrate();
  // The engine's clock is ours: its deadline passes here while the real timer waits ten minutes.
  let now = Date.now();
  const config = parseConfig({}, { adminToken: 'operator-token-for-tests', idleTimeoutMinSec: 1, sweepIntervalMs: 3_600_000, logLevel: 'silent' });
  const parts = wireSeats(store, config, { now: () => now });
  await parts.start();
  onTestFinished(async () => {
    await parts.stop();
    await store.close();
  });
  const { engine, admin, auth } = parts;
  const events: DomainEvent[] = [];
  engine.subscribe((e) => events.push(e));
  const lic = await admin.createLicense(operator, { seats: 5, idleTimeoutSec: 600 });
  const admit = async (sid: string, socketId: string) => engine.admit(await auth.authenticate(await sign(lic, { sid })), socketId);

  await admit('gone', 'sock-gone');
  await admit('other', 'sock-other');
  await engine.detach('sock-gone');
  expect(events.at(-1)).toMatchObject({ type: 'session.idle', session: { sessionRef: 'gone' } });

  now += 601_000;
  await admit('third', 'sock-third');
  const ended = () => events.find((e) => e.type === 'session.ended');
  for (let i = 0; i < 50 && !ended(); i++) await new Promise((r) => setImmediate(r));
  expect(ended()).toMatchObject({ type: 'session.ended', reason: 'idle_timeout', session: { sessionRef: 'gone' } });
  expect((await store.getLicense(lic.id))?.seatsInUse).toBe(2);
});
