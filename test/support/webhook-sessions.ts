// A server on SQLite with fast webhook settings, a license of 1,000 seats and its admin, for the
// webhook suites that drive sessions straight through the store (many events waiting for the
// worker at once) and end them through the API.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { SqliteSeatStore } from '../../server/store/sqlite-store';
import { claimant } from '../store/store-dialects';
import { type Api, startServer, tempDir } from './harness';

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

