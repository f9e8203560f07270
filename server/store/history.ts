// The record of what happened: denials (kept for the retention period) and the seat history
// (every grant, resume, idle, release and denial with the seats in use after it), and the
// per-bucket counts the dashboard's charts draw from them.
import { type SelectQueryBuilder, sql } from 'kysely';
import type { DenyReason } from '../../shared';
import type { Denial, DenialCount, HistoryBucket } from '../seats/types';
import { foldHistory, stepOf } from './history-buckets';
import { toDenial } from './rows';
import type { Database } from './schema';
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

  /**
   * Per bucket [bounds[i], bounds[i + 1]): denials (by reason), the peak of seats in use, the
   * highest seat count in force, whether every seat was taken at some moment, and the queue's
   * grants and unmet demand (claimants that left it without a seat, with their average wait)
   * (history-buckets.ts).
   */
  async history(licenseId: string, bounds: readonly number[]): Promise<HistoryBucket[]> {
    if (bounds.length < 2) return [];
    const { db } = this.s;
    const since = bounds[0]!;
    const until = bounds.at(-1)!;
    // Rows are grouped in SQL by the largest step that divides every boundary (a day for UTC
    // days, an hour for days across a daylight-saving change), then added up per bucket. Integer
    // division on both stores: better-sqlite3 binds a JS number as a REAL, which would make every
    // event a step of its own.
    const stepMs = stepOf(bounds);
    const step = sql<number>`(${sql.ref('at')} - cast(${since} as bigint)) / cast(${stepMs} as bigint)`;
    const denials = await db
      .selectFrom('denials')
      .select([step.as('b'), 'reason', (eb) => eb.fn.countAll<number>().as('n')])
      .where('license_id', '=', licenseId)
      .where('at', '>=', since)
      .where('at', '<', until)
      .groupBy([sql`1`, 'reason'])
      .orderBy(sql`1`)
      .execute();
    // Queue waits that ended (a seat granted, or the claimant gone without one): unmet demand.
    const waits = await db
      .selectFrom('queue_waits')
      .select([
        step.as('b'),
        (eb) => eb.fn.sum<number>(sql`case when outcome = 'granted' then 1 else 0 end`).as('granted'),
        (eb) => eb.fn.sum<number>(sql`case when outcome = 'left' then 1 else 0 end`).as('left'),
        (eb) => eb.fn.sum<number>(sql`case when outcome = 'left' then waited_ms else 0 end`).as('left_ms'),
      ])
      .where('license_id', '=', licenseId)
      .where('at', '>=', since)
      .where('at', '<', until)
      .groupBy(sql`1`)
      .orderBy(sql`1`)
      .execute();
    // Each event with the seat count in force when it happened.
    const events = db
      .selectFrom('seat_events as e')
      .select(['e.id', 'e.at', 'e.seats_in_use', (eb) => seatsAt(eb.selectFrom('seat_counts as c'), 'e').as('seats_then')])
      .where('e.license_id', '=', licenseId)
      .where('e.at', '>=', since)
      .where('e.at', '<', until);
    const moves = await db
      .selectFrom(events.as('x'))
      .select([
        step.as('b'),
        (eb) => eb.fn.max('seats_in_use').as('peak'),
        (eb) => eb.fn.max('id').as('last'),
        (eb) => eb.fn.max(sql<number>`case when seats_then > 0 and seats_in_use >= seats_then then 1 else 0 end`).as('full'),
      ])
      .groupBy(sql`1`)
      .orderBy(sql`1`)
      .execute();
    const lastIds = moves.map((m) => Number(m.last));
    const lasts = lastIds.length
      ? await db.selectFrom('seat_events').select(['id', 'seats_in_use']).where('id', 'in', lastIds).execute()
      : [];
    const lastById = new Map(lasts.map((l) => [Number(l.id), Number(l.seats_in_use)]));
    // Each change of the seat count with the seats in use at that moment.
    const changes = await db
      .selectFrom('seat_counts as c')
      .select([
        'c.at',
        'c.seats',
        (eb) =>
          eb
            .selectFrom('seat_events as e')
            .select('e.seats_in_use')
            .whereRef('e.license_id', '=', 'c.license_id')
            .whereRef('e.at', '<=', 'c.at')
            .orderBy('e.at', 'desc')
            .orderBy('e.id', 'desc')
            .limit(1)
            .as('in_use'),
      ])
      .where('c.license_id', '=', licenseId)
      .where('c.at', '>=', since)
      .where('c.at', '<', until)
      .orderBy('c.at')
      .orderBy('c.id')
      .execute();
    const before = await db
      .selectFrom('seat_events')
      .select('seats_in_use')
      .where('license_id', '=', licenseId)
      .where('at', '<', since)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();

    return foldHistory({
      bounds,
      stepMs,
      moves: moves.map((m) => ({ step: Number(m.b), peak: Number(m.peak), last: lastById.get(Number(m.last)) ?? 0, full: Number(m.full) === 1 })),
      denials: denials.map((d) => ({ step: Number(d.b), reason: d.reason, count: Number(d.n) })),
      waits: waits.map((x) => ({ step: Number(x.b), granted: Number(x.granted), left: Number(x.left), leftWaitMs: Number(x.left_ms) })),
      changes: changes.map((c) => ({ at: Number(c.at), seats: Number(c.seats), inUse: Number(c.in_use ?? 0) })),
      inUseBefore: before ? Number(before.seats_in_use) : 0,
      seatsBefore: await this.seatsBefore(licenseId, since),
    });
  }

  /**
   * The seat count in force just before `since`; for a range that starts before the license
   * existed, its first seat count (and with no record at all, as a license row without one would
   * be, its seats now).
   */
  private async seatsBefore(licenseId: string, since: number): Promise<number> {
    const { db } = this.s;
    const row =
      (await seatsAt(db.selectFrom('seat_counts as c'), since).where('c.license_id', '=', licenseId).executeTakeFirst()) ??
      (await db.selectFrom('seat_counts as c').select('c.seats').where('c.license_id', '=', licenseId).orderBy('c.at').orderBy('c.id').limit(1).executeTakeFirst()) ??
      (await db.selectFrom('licenses').select('seats').where('id', '=', licenseId).executeTakeFirst());
    return Number(row?.seats ?? 0);
  }

  /** Deletes denials and seat history older than `before` (and kick cool-downs long over). */
  async pruneHistory(before: number): Promise<number> {
    const { db } = this.s;
    const a = await db.deleteFrom('denials').where('at', '<', before).executeTakeFirst();
    const b = await db.deleteFrom('seat_events').where('at', '<', before).executeTakeFirst();
    await db.deleteFrom('queue_waits').where('at', '<', before).execute();
    // Seat counts too, but never the one in force at `before`: the oldest bucket kept still
    // knows its seats. A change goes when a later one (at or before `before`) replaced it.
    await db
      .deleteFrom('seat_counts as c')
      .where('c.at', '<', before)
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom('seat_counts as n')
            .select('n.id')
            .whereRef('n.license_id', '=', 'c.license_id')
            .where('n.at', '<=', before)
            .where((w) => w.or([w('n.at', '>', w.ref('c.at')), w.and([w('n.at', '=', w.ref('c.at')), w('n.id', '>', w.ref('c.id'))])])),
        ),
      )
      .execute();
    await db.deleteFrom('kick_cooldowns').where('until', '<', before).execute();
    return Number(a.numDeletedRows) + Number(b.numDeletedRows);
  }
}

/**
 * The seat count in force at a time (a number), or at the time of an outer row (`e`, correlated):
 * the newest change at or before it.
 */
function seatsAt<O>(from: SelectQueryBuilder<Database & { c: Database['seat_counts'] }, 'c', O>, at: number | 'e') {
  return from
    .select('c.seats')
    .$if(at === 'e', (q) => q.whereRef('c.license_id', '=', sql.ref('e.license_id')).whereRef('c.at', '<=', sql.ref('e.at')))
    .$if(at !== 'e', (q) => q.where('c.at', '<=', at as number))
    .orderBy('c.at', 'desc')
    .orderBy('c.id', 'desc')
    .limit(1);
}
