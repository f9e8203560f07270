// Activity and inactivity in the store: the activity every node heard, written in one statement
// per flush; the sessions whose inactivity warning or release has come; the warning, marked once
// across nodes; and the release, one transaction under the license's lock as every release is.
import { sql } from 'kysely';
import { EndReason, SessionState } from '../../shared';
import { decideInactivity } from '../seats/decisions/inactivity';
import type { HeardThrough } from '../seats/seat-store';
import type { EndedSession, InactivityCandidate, License, Session } from '../seats/types';
import { toLicense, toSession } from './rows';
import { chunked, loadSession, releaseSession } from './seat-moves';
import type { Db, StoreContext } from './store-dialect';

export class Activity {
  constructor(private readonly s: StoreContext) {}

  /**
   * Records activity at `at` for these sessions (those with older activity on record), and ends
   * their pending warnings; returns the sessions whose warning it ended. One transaction, so a
   * warning marked meanwhile (on the activity it replaces) is either ended here or not marked.
   */
  async recordActivity(sessionIds: readonly string[], at: number): Promise<Array<{ sessionId: string; licenseId: string }>> {
    if (sessionIds.length === 0) return [];
    const { dialect } = this.s;
    return dialect.transaction(async (trx) => {
      // In id order, as an inactivity release locks them: two flushes, or a flush and a release,
      // never wait for each other's rows crosswise.
      await dialect.lockSessions?.(trx, sessionIds);
      const cleared: Array<{ sessionId: string; licenseId: string }> = [];
      for (const ids of chunked(sessionIds)) {
        const ended = await trx
          .updateTable('sessions')
          .set({ warned_at: null })
          .where('id', 'in', ids)
          .where('warned_at', 'is not', null)
          .returning(['id', 'license_id'])
          .execute();
        for (const r of ended) cleared.push({ sessionId: r.id, licenseId: r.license_id });
        await trx
          .updateTable('sessions')
          .set({ last_activity_at: at })
          .where('id', 'in', ids)
          .where((eb) => eb.or([eb('last_activity_at', 'is', null), eb('last_activity_at', '<', at)]))
          .execute();
      }
      return cleared;
    });
  }

  /**
   * Active sessions of licenses with an inactivity timeout whose warning time has come (their
   * release time too, or not yet: `decideInactivity` tells). Read through the license's
   * settings as they are now, so a changed timeout applies at once.
   */
  async inactivityDue(now: number): Promise<InactivityCandidate[]> {
    const rows = await this.s.db
      .selectFrom('sessions as s')
      .innerJoin('licenses as l', 'l.id', 's.license_id')
      .selectAll('s')
      .select(['l.inactivity_timeout_sec as timeout_sec', 'l.inactivity_warning_sec as warning_sec'])
      .where('l.inactivity_timeout_sec', 'is not', null)
      .where('s.state', '=', SessionState.Active)
      .where(sql<boolean>`coalesce(s.last_activity_at, s.started_at) + (l.inactivity_timeout_sec - l.inactivity_warning_sec) * 1000 <= ${now}`)
      .execute();
    return rows.map(({ timeout_sec, warning_sec, ...row }) => ({
      session: toSession(row, []),
      licenseId: row.license_id,
      inactivityTimeoutSec: Number(timeout_sec),
      inactivityWarningSec: Number(warning_sec),
    }));
  }

  /**
   * Marks the session warned at `now`, unless it was warned already or newer activity (or a
   * resume) came meanwhile: exactly one node's mark wins. Returns the session as marked.
   */
  async markWarned(sessionId: string, lastActivityAt: number, now: number): Promise<Session | undefined> {
    const { db, q } = this.s;
    const marked = await db
      .updateTable('sessions')
      .set({ warned_at: now })
      .where('id', '=', sessionId)
      .where('warned_at', 'is', null)
      .where('state', '=', SessionState.Active)
      .where(sql<boolean>`coalesce(last_activity_at, started_at) = ${lastActivityAt}`)
      .returning('id')
      .executeTakeFirst();
    return marked ? loadSession(q, db, sessionId) : undefined;
  }

  /**
   * Releases the license's sessions whose inactivity release has come (`inactive`), in one
   * transaction. With `heard`, only those whose deadline every live node's written activity has
   * passed: this node's horizon is given, the others' are on their heartbeat rows.
   */
  async releaseInactive(licenseId: string, now: number, flushMs: number, heard?: HeardThrough): Promise<EndedSession[]> {
    const { q, dialect } = this.s;
    return dialect.transaction(async (trx) => {
      const row = await dialect.lockLicense(trx, licenseId);
      if (!row) return [];
      let license: License = toLicense(row);
      if (license.inactivityTimeoutSec === null) return [];
      // Read before the sessions: activity written by a flush that moved a horizon read here is
      // committed, so the reads below see it.
      const through = heard ? await heardThrough(trx, heard) : Infinity;
      const live = await trx
        .selectFrom('sessions')
        .select('id')
        .where('license_id', '=', licenseId)
        .where('state', '=', SessionState.Active)
        .where(sql<boolean>`coalesce(last_activity_at, started_at) + ${license.inactivityTimeoutSec * 1000} <= ${Math.min(now - flushMs, through)}`)
        .execute();
      // Activity is written without the license's lock: a flush in flight may be about to commit
      // newer activity for these sessions. Wait for it, so the decision below reads it.
      await dialect.lockSessions?.(trx, live.map((r) => r.id));
      const ended: EndedSession[] = [];
      for (const { id } of live) {
        const session = await loadSession(q, trx, id);
        // Read under the lock: the decision stands on what is on record now.
        if (!session || decideInactivity(license, session, now, flushMs, through).kind !== 'release') continue;
        const seatsInUse = await releaseSession(q, trx, session, EndReason.Inactive, now);
        if (seatsInUse === undefined) continue;
        license = { ...license, seatsInUse };
        ended.push({ license, session, reason: EndReason.Inactive, seatsInUse });
      }
      return ended;
    });
  }
}

/**
 * Up to when every live node's activity is on record: this node's own horizon, and each other
 * node's as its last heartbeat wrote it (its heartbeat itself on a row from before the column).
 */
async function heardThrough(trx: Db, heard: HeardThrough): Promise<number> {
  const row = await trx
    .selectFrom('nodes')
    .select(sql<number | string | null>`min(coalesce(activity_through, heartbeat_at))`.as('through'))
    .where('id', '!=', heard.nodeId)
    .where('heartbeat_at', '>=', heard.liveSince)
    .executeTakeFirst();
  const others = row?.through === null || row?.through === undefined ? Infinity : Number(row.through);
  return Math.min(heard.through, others);
}
