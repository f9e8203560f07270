// What the dashboard shows of the queues: each license's waiting claimants in order, with who
// they are and since when. Only entries whose socket is attached are listed, and positions count
// only those, as `queuePlaces` (queue.ts) tells the queued sockets themselves.
import type { Claimant, QueuedClaimant } from '../seats/types';
import { chunked } from './seat-moves';
import type { Db } from './store-dialect';

/**
 * The first `limit` waiting claimants of each of these licenses, in queue order, each with its
 * position and its license's whole queue length: one query per 500 licenses, ranked by a window
 * function, so a long queue costs one bounded read.
 */
export async function listQueues(db: Db, licenseIds: readonly string[], limit: number): Promise<QueuedClaimant[]> {
  const out: QueuedClaimant[] = [];
  for (const ids of chunked([...new Set(licenseIds)])) {
    const ranked = db
      .selectFrom('queue_entries')
      .select(['id', 'license_id', 'claimant', 'enqueued_at'])
      .select((eb) => [
        eb.fn.agg<number>('row_number').over((ob) => ob.partitionBy('license_id').orderBy('id')).as('position'),
        eb.fn.countAll<number>().over((ob) => ob.partitionBy('license_id')).as('length'),
      ])
      .where('license_id', 'in', ids)
      .where('left_at', 'is', null);
    const rows = await db.selectFrom(ranked.as('q')).selectAll().where('position', '<=', limit).orderBy('license_id').orderBy('id').execute();
    for (const r of rows) {
      const c = JSON.parse(r.claimant) as Claimant;
      out.push({
        licenseId: r.license_id,
        position: Number(r.position),
        queueLength: Number(r.length),
        sessionRef: c.sessionRef ?? null,
        userId: c.userId ?? null,
        deviceId: c.deviceId ?? null,
        instanceId: c.instanceId ?? null,
        group: c.group ?? null,
        name: c.name ?? null,
        app: c.app ?? null,
        weight: c.weight,
        since: Number(r.enqueued_at),
      });
    }
  }
  return out;
}
