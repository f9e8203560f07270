// The admin snapshot's sessions: each license's newest `perLicense` live sessions and every
// license's count, without reading the rest (a license of 10,000 sessions sends its newest 200; the
// board reads the others page by page).
import { chunked } from './seat-moves';
import { type ConnectionFacts, toSession } from './rows';
import type { Db } from './store-dialect';
import type { Session } from '../seats/types';

/** In the order of `licenseIds`, each license's sessions oldest first (as listSessionsOf), and the counts (licenses with none left out). */
export async function newestSessionsOf(db: Db, licenseIds: readonly string[], perLicense: number): Promise<{ sessions: Session[]; totals: Map<string, number> }> {
  const byLicense = new Map<string, Session[]>(licenseIds.map((id) => [id, []]));
  const totals = new Map<string, number>();
  for (const ids of chunked([...byLicense.keys()])) {
    const counts = await db
      .selectFrom('sessions')
      .select((eb) => ['license_id', eb.fn.countAll<number | string>().as('n')])
      .where('license_id', 'in', ids)
      .groupBy('license_id')
      .execute();
    for (const c of counts) totals.set(c.license_id, Number(c.n));
    if (counts.length === 0) continue;
    const ranked = db
      .selectFrom('sessions')
      .selectAll()
      .select((eb) =>
        eb.fn
          .agg<number>('row_number')
          .over((ob) => ob.partitionBy('license_id').orderBy('started_at', 'desc').orderBy('id', 'desc'))
          .as('rank'),
      )
      .where('license_id', 'in', ids);
    const rows = await db.selectFrom(ranked.as('s')).selectAll().where('rank', '<=', perLicense).orderBy('started_at', 'asc').orderBy('id', 'asc').execute();
    const bySession = new Map<string, ConnectionFacts[]>();
    for (const sessionIds of chunked(rows.map((r) => r.id))) {
      const conns = await db.selectFrom('connections').select(['session_id', 'app', 'renew_by']).where('session_id', 'in', sessionIds).execute();
      for (const c of conns) {
        const list = bySession.get(c.session_id) ?? [];
        list.push(c);
        bySession.set(c.session_id, list);
      }
    }
    for (const { rank: _rank, ...r } of rows) byLicense.get(r.license_id)!.push(toSession(r, bySession.get(r.id) ?? []));
  }
  return { sessions: [...byLicense.values()].flat(), totals };
}

/**
 * One page of a license's sessions by start time (ties by id), optionally of one user or state,
 * with the license's count and the count that matches: the session table's default view, read
 * without the rest of the license. (Text search and the other sorts are done over the whole license
 * in server/seats/session-page.ts, with the same order.)
 */
export async function sessionsByStart(
  db: Db,
  licenseId: string,
  { user, state, order, limit, offset }: { user?: string; state?: string; order: 'asc' | 'desc'; limit: number; offset: number },
): Promise<{ sessions: Session[]; total: number; matched: number }> {
  const matching = db
    .selectFrom('sessions')
    .where('license_id', '=', licenseId)
    .$if(user !== undefined, (q) => q.where('user_id', '=', user!))
    .$if(state !== undefined, (q) => q.where('state', '=', state!));
  const count = (q: typeof matching) => q.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow().then((r) => Number(r.n));
  const [total, matched, rows] = await Promise.all([
    count(db.selectFrom('sessions').where('license_id', '=', licenseId)),
    count(matching),
    matching.selectAll().orderBy('started_at', order).orderBy('id', 'asc').limit(limit).offset(offset).execute(),
  ]);
  const bySession = new Map<string, ConnectionFacts[]>();
  if (rows.length) {
    const conns = await db.selectFrom('connections').select(['session_id', 'app', 'renew_by']).where('session_id', 'in', rows.map((r) => r.id)).execute();
    for (const c of conns) {
      const list = bySession.get(c.session_id) ?? [];
      list.push(c);
      bySession.set(c.session_id, list);
    }
  }
  return { sessions: rows.map((r) => toSession(r, bySession.get(r.id) ?? [])), total, matched };
}
