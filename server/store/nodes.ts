// Node liveness in the store: heartbeats, declaring nodes dead, and letting go of a node's
// connection rows (its sessions go idle and expire as usual).
import type { DetachOutcome } from '../seats/types';
import { toLicense } from './rows';
import { idleOrphans } from './seat-moves';
import type { StoreContext } from './store-dialect';

export class Nodes {
  constructor(private readonly s: StoreContext) {}

  /** Writes the node's heartbeat; false when its row was missing (a first beat, or it was declared dead). */
  async heartbeat(nodeId: string, now: number): Promise<boolean> {
    const beat = await this.s.db.updateTable('nodes').set({ heartbeat_at: now }).where('id', '=', nodeId).executeTakeFirst();
    if (Number(beat.numUpdatedRows) > 0) return true;
    await this.s.db
      .insertInto('nodes')
      .values({ id: nodeId, started_at: now, heartbeat_at: now })
      .onConflict((oc) => oc.column('id').doUpdateSet({ heartbeat_at: now }))
      .execute();
    return false;
  }

  /**
   * Declares nodes dead: those beating before `deadBefore` (and every node but `keep` when
   * `allOthers`). Their connection rows go; sessions left without one go idle from `now`.
   */
  async reapNodes(opts: { deadBefore: number; now: number; keep: string; allOthers?: boolean }): Promise<DetachOutcome[]> {
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
    const nodeIds = await db.selectFrom('connections').select('node_id').distinct().execute();
    const targets = new Set([...dead.map((d) => d.id), ...nodeIds.map((n) => n.node_id).filter((n) => !alive.has(n))]);
    const outcomes: DetachOutcome[] = [];
    for (const nodeId of targets) outcomes.push(...(await this.releaseNode(nodeId, opts.now)));
    return outcomes;
  }

  /** A graceful stop: drops this node's connection rows and its node row, sessions go idle. */
  async releaseNode(nodeId: string, now: number): Promise<DetachOutcome[]> {
    const { db, q, dialect } = this.s;
    const licenses = await db.selectFrom('connections').select('license_id').distinct().where('node_id', '=', nodeId).execute();
    const outcomes: DetachOutcome[] = [];
    for (const { license_id } of licenses) {
      const released = await dialect.transaction(async (trx) => {
        const row = await dialect.lockLicense(trx, license_id);
        const gone = await trx
          .deleteFrom('connections')
          .where('node_id', '=', nodeId)
          .where('license_id', '=', license_id)
          .returning('session_id')
          .execute();
        if (!row) return [];
        return idleOrphans(q, trx, toLicense(row), [...new Set(gone.map((g) => g.session_id))], now);
      });
      outcomes.push(...released);
    }
    await db.deleteFrom('nodes').where('id', '=', nodeId).execute();
    return outcomes;
  }
}
