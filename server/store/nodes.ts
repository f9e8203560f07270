// Node liveness in the store: heartbeats, declaring nodes dead, and letting go of a node's
// connection rows (its sessions go idle and expire as usual).
import type { QueuesLeft } from '../seats/seat-store';
import type { DetachOutcome } from '../seats/types';
import { toLicense } from './rows';
import { idleOrphans, loadSession } from './seat-moves';
import type { StoreContext } from './store-dialect';

export class Nodes {
  constructor(private readonly s: StoreContext) {}

  /**
   * Writes the node's heartbeat, with how far the activity it heard is on record (else `now`);
   * false when its row was missing (a first beat, or it was declared dead).
   */
  async heartbeat(nodeId: string, now: number, activityThrough = now): Promise<boolean> {
    const beat = { heartbeat_at: now, activity_through: activityThrough };
    // On a connection of its own where the dialect has one: a beat queued behind the pool's work lands late.
    const db = this.s.dialect.liveness ?? this.s.db;
    const updated = await db.updateTable('nodes').set(beat).where('id', '=', nodeId).executeTakeFirst();
    if (Number(updated.numUpdatedRows) > 0) return true;
    await db
      .insertInto('nodes')
      .values({ id: nodeId, started_at: now, ...beat })
      .onConflict((oc) => oc.column('id').doUpdateSet(beat))
      .execute();
    return false;
  }

  /**
   * Declares nodes dead: those beating before `deadBefore` (and every node but `keep` when
   * `allOthers`). Their connection rows go; sessions left without one go idle from the moment
   * their rows go (`clock`, else `now`), so a slow pass does not shorten their hold.
   *
   * A node listed as dead may beat again before its rows go (it was slow, not dead). Its node row
   * is removed first, only if still stale: a node that beats after that finds itself declared dead
   * and lets its sockets go (they reconnect and resume). Each license's rows are let go only while
   * the node has not beaten again, so no row of a live node's socket goes behind its back.
   */
  async reapNodes(opts: { deadBefore: number; now: number; keep: string; allOthers?: boolean; clock?: () => number; queuesLeft?: QueuesLeft }): Promise<DetachOutcome[]> {
    const { db } = this.s;
    const dead = await db
      .selectFrom('nodes')
      .select('id')
      .where('id', '!=', opts.keep)
      .$if(!opts.allOthers, (q) => q.where('heartbeat_at', '<', opts.deadBefore))
      .execute();
    // Connection rows of nodes that never wrote a heartbeat row (or whose row is gone) are orphans too.
    const known = await db.selectFrom('nodes').select('id').where('heartbeat_at', '>=', opts.deadBefore).execute();
    const alive = new Set(opts.allOthers ? [opts.keep] : [opts.keep, ...known.map((n) => n.id)]);
    // HTTP leases (renew_by set) belong to no node: their deadline lets them go (server/store/leases.ts).
    const nodeIds = await db.selectFrom('connections').select('node_id').distinct().where('renew_by', 'is', null).execute();
    const targets = new Set([...dead.map((d) => d.id), ...nodeIds.map((n) => n.node_id).filter((n) => !alive.has(n))]);
    const outcomes: DetachOutcome[] = [];
    for (const nodeId of targets) {
      if (!opts.allOthers) {
        await db.deleteFrom('nodes').where('id', '=', nodeId).where('heartbeat_at', '<', opts.deadBefore).execute();
      }
      const aliveSince = opts.allOthers ? undefined : opts.deadBefore;
      outcomes.push(...(await this.releaseNode(nodeId, opts.now, { aliveSince, clock: opts.clock, queuesLeft: opts.queuesLeft })));
    }
    return outcomes;
  }

  /**
   * Drops a node's connection rows and its node row; its sessions go idle. A graceful stop (or a
   * restart) lets go of its own. With `aliveSince` (a reap), a node that has beaten since then is
   * alive after all: nothing more of it is let go.
   */
  async releaseNode(nodeId: string, now: number, opts: { aliveSince?: number; clock?: () => number; queuesLeft?: QueuesLeft } = {}): Promise<DetachOutcome[]> {
    const { db, q, dialect } = this.s;
    const licenses = await db
      .selectFrom('connections')
      .select('license_id')
      .distinct()
      .where('node_id', '=', nodeId)
      .where('renew_by', 'is', null)
      .execute();
    const outcomes: DetachOutcome[] = [];
    let back = false;
    for (const { license_id } of licenses) {
      const released = await dialect.transaction(async (trx) => {
        const row = await dialect.lockLicense(trx, license_id);
        if (opts.aliveSince !== undefined) {
          const beat = await trx.selectFrom('nodes').select('id').where('id', '=', nodeId).where('heartbeat_at', '>=', opts.aliveSince).executeTakeFirst();
          if (beat) {
            back = true;
            return [];
          }
        }
        const gone = await trx
          .deleteFrom('connections')
          .where('node_id', '=', nodeId)
          .where('license_id', '=', license_id)
          .where('renew_by', 'is', null)
          .returning('session_id')
          .execute();
        if (!row) return [];
        const at = Math.max(now, opts.clock?.() ?? now);
        const license = toLicense(row);
        const sessionIds = [...new Set(gone.map((g) => g.session_id))];
        const idled = await idleOrphans(q, trx, license, sessionIds, at);
        // A session with tabs on other nodes stays live with one tab fewer: told as a socket leaving is.
        const idledIds = new Set(idled.map((o) => o.session.id));
        const live: DetachOutcome[] = [];
        for (const id of sessionIds) {
          if (idledIds.has(id)) continue;
          const session = await loadSession(q, trx, id);
          if (session) live.push({ license, session, seatsInUse: license.seatsInUse });
        }
        return [...idled, ...live];
      });
      if (back) break;
      outcomes.push(...released);
    }
    // Its queued sockets are gone too: their places are kept for a reconnect (queue.ts), and no
    // seat is handed to a socket nobody holds.
    if (!back) {
      const left = await db.updateTable('queue_entries').set({ left_at: now }).where('node_id', '=', nodeId).where('left_at', 'is', null).returning('license_id').execute();
      if (left.length > 0) opts.queuesLeft?.([...new Set(left.map((e) => e.license_id))]);
    }
    if (!back && opts.aliveSince === undefined) await db.deleteFrom('nodes').where('id', '=', nodeId).execute();
    return outcomes;
  }
}
