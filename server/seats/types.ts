// The engine's domain: what a license, a session and an admission outcome are. Times are epoch ms.
import type { ClaimantIds, DenyReason, EndReason, LicenseSettings, SeatKeyPart, SessionState } from '../../shared';

export type { ClaimantIds, LicenseSettings };

export interface Tenant {
  id: string;
  name: string;
  createdAt: number;
}

export interface License extends LicenseSettings {
  id: string;
  tenantId: string;
  secret: string;
  /**
   * The secret before the last rotation (POST /licenses/:id/secret): tokens signed with it still
   * verify until `previousSecretUntil` (epoch ms), so portals can roll over. Absent or null: none.
   */
  previousSecret?: string | null;
  previousSecretUntil?: number | null;
  /**
   * Seats held: the sum of the weights of the license's live sessions, as the license row's
   * counter stood when the row was read (or as the change that returned this license left it).
   */
  seatsInUse: number;
  createdAt: number;
  updatedAt: number;
}

/** The policy fields a license gets when its creator leaves them out (docs/contract.md 8.1). */
export const POLICY_DEFAULTS = {
  maxActivations: null,
  inactivityTimeoutSec: null,
  inactivityWarningSec: 60,
  leaseIntervalSec: 3600,
  offlineGraceSec: 0,
  overage: 1,
  queue: false,
  reservations: [],
  groupLimits: [],
} as const satisfies Partial<LicenseSettings>;

/** A license as it is created: nothing is held yet. */
export type NewLicenseRow = Omit<License, 'seatsInUse'>;

/** The fields of a license an admin may change. */
export type LicensePatch = Partial<LicenseSettings>;

/**
 * Who is asking for a seat, as the token says. Which seat it counts as is the license's seat key
 * applied to these claims (decisions/seat-key.ts), in the admission's transaction.
 */
export interface Claimant extends ClaimantIds {
  /** The `grp` claim: the claimant's group, for reservations and group limits. */
  group?: string | null;
  app: string | null;
  name: string | null;
  weight: number;
}

export interface Session extends ClaimantIds {
  id: string;
  licenseId: string;
  seatKeyValue: string;
  /** The group (`grp` claim) of the claimant that started it. */
  group: string | null;
  app: string | null;
  name: string | null;
  weight: number;
  state: SessionState;
  startedAt: number;
  idleSince: number | null;
  expiresAt: number | null;
  /** Open sockets (connection rows without a lease deadline) on every node. */
  sockets: number;
  /** Open HTTP leases (connection rows with a lease deadline). */
  leases: number;
  /** The newest activity a node flushed to the store (inactivity licenses). */
  lastActivityAt: number | null;
  /** When the pending inactivity warning went out; null while none is pending. */
  warnedAt: number | null;
  /** The newest signed seat receipt's expiry: the seat is held at least until then. */
  receiptUntil: number | null;
  /** Distinct app names of the open sockets, and of the session's first one. */
  apps: string[];
}

export interface Denial extends ClaimantIds {
  licenseId: string;
  at: number;
  reason: DenyReason;
}

/** The fields of ClaimantIds, for code that lists them (the OpenAPI document's schemas). */
export const CLAIMANT_ID_FIELDS = ['sessionRef', 'userId', 'deviceId', 'instanceId'] as const satisfies ReadonlyArray<keyof ClaimantIds>;

/** Just the ids of a claimant, session or denial: what a denial or a session row copies of it. */
export function claimantIds({ sessionRef, userId, deviceId, instanceId }: ClaimantIds): ClaimantIds {
  return { sessionRef, userId, deviceId, instanceId };
}

export interface AdmitRequest {
  licenseId: string;
  /** The connection's id: a socket's id, or `lease:<leaseId>` for an HTTP lease. */
  socketId: string;
  nodeId: string;
  claimant: Claimant;
  now: number;
  /** An HTTP lease's deadline: the connection row goes when it passes unrenewed (not when a node dies). */
  renewBy?: number;
  /** Wait in the license's queue instead of being denied when no seat fits (a license with `queue`). */
  queue?: boolean;
}

/** A user's request for a seat (POST /seat-requests). */
export interface SeatRequest {
  id: string;
  licenseId: string;
  at: number;
  sessionRef: string | null;
  userId: string | null;
  deviceId: string | null;
  name: string | null;
  message: string | null;
}

/** Where a queued claimant stands: 1 is next. */
export interface QueuePlace {
  position: number;
  queueLength: number;
}

/** A claimant waiting in a license's queue, as the dashboard lists it (server/store/queue-list.ts). */
export interface QueuedClaimant extends ClaimantIds {
  licenseId: string;
  /** 1 is next; counts only claimants whose socket is attached. */
  position: number;
  /** The license's whole queue (the list may be cut short). */
  queueLength: number;
  group: string | null;
  name: string | null;
  app: string | null;
  weight: number;
  /** When it joined the queue (epoch ms). */
  since: number;
}

/** A queued socket granted a seat by the transaction that freed it (on whatever node that ran). */
export interface QueueGrant {
  socketId: string;
  nodeId: string;
  license: License;
  session: Session;
  seatsInUse: number;
  resumed: boolean;
  overage: boolean;
}

/**
 * A queued socket whose turn came but whose device would go beyond the license's
 * `maxActivations` (the activations changed while it waited): it left the queue denied
 * `too_many_activations`, recorded as any denial, and the seat went on to the next in line.
 */
export interface QueueRefusal {
  socketId: string;
  nodeId: string;
  license: License;
  denial: Denial;
  seatsInUse: number;
}

export type AdmitOutcome =
  | {
      kind: 'granted';
      resumed: boolean;
      license: License;
      session: Session;
      seatsInUse: number;
      /** Idle sessions past their deadline that this admission released on its way. */
      expired: EndedSession[];
      /** The resumed session had an inactivity warning pending: this connect ended it. */
      warningCleared?: boolean;
      /** The grant took the license past `seats`, into its overage. */
      overage: boolean;
    }
  | { kind: 'denied'; license: License; denial: Denial; seatsInUse: number; expired: EndedSession[]; retryAfterSec?: number }
  /** No seat fits and the claimant asked to wait: it is in the queue, nothing is held. */
  | ({ kind: 'queued'; license: License; seatsInUse: number; expired: EndedSession[] } & QueuePlace)
  | { kind: 'license_not_found' }
  /** The license's seat key (as the transaction read it) needs a claim the claimant lacks; nothing was written. */
  | {
      kind: 'missing_claim';
      license: License;
      missing: SeatKeyPart;
      claim: string;
      /** The claim is needed to count activations (`maxActivations`), not by the seat key. */
      activations?: true;
    };

/** A session whose inactivity warning or release time has come, with its license's settings. */
export interface InactivityCandidate {
  session: Session;
  licenseId: string;
  inactivityTimeoutSec: number;
  inactivityWarningSec: number;
}

/** A device activated on a license: from its first grant until an admin deactivates it. */
export interface Activation {
  licenseId: string;
  deviceId: string;
  activatedAt: number;
  /** The device's latest grant or resume. */
  lastSeenAt: number;
}

export interface EndedSession {
  license: License;
  session: Session;
  reason: EndReason;
  seatsInUse: number;
}

export interface DetachOutcome {
  license: License;
  session: Session;
  seatsInUse: number;
}

export interface AuditEntry {
  id: number;
  at: number;
  tenantId: string | null;
  licenseId: string | null;
  actor: string;
  action: string;
  detail: Record<string, unknown>;
}

/** Counts per time bucket, aggregated by the store for the dashboard's charts. */
export interface HistoryBucket {
  /** Bucket start, epoch ms. */
  at: number;
  denials: number;
  /** Highest seats in use recorded in the bucket (carried over from before when nothing moved). */
  peakSeatsInUse: number;
  /** Denials per reason (reasons with none left out). */
  denialsByReason: Partial<Record<DenyReason, number>>;
  /** The highest seat count in force at any moment of the bucket. */
  seats: number;
  /** At some moment of the bucket every seat then in force was taken (and there was at least one). */
  full: boolean;
  /** Claimants granted a seat from the queue in the bucket. */
  queuedGranted: number;
  /** Unmet demand: claimants that left the queue in the bucket without a seat. */
  unmetDemand: number;
  /** How long those waited before they left, on average, in whole seconds (null when none left). */
  unmetAvgWaitSec: number | null;
}

/** How many denials one license had for one reason (the metrics' gauges). */
export interface DenialCount {
  licenseId: string;
  reason: DenyReason;
  count: number;
}
