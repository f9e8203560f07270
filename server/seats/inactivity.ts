// Inactivity: the activity this node's sockets report, written for every session at once each
// ACTIVITY_FLUSH_MS (one statement, however many events came in); and, on every node each sweep,
// the sessions whose warning or release has come (decisions/inactivity.ts). Any node may warn or
// release a session: the store marks a warning once and releases under the license's lock, so
// activity heard on any node keeps the whole session, and nothing happens twice.
//
// Each node's heartbeat also says how far the activity it heard is on record (`heardThrough`). A
// release waits until every live node's horizon has passed the session's deadline: a flush that
// failed (a database restart) or ran late (a loaded machine) holds releases back, rather than
// letting another node release a session over activity not written yet.
import type { SeatServerConfig } from '../config';
import { decideInactivity, lastActive } from './decisions/inactivity';
import type { EventBus } from './event-bus';
import { endedEvent, WARNING_MESSAGE } from './messages';
import { every } from './periodic';
import type { SeatStore } from './seat-store';

export type InactivityOptions = Pick<SeatServerConfig, 'activityFlushMs' | 'sweepIntervalMs' | 'nodeId' | 'nodeTimeoutMs'>;

export interface InactivityDeps {
  store: Pick<SeatStore, 'recordActivity' | 'inactivityDue' | 'markWarned' | 'releaseInactive' | 'getLicense' | 'getSession'>;
  bus: EventBus;
  options: InactivityOptions;
  now: () => number;
}

export class Inactivity {
  /** Sessions with activity heard since the last flush: a set, so a flood costs one entry. */
  private pending = new Set<string>();
  private flushing?: NodeJS.Timeout;
  private sweeping?: NodeJS.Timeout;
  private running = false;
  /** The flushes, one after another: a horizon moves only once everything before it committed. */
  private flushes: Promise<unknown> = Promise.resolve();
  private inFlight = 0;
  /** Every activity heard before this moment is on record (none was heard before the node started). */
  private writtenThrough: number;

  constructor(private readonly deps: InactivityDeps) {
    this.writtenThrough = deps.now();
  }

  start(): void {
    const { options, bus } = this.deps;
    this.flushing = every(options.activityFlushMs, () => this.flush(), bus.onError, 'activity-flush');
    this.sweeping = every(options.sweepIntervalMs, () => this.sweep(), bus.onError, 'inactivity-sweep');
  }

  stop(): void {
    clearInterval(this.flushing);
    clearInterval(this.sweeping);
  }

  /** A socket of the session reported activity (`session:activity`); written on the next flush. */
  heard(sessionId: string): void {
    this.pending.add(sessionId);
  }

  /**
   * A seat granted to a socket of a license with inactivity. The admission's time is the session's
   * activity on record; an admission answered late (a store that was away or restarting) reaches
   * its client after it, with a short timeout even past the release: the grant as told is the
   * session's activity then, written on the next flush.
   */
  granted(sessionId: string, admittedAt: number | null): void {
    if (admittedAt !== null && this.deps.now() - admittedAt > this.deps.options.activityFlushMs) this.heard(sessionId);
  }

  /**
   * Up to when the activity this node heard is on record: now, when nothing waits to be written;
   * else the start of the last flush that committed. Its heartbeat writes it for the other nodes,
   * passing the beat's own time as `now` so that the two are one reading of the clock.
   */
  heardThrough(now = this.deps.now()): number {
    return this.pending.size === 0 && this.inFlight === 0 ? now : this.writtenThrough;
  }

  /** Writes the activity heard since the last flush (after any flush in flight); tells of the warnings it ended. */
  flush(): Promise<void> {
    this.inFlight++;
    const run = this.flushes.then(() => this.flushOnce());
    this.flushes = run.catch(() => {});
    return run.finally(() => this.inFlight--);
  }

  private async flushOnce(): Promise<void> {
    const at = this.deps.now();
    if (this.pending.size === 0) {
      this.writtenThrough = Math.max(this.writtenThrough, at);
      return;
    }
    const ids = [...this.pending];
    this.pending = new Set();
    let cleared;
    try {
      cleared = await this.deps.store.recordActivity(ids, at);
    } catch (err) {
      // Kept for the next flush: activity is never dropped by an outage.
      for (const id of ids) this.pending.add(id);
      throw err;
    }
    this.writtenThrough = Math.max(this.writtenThrough, at);
    for (const { sessionId } of cleared) await this.publishCleared(sessionId);
  }

  /** Warns the sessions whose warning time has come and releases those whose release has. */
  async sweep(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      // This node's own activity first, so none of it is older on record than it is.
      await this.flush();
      const { store, options, now } = this.deps;
      const at = now();
      // Read after the flush: what this node heard is on record up to here.
      const through = this.heardThrough(at);
      const releasing = new Set<string>();
      for (const c of await store.inactivityDue(at)) {
        const decision = decideInactivity(c, c.session, at, options.activityFlushMs);
        if (decision.kind === 'release') releasing.add(c.licenseId);
        if (decision.kind !== 'warn') continue;
        const session = await store.markWarned(c.session.id, lastActive(c.session), at);
        const license = session && (await store.getLicense(session.licenseId));
        if (!session || !license) continue;
        this.deps.bus.publish({ type: 'session.warning', license, session, seatsInUse: license.seatsInUse, releasesAt: decision.releasesAt, message: WARNING_MESSAGE });
      }
      for (const licenseId of releasing) {
        const t = now();
        const heard = { nodeId: options.nodeId, through, liveSince: t - options.nodeTimeoutMs };
        for (const e of await store.releaseInactive(licenseId, t, options.activityFlushMs, heard)) this.deps.bus.publish(endedEvent(e));
      }
    } finally {
      this.running = false;
    }
  }

  /** Tells of a warning ended by activity (or by a connect, which is activity too). */
  async publishCleared(sessionId: string): Promise<void> {
    const session = await this.deps.store.getSession(sessionId);
    const license = session && (await this.deps.store.getLicense(session.licenseId));
    if (!session || !license) return;
    this.deps.bus.publish({ type: 'session.warning-cleared', license, session, seatsInUse: license.seatsInUse });
  }
}
