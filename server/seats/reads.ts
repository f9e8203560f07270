// What admins read, every query scoped to the actor: a tenant's admin reads its own tenant's
// licenses and what hangs off them (sessions, denials, history, audit), the operator reads all.
// The transports get these queries and never the store, so no route can forget the tenant check.
import { ErrorCode } from '../../shared';
import type { SeatServerConfig } from '../config';
import { type Actor, mayTouch, tenantScope } from './actor';
import { SeatError } from './seat-error';
import type { SeatStore, TenantSummary } from './seat-store';
import { type BucketUnit, bucketBounds, bucketStart } from './time-buckets';
import { newestPerLicense, pageSessions, type SessionPage, type SessionQuery } from './session-page';
import type { SeatRequest } from './types';
import type { Activation, AuditEntry, Denial, HistoryBucket, License, QueuedClaimant, Session } from './types';

export type ReadsStore = Pick<
  SeatStore,
  | 'listRequests'
  | 'getLicense' | 'listLicenses' | 'listSessions' | 'listSessionsOf' | 'listNewestSessionsOf' | 'pageSessionsByStart' | 'listDenials' | 'listLatestDenials' | 'history' | 'listAudit'
  | 'listActivations' | 'countActivations' | 'listTenants' | 'listQueues'
>;

export interface ReadsDeps {
  store: ReadsStore;
  options: Pick<SeatServerConfig, 'denialRetentionDays'>;
  now: () => number;
}

/** Everything an admin may see at once (the dashboard's first view). */
export interface Snapshot {
  licenses: License[];
  /** The newest `sessionsPerLicense` of each license; the rest are read a page at a time. */
  sessions: Session[];
  /** Live sessions per license id (licenses with none are left out). */
  sessionTotals: Map<string, number>;
  /** Newest first, the newest `denialsPerLicense` of each license. */
  denials: Denial[];
  audit: AuditEntry[];
  /** Activated devices per license id (licenses with none are left out). */
  activations: Map<string, number>;
  /** The first `queuePerLicense` waiting claimants of each license, in order. */
  queues: QueuedClaimant[];
}

export class Reads {
  constructor(private readonly deps: ReadsDeps) {}

  /** The license: 404 when there is none, 403 when it is another tenant's. */
  async license(actor: Actor, id: string): Promise<License> {
    return mayTouch(actor, id, await this.deps.store.getLicense(id));
  }

  /** As `license`, but undefined when there is none. */
  async findLicense(actor: Actor, id: string): Promise<License | undefined> {
    const license = await this.deps.store.getLicense(id);
    return license && mayTouch(actor, id, license);
  }

  /** Every license the actor may see, each with its `seatsInUse`. */
  licenses(actor: Actor): Promise<License[]> {
    return this.deps.store.listLicenses(tenantScope(actor));
  }

  /** The license's live sessions. */
  async sessions(actor: Actor, licenseId: string): Promise<Session[]> {
    const license = await this.license(actor, licenseId);
    return this.deps.store.listSessions(license.id);
  }

  /** A page of the license's live sessions, searched, filtered and sorted (session-page.ts). */
  async sessionPage(actor: Actor, licenseId: string, query: SessionQuery): Promise<SessionPage> {
    // The default view (by start time, no text or app filter) is paged in the store; the rest
    // sorts the whole license here, in the same order.
    const { q, app, sort = 'startedAt', order = 'asc', limit, offset = 0, user, state } = query;
    if (limit !== undefined && !q && app === undefined && sort === 'startedAt') {
      const license = await this.license(actor, licenseId);
      return this.deps.store.pageSessionsByStart(license.id, { user, state, order, limit, offset });
    }
    return pageSessions(await this.sessions(actor, licenseId), query);
  }

  /** The license's activated devices, first activated first. */
  async activations(actor: Actor, licenseId: string): Promise<Activation[]> {
    const license = await this.license(actor, licenseId);
    return this.deps.store.listActivations(license.id);
  }

  /** The license's seat requests, newest first. */
  async seatRequests(actor: Actor, licenseId: string): Promise<SeatRequest[]> {
    const license = await this.license(actor, licenseId);
    return this.deps.store.listRequests(license.id);
  }

  /** The license's waiting claimants in queue order, the first `limit` of them. */
  async queue(actor: Actor, licenseId: string, limit = 1000): Promise<QueuedClaimant[]> {
    const license = await this.license(actor, licenseId);
    return this.deps.store.listQueues([license.id], limit);
  }

  /** The license's denials, newest first, from `since` and before `until`. */
  async denials(actor: Actor, licenseId: string, opts: { since?: number; until?: number; limit?: number } = {}): Promise<Denial[]> {
    const license = await this.license(actor, licenseId);
    return this.deps.store.listDenials(license.id, opts);
  }

  /**
   * Denials, peak seats in use and the seats in force per hour or day of the time zone `tz` (IANA,
   * default UTC; check it with `isTimeZone` first), from the bucket that holds `since` (or as far
   * back as the retention goes, DENIAL_RETENTION_DAYS) to the end of the current bucket, or to the
   * last bucket that starts before `to`. `until` is the end of the last bucket.
   */
  async history(
    actor: Actor,
    licenseId: string,
    { bucket, tz = 'UTC', since, to }: { bucket: BucketUnit; tz?: string; since?: number; to?: number },
  ): Promise<{ buckets: HistoryBucket[]; until: number }> {
    const license = await this.license(actor, licenseId);
    const now = this.deps.now();
    const floor = now - this.deps.options.denialRetentionDays * 86_400_000;
    const from = Math.max(floor, since ?? floor);
    const until = Math.min(now + 1, to ?? Infinity);
    const bounds = bucketBounds(bucket, tz, from, until);
    return { buckets: await this.deps.store.history(license.id, bounds), until: bounds.at(-1) ?? bucketStart(bucket, tz, from) };
  }

  /**
   * The audit log of the actor's tenant (every tenant's for the operator), newest first; of one
   * license, of one action, and older than the entry `beforeId` when asked (a license the actor
   * may not touch is 403, a deleted one's log outlives it for its tenant: another tenant's
   * deleted license is 403 as a live one is, by its newest entry's tenant).
   */
  async audit(actor: Actor, { limit, licenseId, action, beforeId }: { limit: number; licenseId?: string; action?: string; beforeId?: number }): Promise<AuditEntry[]> {
    if (licenseId !== undefined && !(await this.findLicense(actor, licenseId)) && actor.kind === 'tenant') {
      const [newest] = await this.deps.store.listAudit({ licenseId, limit: 1 });
      if (newest && newest.tenantId !== actor.tenantId) throw new SeatError(ErrorCode.Forbidden, 'this license belongs to another tenant');
    }
    return this.deps.store.listAudit({ tenantId: tenantScope(actor), limit, licenseId, action, beforeId });
  }

  /** The tenants the actor may see (a tenant admin: its own), oldest first, each with its license count. */
  tenants(actor: Actor): Promise<TenantSummary[]> {
    return this.deps.store.listTenants(tenantScope(actor));
  }

  async snapshot(
    actor: Actor,
    { denialsPerLicense, audit, queuePerLicense = 100, sessionsPerLicense = Infinity }: { denialsPerLicense: number; audit: number; queuePerLicense?: number; sessionsPerLicense?: number },
  ): Promise<Snapshot> {
    const { store } = this.deps;
    const licenses = await this.licenses(actor);
    // One query each for every license, not two per license.
    const ids = licenses.map((l) => l.id);
    // Each license's newest sessions only: the board reads the rest page by page.
    const [{ sessions, totals }, denials, activations, queues] = await Promise.all([
      Number.isFinite(sessionsPerLicense) ? store.listNewestSessionsOf(ids, sessionsPerLicense) : store.listSessionsOf(ids).then((all) => newestPerLicense(all, Infinity)),
      store.listLatestDenials(ids, denialsPerLicense),
      store.countActivations(ids),
      store.listQueues(ids, queuePerLicense),
    ]);
    return {
      licenses,
      sessions,
      sessionTotals: totals,
      denials: denials.sort((a, b) => b.at - a.at),
      audit: await this.audit(actor, { limit: audit }),
      activations,
      queues,
    };
  }
}
