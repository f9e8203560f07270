// The record of what happened: denials (kept for the retention period) and the seat history
// (every grant, resume, idle, release and denial with the seats in use after it), and the
// per-bucket counts the dashboard's charts draw from them.
import { sql } from 'kysely';
import type { DenyReason } from '../../shared';
import type { Denial, DenialCount, HistoryBucket } from '../seats/types';
import { toDenial } from './rows';
import { chunked, insertDenial } from './seat-moves';
import type { StoreContext } from './store-dialect';

export class History {
  constructor(private readonly s: StoreContext) {}

  /** Records a denial decided outside the store (a hook's refusal); returns the seats in use. */
  async recordDenial(denial: Denial): Promise<number> {
    const { q, dialect } = this.s;
    return dialect.transaction(async (trx) => {
      const [row] = (await q.seatsInUse(trx, { licenseId: denial.licenseId })).rows;
      const seatsInUse = Number(row?.seats_in_use ?? 0);
      await insertDenial(q, trx, denial, 1, seatsInUse);
      return seatsInUse;
    });
  }

  /** The license's denials, newest first, from `since` and before `until`. */
  async listDenials(licenseId: string, opts: { since?: number; until?: number; limit?: number } = {}): Promise<Denial[]> {
    const rows = await this.s.db
      .selectFrom('denials')
      .selectAll()
      .where('license_id', '=', licenseId)
      .$if(opts.since !== undefined, (q) => q.where('at', '>=', opts.since!))
      .$if(opts.until !== undefined, (q) => q.where('at', '<', opts.until!))
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .limit(opts.limit ?? 1000)
      .execute();
    return rows.map(toDenial);
  }

  /**
   * The newest `perLicense` denials of each of these licenses, in the order of `licenseIds`,
   * each license's newest first: one query (per 500 licenses), ranked by a window function.
   */
  async listLatestDenials(licenseIds: readonly string[], perLicense: number): Promise<Denial[]> {
    const byLicense = new Map<string, Denial[]>(licenseIds.map((id) => [id, []]));
    for (const ids of chunked([...byLicense.keys()])) {
      const ranked = this.s.db
        .selectFrom('denials')
        .selectAll()
        .select((eb) =>
          eb.fn
            .agg<number>('row_number')
            .over((ob) => ob.partitionBy('license_id').orderBy('at', 'desc').orderBy('id', 'desc'))
            .as('rank'),
        )
        .where('license_id', 'in', ids);
      const rows = await this.s.db
        .selectFrom(ranked.as('d'))
        .selectAll()
        .where('rank', '<=', perLicense)
        .orderBy('at', 'desc')
        .orderBy('id', 'desc')
        .execute();
      for (const r of rows) byLicense.get(r.license_id)!.push(toDenial(r));
    }
    return [...byLicense.values()].flat();
  }

  /**
   * The number of denials of every license and reason since `since` (the metrics' gauges): one
   * grouped query for all licenses. A license or reason without denials has no row.
   */
  async countDenials(since: number): Promise<DenialCount[]> {
    const rows = await this.s.db
      .selectFrom('denials')
      .select(['license_id', 'reason', (eb) => eb.fn.countAll<number | string | bigint>().as('n')])
      .where('at', '>=', since)
      .groupBy(['license_id', 'reason'])
      .orderBy('license_id')
      .orderBy('reason')
      .execute();
    return rows.map((r) => ({ licenseId: r.license_id, reason: r.reason as DenyReason, count: Number(r.n) }));
  }

  /** Denials and peak seats in use per bucket of `bucketMs`, from `since` to `until`. */
  async history(licenseId: string, since: number, until: number, bucketMs: number): Promise<HistoryBucket[]> {
    const { db } = this.s;
    // Integer division on both stores: better-sqlite3 binds a JS number as a REAL, which would
    // make every event a bucket of its own.
    const bucket = sql<number>`(${sql.ref('at')} - cast(${since} as bigint)) / cast(${bucketMs} as bigint)`;
    const denials = await db
      .selectFrom('denials')
      .select([bucket.as('b'), (eb) => eb.fn.countAll<number>().as('n')])
      .where('license_id', '=', licenseId)
      .where('at', '>=', since)
      .where('at', '<', until)
      .groupBy(sql`1`)
      .execute();
    const moves = await db
      .selectFrom('seat_events')
      .select([bucket.as('b'), (eb) => eb.fn.max('seats_in_use').as('peak'), (eb) => eb.fn.max('id').as('last')])
      .where('license_id', '=', licenseId)
      .where('at', '>=', since)
      .where('at', '<', until)
      .groupBy(sql`1`)
      .execute();
    const lastIds = moves.map((m) => Number(m.last));
    const lasts = lastIds.length
      ? await db.selectFrom('seat_events').select(['id', 'seats_in_use']).where('id', 'in', lastIds).execute()
      : [];
    const before = await db
      .selectFrom('seat_events')
      .select('seats_in_use')
      .where('license_id', '=', licenseId)
      .where('at', '<', since)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();

    const lastById = new Map(lasts.map((l) => [Number(l.id), Number(l.seats_in_use)]));
    const denialsBy = new Map(denials.map((d) => [Number(d.b), Number(d.n)]));
    const movesBy = new Map(moves.map((m) => [Number(m.b), { peak: Number(m.peak), last: lastById.get(Number(m.last)) ?? 0 }]));
    const buckets: HistoryBucket[] = [];
    // A bucket where nothing moved still holds the seats left by the last event before it.
    let carried = before ? Number(before.seats_in_use) : 0;
    const count = Math.max(0, Math.ceil((until - since) / bucketMs));
    for (let i = 0; i < count; i++) {
      const moved = movesBy.get(i);
      buckets.push({
        at: since + i * bucketMs,
        denials: denialsBy.get(i) ?? 0,
        peakSeatsInUse: Math.max(carried, moved?.peak ?? 0),
      });
      if (moved) carried = moved.last;
    }
    return buckets;
  }

  /** Deletes denials and seat history older than `before` (and kick cool-downs long over). */
  async pruneHistory(before: number): Promise<number> {
    const { db } = this.s;
    const a = await db.deleteFrom('denials').where('at', '<', before).executeTakeFirst();
    const b = await db.deleteFrom('seat_events').where('at', '<', before).executeTakeFirst();
    await db.deleteFrom('kick_cooldowns').where('until', '<', before).execute();
    return Number(a.numDeletedRows) + Number(b.numDeletedRows);
  }
}
