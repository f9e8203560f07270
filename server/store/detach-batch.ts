// Sockets that leave together (a mass disconnect: a network blip, a proxy restart, a closed
// laptop lid on a kiosk of tabs) leave in one transaction: their connection rows deleted and the
// sessions they left idled set-based, per license, instead of a transaction of five statements
// each. Each detach gets the outcome it would have had alone; the seat a session held idles once.
//
// Ten thousand sockets closing within a second made ten thousand transactions here, and a seat
// idled late in that queue fell due late (its deadline counts from the socket's close): idle
// release lateness p99 1.2–2.4 s in the bench's burst of 10,000.
import type { Transaction } from 'kysely';
import { SessionState } from '../../shared';
import type { DetachOutcome } from '../seats/types';
import { toLicense } from './rows';
import type { Database } from './schema';
import { chunked, idleOrphans, loadSession } from './seat-moves';
import type { StoreContext } from './store-dialect';

/** At most this many detaches share a transaction (the rest go in the next). */
const BATCH_MAX = 500;
/** A batch whose first detach waited this long goes at the next, full or not. */
const BATCH_AGE_MS = 50;

interface Waiting {
  socketId: string;
  now: number;
  resolve: (outcome: DetachOutcome | undefined) => void;
  reject: (err: unknown) => void;
}

export class DetachBatch {
  private waiting: Waiting[] = [];
  /** A transaction is asked for that will take what is waiting when it runs. */
  private asked = false;

  constructor(private readonly s: StoreContext) {}

  /** Removes a socket's connection row; the session goes idle when it was the last one. */
  detach(socketId: string, now: number): Promise<DetachOutcome | undefined> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ socketId, now, resolve, reject });
      // A full batch goes now: a mass disconnect's closes are read in one poll phase, seconds
      // long, and the seats they idle fall due during it.
      if (this.waiting.length === BATCH_MAX || now - this.waiting[0]!.now >= BATCH_AGE_MS) this.s.dialect.hurry?.();
      if (this.asked) return;
      this.asked = true;
      // The rest of this turn's closes (sockets read in the same poll phase) join it: where the
      // dialect's transactions wait for the turn's end themselves (`hurry`, SQLite), asked for at once.
      // Deferred here as well, a mass disconnect's detaches waited a whole poll phase more
      // (1.3 s with 10,000 closing on a 2-core Xeon, past their idle deadline of 1 s).
      if (this.s.dialect.hurry) this.flush();
      else setImmediate(() => this.flush());
    });
  }

  /** One transaction for up to BATCH_MAX of the detaches waiting when it runs; the rest ask for the next. */
  private flush(): void {
    let batch: Waiting[] | undefined;
    const take = (): Waiting[] => {
      if (batch) return batch;
      batch = this.waiting.splice(0, BATCH_MAX);
      this.asked = false;
      if (this.waiting.length > 0) {
        this.asked = true;
        this.flush();
      }
      return batch;
    };
    this.s.dialect
      // Run again when its group of transactions failed (sqlite-store.ts): the same batch then.
      .transaction((trx) => {
        const mine = take();
        return mine.length === 1 ? this.detachOne(trx, mine[0]!) : this.detachAll(trx, mine);
      })
      .then(
        (outcomes) => batch!.forEach((w, i) => w.resolve(outcomes[i])),
        (err) => {
          for (const w of take()) w.reject(err);
        },
      );
  }

  /** A socket that left alone: the statements compiled once (queries.ts), as in every admission. */
  private async detachOne(trx: Transaction<Database>, { socketId, now }: Waiting): Promise<Array<DetachOutcome | undefined>> {
    const { q, dialect } = this.s;
    const [conn] = (await q.licenseOfSocket(trx, { socketId })).rows;
    if (!conn) return [undefined];
    const row = await dialect.lockLicense(trx, conn.license_id);
    const [gone] = (await q.deleteSocket(trx, { socketId })).rows;
    if (!row || !gone) return [undefined];
    const license = toLicense(row);
    const [idled] = await idleOrphans(q, trx, license, [gone.session_id], now);
    if (idled) return [idled];
    const session = await loadSession(q, trx, gone.session_id);
    return [session && { license, session, seatsInUse: license.seatsInUse }];
  }

  /** The outcome of each detach, in the order of `batch`. */
  private async detachAll(trx: Transaction<Database>, batch: readonly Waiting[]): Promise<Array<DetachOutcome | undefined>> {
    const { q, dialect } = this.s;
    const byLicense = new Map<string, string[]>();
    for (const ids of chunked(batch.map((w) => w.socketId))) {
      const rows = await trx.selectFrom('connections').select(['socket_id', 'license_id']).where('socket_id', 'in', ids).execute();
      for (const r of rows) push(byLicense, r.license_id, r.socket_id);
    }
    const nowOf = new Map(batch.map((w) => [w.socketId, w.now]));
    const out = new Map<string, DetachOutcome | undefined>();
    // Licenses locked in one order, so two batches never wait on each other's locks (PostgreSQL).
    for (const licenseId of [...byLicense.keys()].sort()) {
      const row = await dialect.lockLicense(trx, licenseId);
      if (!row) continue;
      const license = toLicense(row);
      const sessionOf = new Map<string, string>();
      for (const ids of chunked(byLicense.get(licenseId)!)) {
        const gone = await trx.deleteFrom('connections').where('socket_id', 'in', ids).returning(['socket_id', 'session_id']).execute();
        for (const g of gone) sessionOf.set(g.socket_id, g.session_id);
      }
      // The sockets of each session that left, in the order they left.
      const leaving = new Map<string, string[]>();
      for (const w of batch) {
        const sessionId = sessionOf.get(w.socketId);
        if (sessionId && !leaving.get(sessionId)?.includes(w.socketId)) push(leaving, sessionId, w.socketId);
      }
      // Sessions left with no connection idle from the moment their last socket left.
      const byNow = new Map<number, string[]>();
      for (const [sessionId, sockets] of leaving) push(byNow, nowOf.get(sockets[sockets.length - 1]!)!, sessionId);
      const idled = new Map<string, DetachOutcome>();
      for (const [now, sessionIds] of byNow) for (const o of await idleOrphans(q, trx, license, sessionIds, now, dialect.inProcess)) idled.set(o.session.id, o);
      for (const [sessionId, sockets] of leaving) {
        const last = idled.get(sessionId);
        // Still connected elsewhere (another tab): the session as it is now.
        const session = last?.session ?? (await loadSession(q, trx, sessionId));
        if (!session) continue;
        // Each socket hears what it would have heard leaving alone, one after the other: the
        // session still active with the sockets left after it, and the last one its going idle.
        const remaining = last ? 0 : session.sockets;
        sockets.forEach((socketId, i) => {
          const after = remaining + sockets.length - 1 - i;
          const outcome = last && after === 0 ? last : { license, session: { ...session, state: SessionState.Active, idleSince: null, expiresAt: null, sockets: after }, seatsInUse: license.seatsInUse };
          out.set(socketId, outcome);
        });
      }
    }
    // A socket named twice left once: the second hears what a detach of a gone socket hears.
    const told = new Set<string>();
    return batch.map((w) => (told.has(w.socketId) ? undefined : (told.add(w.socketId), out.get(w.socketId))));
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
