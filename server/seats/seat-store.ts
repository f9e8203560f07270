// The one store interface, in the engine's words. Every method that changes seats is one
// transaction, serialised per license, so concurrent callers on any number of nodes agree.
import type { EndReason } from '../../shared';
import type { LeaseClaim, LeaseRecord, LeaseReleaseOutcome, LeaseRenewOutcome } from './leases';
import type { WebhookStore } from './webhook-store';
import type {
  Activation,
  AdmitOutcome,
  AdmitRequest,
  AuditEntry,
  ClaimantIds,
  Denial,
  DenialCount,
  DetachOutcome,
  EndedSession,
  HistoryBucket,
  InactivityCandidate,
  License,
  QueueGrant,
  QueueRefusal,
  QueuePlace,
  SeatRequest,
  QueuedClaimant,
  LicensePatch,
  NewLicenseRow,
  Session,
  Tenant,
} from './types';

/** How far the activity every node heard is on record, for an inactivity release (server/seats/inactivity.ts). */
export interface HeardThrough {
  /** The releasing node: its own horizon is `through`, not read from its row. */
  nodeId: string;
  /** Every activity this node heard before this moment is on record. */
  through: number;
  /** Nodes that beat since then are live. What a dead node heard and never wrote is lost with it. */
  liveSince: number;
}

/** A tenant admin's kick of a session of another tenant's license: nothing was changed. */
export const OTHER_TENANT = Symbol('another tenant');

/** Told the licenses whose queues a node's release took sockets out of: those behind them moved up. */
export type QueuesLeft = (licenseIds: string[]) => void;

export interface SeatStore {
  /**
   * Runs the migrations; throws when one fails. Answers the migrations a newer version ran on the
   * database that this one does not know, if any (it then runs none: it has all of its own).
   */
  migrate(): Promise<{ newer: string[] } | void>;
  /** Resolves when the database answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /**
   * Settles at once the calls whose answers have come, where the store reads them off the event
   * loop (PostgreSQL's one-trip moves): for a caller inside a long turn of the loop, such as a mass
   * disconnect's teardown, which would otherwise read them only after every socket ready before.
   */
  pump?(): void;

  createTenant(tenant: Tenant, adminTokenHash: string): Promise<Tenant>;
  findTenantByTokenHash(hash: string): Promise<Tenant | undefined>;
  getTenant(id: string): Promise<Tenant | undefined>;
  /** Stores `value` under `key` unless a value is there; returns the value that holds. */
  putSettingIfAbsent(key: string, value: string): Promise<string>;
  getSetting(key: string): Promise<string | undefined>;

  /** Throws `StoreConflictError` when the id is taken. */
  /**
   * `deletedSince`: a license of the same id deleted since then (ms) still holds the id (its audit
   * entries are kept by it). `tenant`: made in the same transaction where it does not exist (the
   * operator's own), so a refused license makes none.
   */
  createLicense(license: NewLicenseRow, deletedSince?: number, tenant?: NewTenant): Promise<License>;
  /** The license with its `seatsInUse`, read with the row. */
  getLicense(id: string): Promise<License | undefined>;
  /** Every license (of the tenant), each with its `seatsInUse`, in one query. */
  listLicenses(tenantId?: string): Promise<License[]>;
  /**
   * Applies the patch in one transaction. Suspending ends every session (`license_suspended`);
   * lowering seats below those in use ends the newest sessions (`seats_reduced`) until it fits.
   * The license returned carries `seatsInUse` as the change left it. A new seat key re-keys its
   * live sessions and waiting clients (licenses.ts, `rekey`).
   */
  updateLicense(
    id: string,
    patch: LicensePatch,
    now: number,
  ): Promise<{ license: License; ended: EndedSession[] } | undefined>;
  /**
   * Moves the license to another tenant, only while it holds no session and nobody is queued
   * (else `conflict` says what to end first); its seat events so far stay the old tenant's.
   */
  moveLicense(id: string, tenantId: string, now: number): Promise<{ license: License; from: string } | { conflict: string } | undefined>;

  /** Resume the live session of the seat key, else grant if it fits, else record the denial. */
  admit(req: AdmitRequest): Promise<AdmitOutcome>;
  /** Records a denial decided outside the store (a hook's refusal). */
  recordDenial(denial: Denial): Promise<number>;
  /**
   * Removes a socket's connection row; the session goes idle when it was the last one.
   * `licenseId`, the license the socket was admitted to, lets a store share one transaction among
   * the sockets of a license leaving together.
   */
  detach(socketId: string, now: number, licenseId?: string): Promise<DetachOutcome | undefined>;
  /**
   * Ends a live session now. A kick puts the seat key in cool-down until `cooldownUntil`. With
   * `tenantId` (a tenant admin's kick) only a session of that tenant's licenses ends: another's is
   * answered `OTHER_TENANT`, changing nothing.
   */
  endSession(sessionId: string, reason: EndReason, now: number, cooldownUntil?: number): Promise<EndedSession | undefined>;
  endSession(sessionId: string, reason: EndReason, now: number, cooldownUntil: number | undefined, tenantId: string | undefined): Promise<EndedSession | undefined | typeof OTHER_TENANT>;
  /** Releases every idle session of the license past its deadline, in one transaction (exactly once each). */
  expireLicense(licenseId: string, now: number): Promise<EndedSession[]>;
  /** Idle sessions whose deadline is at or before `before`. */
  listExpiring(before: number): Promise<Array<{ id: string; licenseId: string; expiresAt: number }>>;
  getSession(id: string): Promise<Session | undefined>;
  /**
   * Which of these sessions no longer exist, with the reason each was released for: `ended` when
   * that is no longer on record (the release aged out of the seat history).
   */
  endedAmong(sessionIds: string[]): Promise<Array<{ sessionId: string; reason: EndReason }>>;
  /** The license's live sessions, oldest first. */
  listSessions(licenseId: string): Promise<Session[]>;
  /** The live sessions of many licenses in one query, in the order of `licenseIds`, each license's oldest first. */
  listSessionsOf(licenseIds: readonly string[]): Promise<Session[]>;
  /** As listSessionsOf, but only each license's newest `perLicense` sessions, and every license's count (licenses with none left out). */
  listNewestSessionsOf(licenseIds: readonly string[], perLicense: number): Promise<{ sessions: Session[]; totals: Map<string, number> }>;
  /** A page of the license's sessions by start time (ties by id), of one user or state when given, with the license's count and the matching count. */
  pageSessionsByStart(
    licenseId: string,
    query: { user?: string; state?: string; order: 'asc' | 'desc'; limit: number; offset: number },
  ): Promise<{ sessions: Session[]; total: number; matched: number }>;
  /** The license's denials, newest first, from `since` and before `until`. */
  listDenials(licenseId: string, opts?: { since?: number; until?: number; limit?: number }): Promise<Denial[]>;
  /** The denials of every license per reason since `since`, in one grouped query (the metrics). */
  countDenials(since: number): Promise<DenialCount[]>;
  /** The newest `perLicense` denials of each license in one query, in the order of `licenseIds`, each newest first. */
  listLatestDenials(licenseIds: readonly string[], perLicense: number): Promise<Denial[]>;
  /**
   * Per bucket [bounds[i], bounds[i + 1]): denials, the peak of seats in use, the seats in force
   * and whether they were all taken. Deleting history keeps the seat count in force at `before`.
   */
  history(licenseId: string, bounds: readonly number[]): Promise<HistoryBucket[]>;
  /** Deletes denials, seat history and seat requests older than `before`. */
  pruneHistory(before: number): Promise<number>;

  /** The license's activated devices, first activated first. */
  listActivations(licenseId: string): Promise<Activation[]>;
  /** How many devices are activated on each of these licenses (those with none are left out), in one query. */
  countActivations(licenseIds: readonly string[]): Promise<Map<string, number>>;
  /**
   * Removes the device's activation and ends its live sessions (`deactivated`) in one transaction;
   * undefined when the license has no such activation.
   */
  deactivate(licenseId: string, deviceId: string, now: number): Promise<{ license: License; ended: EndedSession[] } | undefined>;

  /**
   * Records activity at `at` for these sessions (where older activity is on record) and ends their
   * pending inactivity warnings, in one transaction; returns the sessions whose warning it ended.
   */
  recordActivity(sessionIds: readonly string[], at: number): Promise<Array<{ sessionId: string; licenseId: string }>>;
  /** Active sessions of licenses with an inactivity timeout whose warning (or release) time has come. */
  inactivityDue(now: number): Promise<InactivityCandidate[]>;
  /** Marks the session warned, unless it was already or newer activity came: exactly one caller wins. */
  markWarned(sessionId: string, lastActivityAt: number, now: number): Promise<Session | undefined>;
  /**
   * Releases the license's sessions whose inactivity release has come (`inactive`), in one
   * transaction. With `heard`, only those whose deadline every live node's activity on record has
   * passed (this node's own horizon given, the others' read from their heartbeat rows).
   */
  releaseInactive(licenseId: string, now: number, flushMs: number, heard?: HeardThrough): Promise<EndedSession[]>;

  // The queue (server/store/queue.ts). Every release serves it in its own transaction.
  /** Calls `listener` with the queue grants of each transaction, once it has committed. */
  onQueueGrants(listener: (grants: QueueGrant[]) => void): void;
  /** Calls `listener` with the queued sockets each transaction refused at their turn (QueueRefusal), once it has committed. */
  onQueueRefusals(listener: (refusals: QueueRefusal[]) => void): void;
  /** The queued socket went away: its place is kept for the license's idle timeout; the license, if it was queued. */
  leaveQueue(socketId: string, now: number): Promise<string | undefined>;
  /** Entries gone longer than their idle timeout leave for good; the licenses whose queue changed. */
  purgeQueue(now: number): Promise<string[]>;
  /** Serves the license's queue now (more seats, a restored license, a backstop). */
  serveQueue(licenseId: string, now: number): Promise<QueueGrant[]>;
  /** Licenses with sockets waiting. */
  queuedLicenses(): Promise<string[]>;
  /** The license's waiting sockets, in order. */
  queuePlaces(licenseId: string): Promise<Array<{ socketId: string; nodeId: string } & QueuePlace>>;
  /** Of these sockets a node holds as queued, those a queue grant gave a seat at or before `grantedBy` (its word may have been lost). */
  grantedSockets(socketIds: readonly string[], grantedBy: number): Promise<QueueGrant[]>;
  /** Of these sockets a node holds as queued, those with neither a place nor a seat (refused at their turn, their license deleted, or a seat granted and ended; the word may have been lost). */
  unqueuedSockets(socketIds: readonly string[]): Promise<string[]>;
  /** Places kept for a reconnect whose seat key waits again behind them (a new socket) are handed to it; the licenses whose queue moved. */
  mergeKeptPlaces(): Promise<string[]>;
  /** The first `limit` waiting claimants of each of these licenses, in order (the dashboard). */
  listQueues(licenseIds: readonly string[], limit: number): Promise<QueuedClaimant[]>;

  // Seat requests (server/store/seat-requests.ts).
  /** Records a request with its seat event, unless its requester made `perHour` in the last hour (then when it may again). */
  recordRequest(req: Omit<SeatRequest, 'id'> & { requester: string }, perHour: number): Promise<{ request: SeatRequest } | { retryAt: number }>;
  /** The license's requests, newest first. */
  listRequests(licenseId: string, limit?: number): Promise<SeatRequest[]>;
  /** How many requests the license had since `since`. */
  countRequests(licenseId: string, since: number): Promise<number>;

  // HTTP leases (server/store/leases.ts): a lease's connection row is `lease:<id>` with a deadline.
  /** Records a lease the admission granted. */
  recordLease(lease: LeaseRecord): Promise<void>;
  /** Moves the lease's deadline (activity); a lapsed lease whose session is still held joins it again. */
  renewLease(leaseId: string, claim: LeaseClaim, now: number): Promise<LeaseRenewOutcome>;
  /** Lets go of the lease; its session ends (`ended_by_app`) when no other connection remains. */
  releaseLease(leaseId: string, claim: LeaseClaim, now: number): Promise<LeaseReleaseOutcome>;
  /** Lets go of leases not renewed by `now` (each once, whatever the nodes); sessions left without a connection go idle. */
  lapseLeases(now: number): Promise<DetachOutcome[]>;
  /** Forgets leases whose deadline passed before `before`. */
  pruneLeases(before: number): Promise<number>;

  addAudit(entry: Omit<AuditEntry, 'id'>): Promise<AuditEntry>;
  /** Newest first, filtered; `beforeId` pages on (the entries written before that one). */
  listAudit(opts: AuditQuery): Promise<AuditEntry[]>;

  /** Every tenant (or just `tenantId`), oldest first, each with its license count. */
  listTenants(tenantId?: string): Promise<TenantSummary[]>;
  /** Replaces the tenant's admin token hash (the old token fails at once); false when there is no such tenant. */
  rotateTenantToken(tenantId: string, adminTokenHash: string): Promise<boolean>;
  /** A new secret; the old one verifies tokens until `previousUntil`. Undefined when there is no such license. */
  rotateSecret(licenseId: string, secret: string, previousUntil: number, now: number): Promise<License | undefined>;
  /**
   * Ends the license's sessions (`license_deleted`) and deletes it with its connections, leases,
   * cool-downs, activations, denials and seat counts, in one transaction under its lock; the audit
   * log and the seat history (the webhooks' outbox) stay. Undefined when there is no such license.
   */
  deleteLicense(licenseId: string, now: number): Promise<{ license: License; ended: EndedSession[] } | undefined>;

  /**
   * Writes the node's heartbeat, with how far the activity it heard is on record (`activityThrough`,
   * else `now`); false when its row was missing (a first beat, or it was declared dead).
   */
  heartbeat(nodeId: string, now: number, activityThrough?: number): Promise<boolean>;
  /**
   * Declares nodes dead: those beating before `deadBefore` (and every node but `keep` when
   * `allOthers`). Their connection rows go, unless the node beats again meanwhile; sessions left
   * without one go idle from the moment their rows go (`clock`, else `now`). Their queued
   * sockets' places are kept for a reconnect, out of the queue meanwhile (`queuesLeft`).
   */
  reapNodes(opts: { deadBefore: number; now: number; keep: string; allOthers?: boolean; clock?: () => number; queuesLeft?: QueuesLeft }): Promise<DetachOutcome[]>;
  /**
   * Drops a node's connection rows and its node row (a graceful stop, a restart); sessions go idle.
   * With `aliveSince`, stops as soon as the node has beaten since then.
   */
  releaseNode(nodeId: string, now: number, opts?: { aliveSince?: number; clock?: () => number; queuesLeft?: QueuesLeft }): Promise<DetachOutcome[]>;

  /**
   * Offline grace: moves an active session's receipt hold (`receiptUntil`) to `now` plus its
   * license's `offlineGraceSec` when that is later, in one conditional update. Undefined when the
   * session is gone or idle, or the license has no grace: then no receipt may be signed.
   */
  extendReceipt(sessionId: string, now: number): Promise<ReceiptHold | undefined>;

  /** Webhooks, their claims, their outbox reads and the delivery log (server/store/webhooks.ts). */
  readonly webhooks: WebhookStore;
}

/** A session's receipt hold as `extendReceipt` left it: what a fresh receipt is signed for. */
export interface ReceiptHold extends ClaimantIds {
  sessionId: string;
  licenseId: string;
  /** The hold on record (epoch ms): a receipt signed now must not expire later. */
  receiptUntil: number;
  /** The license's grace as the update read it. */
  offlineGraceSec: number;
}

export interface AuditQuery {
  tenantId?: string;
  licenseId?: string;
  action?: string;
  beforeId?: number;
  limit?: number;
}

export interface TenantSummary extends Tenant {
  /** How many licenses the tenant has. */
  licenses: number;
}

/** A tenant to make with its admin token's hash (the token itself is never stored). */
export interface NewTenant {
  tenant: Tenant;
  adminTokenHash: string;
}

export class StoreConflictError extends Error {
  /** `deleted`: the id was a deleted license's, whose seat history is still kept. */
  readonly reason?: 'deleted';
  constructor(message: string, options?: { cause?: unknown; reason?: 'deleted' }) {
    super(message, options);
    this.name = 'StoreConflictError';
    this.reason = options?.reason;
  }
}
