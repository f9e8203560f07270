// Inactivity: the activity this node's sockets report, written for every session at once each
// ACTIVITY_FLUSH_MS (one statement, however many events came in); and, on every node each sweep,
// the sessions whose warning or release has come (decisions/inactivity.ts). Any node may warn or
// release a session: the store marks a warning once and releases under the license's lock, so
// activity heard on any node keeps the whole session, and nothing happens twice.
import type { SeatServerConfig } from '../config';
import { decideInactivity, lastActive } from './decisions/inactivity';
import type { EventBus } from './event-bus';
import { endedEvent, WARNING_MESSAGE } from './messages';
import { every } from './periodic';
import type { SeatStore } from './seat-store';

export type InactivityOptions = Pick<SeatServerConfig, 'activityFlushMs' | 'sweepIntervalMs'>;

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

  constructor(private readonly deps: InactivityDeps) {}

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

  /** Writes the activity heard since the last flush; tells of the warnings it ended. */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const ids = [...this.pending];
    this.pending = new Set();
    let cleared;
    try {
      cleared = await this.deps.store.recordActivity(ids, this.deps.now());
    } catch (err) {
      // Kept for the next flush: activity is never dropped by an outage.
      for (const id of ids) this.pending.add(id);
      throw err;
    }
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
        for (const e of await store.releaseInactive(licenseId, now(), options.activityFlushMs)) this.deps.bus.publish(endedEvent(e));
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
