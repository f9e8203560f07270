// The queue (docs/contract.md, "The queue"): a claimant that asked to wait holds its place while
// no seat fits, and the transaction that frees a seat grants it (server/store/queue.ts). This part
// turns the store's grants and refusals into domain events (the node that holds the socket tells
// it), lets sockets leave, and, as a backstop, serves queues and drops places kept too long every
// few seconds.
import { DenyReason } from '../../shared';
import type { EventBus } from './event-bus';
import { DENY_MESSAGE } from './messages';
import { every } from './periodic';
import type { SeatStore } from './seat-store';
import type { License, QueueGrant, QueuePlace, QueueRefusal } from './types';

/** A socket this node holds as queued. */
export interface LocalQueued {
  socketId: string;
  licenseId: string;
}

/** Seat requests count as demand this long (CONTRACT 8.2 `seat:demand`). */
export const DEMAND_WINDOW_MS = 15 * 60_000;

export interface SeatQueueDeps {
  store: Pick<SeatStore, 'onQueueGrants' | 'onQueueRefusals' | 'leaveQueue' | 'purgeQueue' | 'serveQueue' | 'queuedLicenses' | 'queuePlaces' | 'grantedSockets' | 'unqueuedSockets' | 'mergeKeptPlaces' | 'getLicense' | 'countRequests'>;
  bus: EventBus;
  now: () => number;
  /** How often the backstop runs (ms). */
  backstopMs?: number;
}

export class SeatQueue {
  private backstop?: NodeJS.Timeout;
  /** The sockets this node holds as queued, with their license (the queue relay says which). */
  private localQueued: () => LocalQueued[] = () => [];
  /** Sockets the last sweep found with neither a place nor a seat: told if the next finds them so still. */
  private unplaced = new Set<string>();

  constructor(private readonly deps: SeatQueueDeps) {
    deps.store.onQueueGrants((grants) => this.granted(grants));
    deps.store.onQueueRefusals((refusals) => this.refused(refusals));
  }

  start(): void {
    this.backstop = every(this.backstopMs, () => this.sweep(), this.deps.bus.onError, 'queue-backstop');
  }

  /** Where the backstop finds which sockets this node holds as queued. */
  watchLocal(queued: () => LocalQueued[]): void {
    this.localQueued = queued;
  }

  private get backstopMs(): number {
    return this.deps.backstopMs ?? 5000;
  }

  stop(): void {
    clearInterval(this.backstop);
  }

  /** The queued socket went away: its place is kept for the idle timeout (a reconnect finds it). */
  async leave(socketId: string): Promise<void> {
    const licenseId = await this.deps.store.leaveQueue(socketId, this.deps.now());
    if (licenseId) await this.changed(licenseId);
  }

  /** The license's waiting sockets in order, with their node. */
  places(licenseId: string): Promise<Array<{ socketId: string; nodeId: string } & QueuePlace>> {
    return this.deps.store.queuePlaces(licenseId);
  }

  /** How many wait for a seat of the license: `queued`, and the seat requests of the last 15 minutes. */
  async waiting(licenseId: string, queued: number): Promise<number> {
    return queued + (await this.deps.store.countRequests(licenseId, this.deps.now() - DEMAND_WINDOW_MS));
  }

  private granted(grants: QueueGrant[]): void {
    const licenses = new Map<string, QueueGrant['license']>();
    for (const g of grants) {
      const { socketId, nodeId, license, session, seatsInUse, resumed, overage } = g;
      this.deps.bus.publish({ type: 'queue.granted', socketId, nodeId, license, session, seatsInUse, resumed, overage });
      licenses.set(license.id, license);
    }
    for (const license of licenses.values()) this.deps.bus.publish({ type: 'queue.changed', license });
  }

  /** Each refused socket is told by its node (`seat:denied`); the denial is published as any other. */
  private refused(refusals: QueueRefusal[]): void {
    const licenses = new Map<string, License>();
    for (const { socketId, nodeId, license, denial, seatsInUse } of refusals) {
      const message = DENY_MESSAGE[DenyReason.TooManyActivations];
      this.deps.bus.publish({ type: 'denied', license, denial, message, seatsInUse });
      this.deps.bus.publish({ type: 'queue.refused', socketId, nodeId, license, denial, message, seatsInUse });
      licenses.set(license.id, license);
    }
    for (const license of licenses.values()) this.deps.bus.publish({ type: 'queue.changed', license });
  }

  private async changed(licenseId: string): Promise<void> {
    const license = await this.deps.store.getLicense(licenseId);
    if (license) this.deps.bus.publish({ type: 'queue.changed', license });
  }

  /**
   * Places kept past their idle timeout go; queues whose serving a crash may have lost are served;
   * and this node's queued sockets whose word from another node Redis lost are told: those a grant
   * gave a seat (a grant older than half a backstop period: one in flight arrives in
   * milliseconds), and those left with neither a place nor a seat (refused at their turn, or their
   * license deleted) two sweeps in a row, so a word on its way is not taken for lost; and where
   * they stand, should a move's word have been lost. A place kept for a reconnect goes to its seat
   * key's newer socket waiting behind it (a client back from a dead node, mergeKeptPlaces).
   */
  private async sweep(): Promise<void> {
    const { store, now } = this.deps;
    for (const licenseId of await store.purgeQueue(now())) await this.changed(licenseId);
    for (const licenseId of await store.mergeKeptPlaces()) await this.changed(licenseId);
    for (const licenseId of await store.queuedLicenses()) await store.serveQueue(licenseId, now());
    const queued = this.localQueued();
    if (queued.length === 0) {
      this.unplaced.clear();
      return;
    }
    const ids = queued.map((q) => q.socketId);
    this.granted(await store.grantedSockets(ids, now() - this.backstopMs / 2));
    await this.tellUnplaced(queued, new Set(await store.unqueuedSockets(ids)));
    // Where each stands, again: a move whose word Redis lost (an outage) is told now.
    this.deps.bus.publish({ type: 'queue.recheck', licenseIds: [...new Set(queued.map((q) => q.licenseId))] });
  }

  private async tellUnplaced(queued: LocalQueued[], found: Set<string>): Promise<void> {
    const seenBefore = this.unplaced;
    this.unplaced = new Set([...found].filter((id) => !seenBefore.has(id)));
    const licenses = new Map<string, License | null>();
    for (const { socketId, licenseId } of queued) {
      if (!found.has(socketId) || !seenBefore.has(socketId)) continue;
      if (!licenses.has(licenseId)) licenses.set(licenseId, (await this.deps.store.getLicense(licenseId)) ?? null);
      this.deps.bus.publish({ type: 'queue.unplaced', socketId, licenseId, license: licenses.get(licenseId)! });
    }
  }
}
