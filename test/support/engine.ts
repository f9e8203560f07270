// The seat parts on their own: no express, no socket.io (wireSeats builds no server). A real
// SQLite store in memory, the engine's and administration's API, and the domain event stream.
import { onTestFinished } from 'vitest';
import { parseConfig } from '../../server/config';
import type { DomainEvent } from '../../server/seats/hooks';
import { wireSeats } from '../../server/seat-server';
import type { Actor } from '../../server/seats/actor';
import type { VerifiedToken } from '../../server/seats/token-verifier';
import { SqliteSeatStore } from '../../server/store/sqlite-store';
import { sign } from './harness';

export const operator: Actor = { kind: 'operator' };

/**
 * The seat parts started over a fresh store, with one license (2 seats, 1 s idle unless given); stopped after the test.
 * `now`: the parts' clock (the real one unless given); `sweepIntervalMs`: the backstop sweep's interval (100 ms).
 */
export async function engineWithLicense(license: Record<string, unknown> = {}, opts: { now?: () => number; sweepIntervalMs?: number } = {}) {
  const store = SqliteSeatStore.open(':memory:');
  await store.migrate();
  const config = parseConfig({}, { adminToken: 'operator-token-for-tests', idleTimeoutMinSec: 1, kickCooldownSec: 60, sweepIntervalMs: opts.sweepIntervalMs ?? 100, logLevel: 'silent' });
  const parts = wireSeats(store, config, { now: opts.now });
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
