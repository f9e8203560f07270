// A server on SQLite with fast webhook settings, a license of 1,000 seats and its admin, for the
// webhook suites that drive sessions straight through the store (many events waiting for the
// worker at once) and end them through the API.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { expect } from 'vitest';
import type { DeliverySettings } from '../../server/seats/webhook-store';
import { SqliteSeatStore } from '../../server/store/sqlite-store';
import { claimant } from '../store/store-dialects';
import { type Api, sleep, startServer, tempDir, until } from './harness';

export const FAST_WEBHOOKS = { WEBHOOK_ALLOW_PRIVATE: 'on', WEBHOOK_RETRY_BASE_MS: '100', WEBHOOK_RETRY_MAX_MS: '400', WEBHOOK_POLL_MS: '50', WEBHOOK_TIMEOUT_MS: '2000' };

/** `n` sessions granted straight in the store (all waiting for the worker at once), then each ended through the API, in order. */
export async function startAndEnd(store: SqliteSeatStore, admin: Api, licenseId: string, n: number): Promise<string[]> {
  const sessions: string[] = [];
  for (let i = 0; i < n; i++) {
    const out = await store.admit({ licenseId, socketId: randomUUID(), nodeId: 'elsewhere', claimant: claimant(randomUUID()), now: Date.now() });
    sessions.push((out as { session: { id: string } }).session.id);
  }
  for (const id of sessions) await admin.ok('DELETE', `/sessions/${id}`);
  return sessions;
}

export async function setup(env: Record<string, string> = {}) {
  const store = SqliteSeatStore.open(path.join(tempDir(), 'seats.db'));
  await store.migrate();
  const { api } = await startServer({ store, env: { ...FAST_WEBHOOKS, ...env } });
  const { license, admin } = await api.setup({ seats: 1000 });
  return { store, license, admin, api };
}


/**
 * A webhook to `url` (of session.started), one event delivered, then `settings` written straight
 * into the store as another node's PATCH leaves them, and after a claim renewal (a third of
 * WEBHOOK_CLAIM_MS) twelve more sessions; settles once `delivered()` counts all thirteen events.
 */
export async function changedOnAnotherNode(url: string, settings: DeliverySettings, delivered: () => number): Promise<void> {
  const { store, license, admin } = await setup({ WEBHOOK_CLAIM_MS: '3000', WEBHOOK_TIMEOUT_MS: '1000' });
  const made = await admin.ok('POST', '/webhooks', { url, events: ['session.started'], licenseId: license.id });
  await startAndEnd(store, admin, license.id, 1);
  await until(() => delivered() >= 1, 10_000);
  expect(await store.webhooks.setDelivery(made.id, settings)).toBe(true);
  await sleep(1500);
  await startAndEnd(store, admin, license.id, 12);
  await until(() => delivered() >= 13, 20_000);
}
