// The queue in the store (docs/contract.md, "The queue"): a claimant that asked to wait joins its
// license's queue in the admission's transaction; every transaction that frees seats (a release
// of any kind, more seats) serves the queue before it commits, so a freed seat goes to the queue
// and nobody can take it first, whichever node the queued socket is on. The grants a transaction
// made are handed to the store's listener once it has committed (see `GrantCollector`).
import { sql } from 'kysely';
import { LicenseStatus, SeatEventType } from '../../shared';
import { decideSeat, needsGroups } from '../seats/decisions/seat-pool';
import { type Claimant, claimantIds, type License, type QueueGrant, type QueuePlace, type QueueRefusal, type Session } from '../seats/types';
import type { HotQueries } from './queries';
import { toLicense } from './rows';
import { activationOf, chunked, heldByGroup, insertConnection, insertDenial, insertEvent, loadSession, startSession } from './seat-moves';
import type { Db, StoreContext } from './store-dialect';

/** What serving the queue did inside one transaction: the grants, and the refusals (see QueueRefusal). */
export interface QueueServed {
  grants: QueueGrant[];
  refusals: QueueRefusal[];
}

/**
 * What each running transaction served from the queue, so the store can hand it on once it
 * commits (and drop it when it rolls back or runs again).
 */
export class GrantCollector {
  private readonly byTrx = new WeakMap<object, QueueServed>();
  begin(trx: object): QueueServed {
    const served: QueueServed = { grants: [], refusals: [] };
    this.byTrx.set(trx, served);
    return served;
  }
  end(trx: object): void {
    this.byTrx.delete(trx);
  }
  add(trx: object, grants: QueueGrant[], refusals: QueueRefusal[] = []): void {
    const served = this.byTrx.get(trx);
    served?.grants.push(...grants);
    served?.refusals.push(...refusals);
  }
}

export const grantCollector = new GrantCollector();

type StoredClaimant = Claimant;

/**
 * Puts the claimant in the license's queue (or back in its old place: an entry of the same seat
 * key whose socket went away within the idle timeout), records it in the seat history, and says
 * where it stands. Under the license's lock, in the admission's transaction.
 */
export async function enqueue(
  q: HotQueries,
  trx: Db,
  license: License,
  req: { socketId: string; nodeId: string; claimant: Claimant; now: number },
  seatKeyValue: string,
): Promise<QueuePlace> {
  const [back] = (await q.rejoinQueue(trx, { licenseId: license.id, seatKeyValue, socketId: req.socketId, nodeId: req.nodeId })).rows;
  if (!back) {
    await q.insertQueueEntry(trx, {
      license_id: license.id,
      socket_id: req.socketId,
      node_id: req.nodeId,
      seat_key_value: seatKeyValue,
      claimant: JSON.stringify(req.claimant satisfies StoredClaimant),
      enqueued_at: req.now,
    });
    await insertEvent(q, trx, {
      license_id: license.id,
      session_id: null,
      type: SeatEventType.Queued,
      reason: null,
      weight: req.claimant.weight,
      seats_in_use: license.seatsInUse,
      at: req.now,
    });
  }
  // Counted, not read: a queue of thousands made each joiner read every waiting entry. A new
  // entry is the last (ids grow, and joins take the license's lock), so its place is the length.
  const count = (r: { rows: Array<{ n: number | string }> }) => Number(r.rows[0]?.n ?? 1) || 1;
  const queueLength = count(await q.waitingCount(trx, { licenseId: license.id }));
  const position = back ? count(await q.waitingThrough(trx, { licenseId: license.id, throughId: Number(back.id) })) : queueLength;
  return { position, queueLength };
}

/** The license's waiting sockets in order (those whose socket went away are not counted). */
export async function queuePlaces(db: Db, licenseId: string): Promise<Array<{ socketId: string; nodeId: string } & QueuePlace>> {
  const rows = await db
    .selectFrom('queue_entries')
    .select(['socket_id', 'node_id'])
    .where('license_id', '=', licenseId)
    .where('left_at', 'is', null)
    .orderBy('id')
    .execute();
  return rows.map((r, i) => ({ socketId: r.socket_id, nodeId: r.node_id, position: i + 1, queueLength: rows.length }));
}

/** How many waiting entries a release reads at a time while seats may still fit. */
const QUEUE_PAGE = 64;

/** The license's waiting entries after `afterId` (queries.ts): the next page, or all those whose seat key holds a session. */
async function waitingEntries(q: HotQueries, trx: Db, licenseId: string, afterId: number, page: boolean) {
  const { rows } = page ? await q.waitingPage(trx, { licenseId, afterId, limit: QUEUE_PAGE }) : await q.waitingWithSession(trx, { licenseId, afterId });
  return rows.map((r) => ({ ...r, id: Number(r.id), own_id: r.own_id ?? null }));
}

/**
 * Grants free seats to the license's queue, in order, each waiting claimant whose weight fits
 * (seat-pool.ts) taking one; a claimant that does not fit yet keeps its place. A claimant whose
 * seat key holds a live session meanwhile (another tab got in) joins it. On a license that
 * counts activations, a claimant's device is checked again when its turn comes, as an admission
 * checks it (activation.ts): the activations may have filled while it waited (devices granted
 * ahead of it, a lowered limit). A new device beyond the limit leaves the queue denied
 * `too_many_activations` (recorded as any denial; its node tells it), and the seat goes on to
 * the next in line. Under the license's lock.
 */
export async function serveQueue(q: HotQueries, trx: Db, licenseId: string, now: number): Promise<QueueGrant[]> {
  // The first page is read before the license: most releases find nobody waiting, and stop here.
  let page = await waitingEntries(q, trx, licenseId, 0, true);
  if (page.length === 0) return [];
  const [row] = (await q.license(trx, { id: licenseId })).rows;
  if (!row) return [];
  let license = toLicense(row);
  if (license.status === LicenseStatus.Suspended) return [];
  const byGroup = needsGroups(license) ? await heldByGroup(q, trx, licenseId) : new Map<string, number>();
  // Whether a claimant with no session may still fit. Without reservations or group limits, none
  // fits once one of weight 1 would not: then only the entries whose seat key holds a session
  // (another tab got in) can be served, and only they are read, not the whole queue.
  const anyFits = () => needsGroups(license) || decideSeat(license, { weight: 1, group: null }, { total: license.seatsInUse, byGroup }, now).kind !== 'deny';
  const grants: QueueGrant[] = [];
  const refusals: QueueRefusal[] = [];
  // The sessions this pass started, by seat key: another tab of the same seat key, waiting behind,
  // joins it (a second session of one seat key cannot be, and its insert would fail the release).
  const startedHere = new Map<string, string>();
  let after = 0;
  let paged = true;
  for (;;) {
    for (const entry of page) {
      after = entry.id;
      const claimant = JSON.parse(entry.claimant) as StoredClaimant;
      const group = claimant.group ?? null;
      const req = { licenseId, socketId: entry.socket_id, nodeId: entry.node_id, claimant, now };
      const ownId = entry.own_id ?? startedHere.get(entry.seat_key_value) ?? null;
      const verdict = ownId ? undefined : decideSeat(license, { weight: claimant.weight, group }, { total: license.seatsInUse, byGroup }, now);
      if (verdict?.kind === 'deny') continue;
      // Checked again at its turn, as an admission checks it: the activations may have filled meanwhile.
      const activation = await activationOf(q, trx, license, claimant);
      // Off the queue before anything is written, and only while its socket is still there: a socket
      // leaving sets `left_at` without the license's lock, so it may have left since the read above.
      // The two writes wait for each other on the row: left first, it gets no seat; taken first, the
      // leave finds no entry and its node lets go of the connection row written here.
      const taken = await q.takeQueueEntry(trx, { id: entry.id });
      if (Number(taken.numAffectedRows ?? 0) === 0) continue;
      if (activation.kind === 'deny') {
        const denial = { licenseId, at: now, reason: activation.reason, ...claimantIds(claimant) };
        await insertDenial(q, trx, denial, claimant.weight, license.seatsInUse);
        await recordWait(trx, licenseId, claimant, Number(entry.enqueued_at), now, 'left');
        refusals.push({ socketId: entry.socket_id, nodeId: entry.node_id, license, denial, seatsInUse: license.seatsInUse });
        continue;
      }
      let session: Session | undefined;
      let overage = false;
      if (ownId) {
        await q.resumeSession(trx, { id: ownId, now, receiptUntil: null });
        await insertConnection(q, trx, req, ownId);
        session = await loadSession(q, trx, ownId);
        if (!session) continue;
      } else if (verdict) {
        overage = verdict.overage;
        const started = await startSession(q, trx, license, req, entry.seat_key_value);
        session = started.session;
        startedHere.set(entry.seat_key_value, session.id);
        license = { ...license, seatsInUse: started.seatsInUse };
        if (group !== null) byGroup.set(group, (byGroup.get(group) ?? 0) + claimant.weight);
      }
      if (!session) continue;
      // Activated on its first grant, or seen again (as an admission does). A claimant without a
      // device on a license whose limit was set while it waited was let in to wait: it goes in.
      if ((activation.kind === 'activate' || activation.kind === 'seen') && claimant.deviceId !== null) {
        await q.touchActivation(trx, { licenseId, deviceId: claimant.deviceId, now });
      }
      await recordWait(trx, licenseId, claimant, Number(entry.enqueued_at), now, 'granted');
      grants.push({ socketId: entry.socket_id, nodeId: entry.node_id, license, session, seatsInUse: license.seatsInUse, resumed: ownId !== null, overage });
    }
    // The entries with a session were all read (no page), or the queue has no more.
    if (!paged || page.length < QUEUE_PAGE) break;
    paged = anyFits();
    page = await waitingEntries(q, trx, licenseId, after, paged);
  }
  grantCollector.add(trx, grants, refusals);
  return grants;
}

async function recordWait(db: Db, licenseId: string, c: Claimant, since: number, now: number, outcome: 'granted' | 'left'): Promise<void> {
  await db
    .insertInto('queue_waits')
    .values({ license_id: licenseId, at: now, waited_ms: Math.max(0, now - since), outcome, session_ref: c.sessionRef, user_id: c.userId, device_id: c.deviceId })
    .execute();
}

/** The queue's reads and the moves outside an admission or a release. */
export class QueueStore {
  constructor(private readonly s: StoreContext) {}

  /** The socket went away: its entry keeps its place, unseen, for the license's idle timeout. */
  async leaveQueue(socketId: string, now: number): Promise<string | undefined> {
    const row = await this.s.db
      .updateTable('queue_entries')
      .set({ left_at: now })
      .where('socket_id', '=', socketId)
      .where('left_at', 'is', null)
      .returning('license_id')
      .executeTakeFirst();
    return row?.license_id;
  }

  /** Entries whose socket went away more than their license's idle timeout ago leave for good (recorded with their wait). */
  async purgeQueue(now: number): Promise<string[]> {
    const { db, dialect } = this.s;
    const gone = await db
      .selectFrom('queue_entries as e')
      .innerJoin('licenses as l', 'l.id', 'e.license_id')
      .select(['e.id', 'e.license_id', 'e.claimant', 'e.enqueued_at', 'e.left_at', 'l.idle_timeout_sec'])
      .where('e.left_at', 'is not', null)
      .execute();
    const due = gone.filter((e) => Number(e.left_at) + Number(e.idle_timeout_sec) * 1000 <= now);
    const orphans = await db
      .selectFrom('queue_entries')
      .select(['id', 'license_id', 'claimant', 'enqueued_at'])
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('licenses').select('id').whereRef('licenses.id', '=', 'queue_entries.license_id'))))
      .execute();
    const licenses = new Set<string>();
    // A kept place goes only while still kept as read: a reconnect (or the backstop's hand-over)
    // may have taken it back since, on this node or another, and its socket waits in it again.
    const entries = [...due.map((e) => ({ ...e, keptSince: Number(e.left_at) })), ...orphans.map((e) => ({ ...e, keptSince: undefined }))];
    for (const e of entries) {
      await dialect.transaction(async (trx) => {
        const deleted = await trx
          .deleteFrom('queue_entries')
          .where('id', '=', e.id)
          .$if(e.keptSince !== undefined, (d) => d.where('left_at', '=', e.keptSince!))
          .executeTakeFirst();
        if (Number(deleted.numDeletedRows) === 0) return;
        await recordWait(trx, e.license_id, JSON.parse(e.claimant) as Claimant, Number(e.enqueued_at), now, 'left');
        licenses.add(e.license_id);
      });
    }
    return [...licenses];
  }

  /** Serves the license's queue now (seats raised, a license restored, a sweep after a crash). */
  async serve(licenseId: string, now: number): Promise<QueueGrant[]> {
    const { q, dialect } = this.s;
    return dialect.transaction(async (trx) => {
      if (!(await dialect.lockLicense(trx, licenseId))) return [];
      return serveQueue(q, trx, licenseId, now);
    });
  }

  /**
   * A place kept for a reconnect (its socket went away, or its node was taken for dead) whose seat
   * key waits again behind it with a new socket is handed to that socket: a client whose node died
   * reconnects elsewhere at once, before its old place is let go (NODE_TIMEOUT_MS), and queues
   * anew at the end. Its newest claims and socket move into the older place, and the newer entry
   * goes. Under each license's lock; the licenses whose queue moved.
   */
  async mergeKeptPlaces(): Promise<string[]> {
    const { db, dialect } = this.s;
    const pairs = await db
      .selectFrom('queue_entries as kept')
      .innerJoin('queue_entries as back', (j) =>
        j.onRef('back.license_id', '=', 'kept.license_id').onRef('back.seat_key_value', '=', 'kept.seat_key_value').onRef('back.id', '>', 'kept.id'),
      )
      .select(['kept.id as keptId', 'back.id as backId', 'kept.license_id as licenseId'])
      .where('kept.left_at', 'is not', null)
      .where('back.left_at', 'is', null)
      .orderBy('kept.id')
      .orderBy('back.id')
      .execute();
    const byLicense = new Map<string, Array<{ keptId: number; backId: number }>>();
    for (const p of pairs) {
      const list = byLicense.get(p.licenseId) ?? [];
      list.push({ keptId: Number(p.keptId), backId: Number(p.backId) });
      byLicense.set(p.licenseId, list);
    }
    const moved: string[] = [];
    for (const [licenseId, candidates] of byLicense) {
      const any = await dialect.transaction(async (trx) => {
        if (!(await dialect.lockLicense(trx, licenseId))) return false;
        const used = new Set<number>();
        let merged = false;
        for (const { keptId, backId } of candidates) {
          if (used.has(keptId) || used.has(backId)) continue;
          // Read again under the lock: a release may have served the newer one, a reconnect taken the older one.
          const back = await trx.selectFrom('queue_entries').select(['socket_id', 'node_id', 'claimant']).where('id', '=', backId).where('left_at', 'is', null).executeTakeFirst();
          const kept = await trx.selectFrom('queue_entries').select('id').where('id', '=', keptId).where('left_at', 'is not', null).executeTakeFirst();
          if (!back || !kept) continue;
          await trx.deleteFrom('queue_entries').where('id', '=', backId).execute();
          await trx.updateTable('queue_entries').set({ socket_id: back.socket_id, node_id: back.node_id, claimant: back.claimant, left_at: null }).where('id', '=', keptId).execute();
          used.add(keptId).add(backId);
          merged = true;
        }
        return merged;
      });
      if (any) moved.push(licenseId);
    }
    return moved;
  }

  /**
   * Licenses with sockets waiting and seats free (a sweep serves them, in case a release's serving
   * was lost): one read, and no transaction at all while every queue waits on a full license.
   */
  async queuedLicenses(): Promise<string[]> {
    const rows = await this.s.db
      .selectFrom('queue_entries as e')
      .innerJoin('licenses as l', 'l.id', 'e.license_id')
      .select('e.license_id')
      .distinct()
      .where('e.left_at', 'is', null)
      .where('l.status', '=', LicenseStatus.Active)
      .where(sql<boolean>`l.seats_in_use < l.seats * l.overage`)
      .execute();
    return rows.map((r) => r.license_id);
  }

  places(licenseId: string): Promise<Array<{ socketId: string; nodeId: string } & QueuePlace>> {
    return queuePlaces(this.s.db, licenseId);
  }

  /**
   * Which of these sockets (queued, as their node believes) a queue grant gave a seat at or
   * before `grantedBy`: the grant's connection row names them. Their session and license as now.
   */
  async grantedSockets(socketIds: readonly string[], grantedBy: number): Promise<QueueGrant[]> {
    const { db, q } = this.s;
    const out: QueueGrant[] = [];
    for (const ids of chunked(socketIds)) {
      const rows = await db
        .selectFrom('connections')
        .select(['socket_id', 'session_id', 'license_id', 'node_id'])
        .where('socket_id', 'in', ids)
        .where('connected_at', '<=', grantedBy)
        .execute();
      for (const r of rows) {
        const session = await loadSession(q, db, r.session_id);
        const [row] = (await q.license(db, { id: r.license_id })).rows;
        if (!session || !row) continue;
        const license = toLicense(row);
        out.push({ socketId: r.socket_id, nodeId: r.node_id, license, session, seatsInUse: license.seatsInUse, resumed: false, overage: license.seatsInUse > license.seats });
      }
    }
    return out;
  }

  /**
   * Which of these sockets (queued, as their node believes) have neither a place in a queue nor a
   * connection row, and the word of why did not reach their node: their turn refused them (a device
   * beyond the license's activations), their license was deleted, or a seat granted to them ended
   * before the grant's word came. The places are read before the
   * connections: a grant takes the place and writes the connection in one transaction, so a socket
   * granted between the two reads shows as seated, never as neither.
   */
  async unqueuedSockets(socketIds: readonly string[]): Promise<string[]> {
    const { db } = this.s;
    const out: string[] = [];
    for (const ids of chunked(socketIds)) {
      const placed = await db.selectFrom('queue_entries').select('socket_id').where('socket_id', 'in', ids).execute();
      const seated = await db.selectFrom('connections').select('socket_id').where('socket_id', 'in', ids).execute();
      const known = new Set([...placed, ...seated].map((r) => r.socket_id));
      out.push(...ids.filter((id) => !known.has(id)));
    }
    return out;
  }
}
