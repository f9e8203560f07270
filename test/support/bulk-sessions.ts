// Many live sessions written straight to the store (10,000 through sockets would take minutes),
// held by a node that keeps beating so the server does not reap its connection rows as orphans.
import { randomUUID } from 'node:crypto';
import { onTestFinished } from 'vitest';
import type { SeatStore } from '../../server/seats/seat-store';
import type { Claimant } from '../../server/seats/types';
import { claimant } from '../store/store-dialects';

export const BULK_NODE = 'bulk-node';

/** Beats for BULK_NODE until the test ends. */
export async function keepBulkNodeAlive(store: SeatStore): Promise<void> {
  await store.heartbeat(BULK_NODE, Date.now());
  const timer = setInterval(() => void store.heartbeat(BULK_NODE, Date.now()).catch(() => {}), 100);
  onTestFinished(() => clearInterval(timer));
}

/** `count` sessions on the license, the i-th started at `t0 + i` seconds, with `fields(i)` as its claimant's ids. */
export async function bulkSessions(store: SeatStore, licenseId: string, count: number, t0: number, fields: (i: number) => Partial<Claimant>): Promise<void> {
  await keepBulkNodeAlive(store);
  for (let i = 0; i < count; i++) {
    const f = fields(i);
    const o = await store.admit({ licenseId, socketId: randomUUID(), nodeId: BULK_NODE, claimant: claimant(f.sessionRef ?? `k${i}`, 1, f), now: t0 + i * 1000 });
    if (o.kind !== 'granted') throw new Error(`session ${i}: expected a grant, got ${o.kind}`);
  }
}
