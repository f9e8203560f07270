// The socket.io wire contract: event maps and payloads for the app namespace `/` and the admin
// namespace `/admin`. The server is `Server<C2S, S2C, Inter, Data>`, the SDK `Socket<S2C, C2S>`.
import type {
  AuthErrorCode,
  DenyReason,
  EndReason,
  ErrorCode,
  LicenseStatus,
  SessionState,
  WarningReason,
} from './codes';
import type { SeatKey } from './claims';

export interface SeatGrantedPayload {
  sessionId: string;
  licenseId: string;
  resumed: boolean;
  seatsInUse: number;
  seats: number;
  idleTimeoutSec: number;
  /** The grant took the license past `seats`, into its overage (always false on a resume). */
  overage: boolean;
  /** A signed seat receipt (compact JWS, docs/contract.md 8.5), when the license has `offlineGraceSec > 0`. */
  receipt?: string;
}

export interface SeatDeniedPayload {
  reason: DenyReason;
  message: string;
  seatsInUse: number;
  seats: number;
  /** `kicked`: the seconds left of the seat key's cool-down, after which it may connect again. */
  retryAfterSec?: number;
}

export interface SessionEndedPayload {
  reason: EndReason;
  message: string;
}

/** `err.data` of a socket's `connect_error`. */
export interface AuthErrorData {
  reason: AuthErrorCode;
  message: string;
}

/**
 * A problem with something the client sent (unknown event, bad payload); changes nothing. Or an
 * admission that could not be made after the handshake: `unavailable` (the store failed; try again),
 * or `license_not_found` / `missing_claim` (the license was deleted, or its seat key changed, on
 * another node within the second this node's copy of it lasts), the handshake's refusal, told late.
 */
export interface SeatErrorPayload {
  code: ErrorCode | typeof AuthErrorCode.LicenseNotFound | typeof AuthErrorCode.MissingClaim;
  message: string;
}

/** `seat:warning`: the seat is released at `releasesAt` (ISO) unless activity arrives first. */
export interface SeatWarningPayload {
  reason: WarningReason;
  releasesAt: string;
  message: string;
}

/** `seat:warning-cleared`: activity arrived in time. */
export interface SeatWarningClearedPayload {
  reason: WarningReason;
}

/** `seat:receipt`: a fresh signed seat receipt while the seat is held. */
export interface SeatReceiptPayload {
  receipt: string;
}

/** `seat:queued`: where a waiting client stands (1 is next), sent again whenever it moves. */
export interface SeatQueuedPayload {
  position: number;
  queueLength: number;
}

/** `seat:demand`: how many clients wait for a seat of the license (queued, or asked lately). */
export interface SeatDemandPayload {
  waiting: number;
}

export type EndSessionAck = { ok: true } | { ok: false; error: SeatErrorPayload };

export interface ServerToClientEvents {
  'seat:granted': (payload: SeatGrantedPayload) => void;
  'seat:denied': (payload: SeatDeniedPayload) => void;
  'session:ended': (payload: SessionEndedPayload) => void;
  'seat:error': (payload: SeatErrorPayload) => void;
  'seat:warning': (payload: SeatWarningPayload) => void;
  'seat:warning-cleared': (payload: SeatWarningClearedPayload) => void;
  'seat:receipt': (payload: SeatReceiptPayload) => void;
  'seat:queued': (payload: SeatQueuedPayload) => void;
  'seat:demand': (payload: SeatDemandPayload) => void;
}

export interface ClientToServerEvents {
  'session:end': (ack: (result: EndSessionAck) => void) => void;
  /** The user did something in this tab: keeps the whole session active (no payload). */
  'session:activity': () => void;
}

/** Between the nodes of one deployment (socket.io's serverSideEmit, through Redis). */
export interface InterServerEvents {
  /** A session ended on one node: every other node tells its own sockets of it. */
  'session:ended': (sessionId: string, payload: SessionEndedPayload) => void;
  /** An inactivity warning was sent out, or cleared, on one node: every other node tells its sockets. */
  'seat:warning': (sessionId: string, payload: SeatWarningPayload) => void;
  'seat:warning-cleared': (sessionId: string, payload: SeatWarningClearedPayload) => void;
  /** A queued socket on another node was granted: its node tells it (the grant as the admission's). */
  'seat:queue-granted': (socketId: string, grant: QueueGrantMessage) => void;
  /** A queued socket on another node was refused at its turn (its device beyond the activations): its node tells it, and lets it go. */
  'seat:queue-refused': (socketId: string, denied: SeatDeniedPayload) => void;
  /** A license's queue changed: every node tells its queued sockets where they stand now. */
  'seat:queue-changed': (licenseId: string) => void;
  /** A license was deleted with its queue: every node tells its queued sockets, and lets them go. */
  'seat:queue-closed': (licenseId: string, payload: SessionEndedPayload) => void;
}

/** A queue grant as it travels between nodes (`seat:queue-granted`). */
export interface QueueGrantMessage {
  granted: SeatGrantedPayload;
  sessionId: string;
  /** The node the queued socket was on. */
  nodeId?: string;
  /** The server's own view of the session and license (for the grant's receipt); not for clients. */
  context?: unknown;
}

export interface SocketData {
  licenseId: string;
  tenantId: string;
  sessionId?: string;
  /** Waiting in the license's queue (until granted). */
  queued?: boolean;
}

// ---- views shared by REST and the admin namespace ----

/** A license's settings: what an admin sets when creating it and may change later. */
export interface LicenseSettings {
  name: string;
  seats: number;
  seatCap: number | null;
  seatKey: SeatKey;
  idleTimeoutSec: number;
  status: LicenseStatus;
  deniedMessage: string;
  /** How many distinct devices (`dev` claim) may hold activations at once; null: unlimited. */
  maxActivations: number | null;
  /** Connected sessions with no `session:activity` this long are released (`inactive`); null: off. */
  inactivityTimeoutSec: number | null;
  /** This long before an inactivity release, the session's sockets get `seat:warning`. */
  inactivityWarningSec: number;
  /** An HTTP lease not renewed within this long lets go of its connection. */
  leaseIntervalSec: number;
  /** When > 0, grants carry a signed seat receipt valid this long, and the seat is held until it expires. */
  offlineGraceSec: number;
  /** Seats may be granted up to `floor(seats × overage)` (1 to 2); grants above `seats` are marked `overage`. */
  overage: number;
  /** A client that asks to wait is queued instead of denied when no seat is free. */
  queue: boolean;
  /** Seats only claimants of a group (`grp` claim) may take, each within its window if it has one. */
  reservations: ReservationView[];
  /** Claimants of a group hold at most `max` seats together; beyond it they are denied `group_limit`. */
  groupLimits: GroupLimitView[];
}

/** `{ days, from, to, tz }`: ISO weekdays 1 to 7, `"HH:MM"` local times, an IANA time zone. */
export interface ReservationWindowView {
  days: number[];
  from: string;
  to: string;
  tz: string;
}

export interface ReservationView {
  group: string;
  seats: number;
  window?: ReservationWindowView;
}

export interface GroupLimitView {
  group: string;
  max: number;
}

export interface LicenseView extends LicenseSettings {
  id: string;
  tenantId: string;
  seatsInUse: number;
  createdAt: string;
  updatedAt: string;
}

/** A lease as POST and PUT /leases answer it (docs/contract.md, "HTTP leases"). */
export interface LeaseView {
  leaseId: string;
  sessionId: string;
  licenseId: string;
  resumed: boolean;
  seatsInUse: number;
  seats: number;
  /** The grant took the license past `seats`, into its overage (false on a renewal). */
  overage: boolean;
  /** ISO time: renew before it, or the lease lapses (its seat then idles for `idleTimeoutSec`). */
  renewBy: string;
  leaseIntervalSec: number;
  idleTimeoutSec: number;
  /** A signed seat receipt, when the license has offline grace. */
  receipt?: string;
}

/** A device activated on a license (GET /licenses/:id/activations). */
export interface ActivationView {
  deviceId: string;
  activatedAt: string;
  lastSeenAt: string;
}

/** Who holds or asked for a seat: the token's `sid`, `sub`, `dev` and `ins` claims, null when absent. */
export interface ClaimantIds {
  sessionRef: string | null;
  userId: string | null;
  deviceId: string | null;
  instanceId: string | null;
}

export interface SessionView extends ClaimantIds {
  id: string;
  licenseId: string;
  /** The claimant's group (`grp` claim), if any. */
  group: string | null;
  state: SessionState;
  app: string | null;
  apps: string[];
  name: string | null;
  weight: number;
  sockets: number;
  /** Open HTTP leases (docs/contract.md 8.4). */
  leases: number;
  startedAt: string;
  idleSince: string | null;
  expiresAt: string | null;
  /** The newest activity on record (inactivity licenses); null when none was reported yet. */
  lastActivityAt: string | null;
  /**
   * When the pending inactivity warning went out (null: none pending). The release falls at
   * `lastActivityAt` + the license's `inactivityTimeoutSec`.
   */
  warnedAt: string | null;
  /** The newest signed receipt's expiry (offline grace): the seat is held at least until then. */
  receiptUntil: string | null;
}

export interface DenialView extends ClaimantIds {
  at: string;
  licenseId: string;
  reason: DenyReason;
}

/** A user's request for a seat (GET /licenses/:id/seat-requests, `admin:seat-request`). */
export interface SeatRequestView {
  id: string;
  at: string;
  userId: string | null;
  name: string | null;
  message: string | null;
}

export interface AuditEntryView {
  id: number;
  at: string;
  tenantId: string | null;
  licenseId: string | null;
  actor: string;
  action: string;
  detail: Record<string, unknown>;
}

/** A claimant waiting in a license's queue, as the dashboard shows it (`GET /licenses/:id/queue`). */
export interface QueueEntryView {
  /** 1 is next. */
  position: number;
  userId: string | null;
  name: string | null;
  app: string | null;
  group: string | null;
  /** When it joined the queue. */
  since: string;
}

/** A license's queue: its first entries (at most 100 on the board) and its whole length. */
export interface QueueView {
  queueLength: number;
  queue: QueueEntryView[];
}

/** `admin:queue`: the license's queue changed (someone joined, left, or was granted a seat). */
export interface AdminQueueChange extends QueueView {
  licenseId: string;
}

export interface AdminSnapshot {
  actor: { kind: 'operator' } | { kind: 'tenant'; tenantId: string; tenantName: string };
  licenses: LicenseView[];
  /** The newest 200 sessions of each license; `sessionTotals` counts them all, and the rest are read page by page (GET /licenses/:id/sessions). */
  sessions: SessionView[];
  /** Live sessions per license id (licenses with none are left out). */
  sessionTotals: Record<string, number>;
  /** Newest first, a bounded page per license. */
  denials: DenialView[];
  audit: AuditEntryView[];
  /** Activated devices per license id (licenses with none are left out): "2 of `maxActivations`". */
  activations: Record<string, number>;
  /** The queues of licenses with claimants waiting (licenses with none are left out). */
  queues: Record<string, QueueView>;
  serverTime: string;
}

/**
 * The server's bounds for the license settings the dashboard edits, shown beside the fields before
 * anyone breaks them. The dashboard's page carries them (server/http/pages.ts).
 */
export interface AdminLimits {
  /** IDLE_TIMEOUT_MIN_SEC and IDLE_TIMEOUT_MAX_SEC: a license's `idleTimeoutSec` lies between them. */
  idleTimeoutSec: { min: number; max: number };
  /** INACTIVITY_TIMEOUT_MIN_SEC and _MAX_SEC: a license's `inactivityTimeoutSec`, when set, lies between them. */
  inactivityTimeoutSec?: { min: number; max: number };
}

/** `admin:license-removed`: the license was deleted (its sessions ended first, each with `admin:session-removed`). */
export interface AdminLicenseRemoved {
  licenseId: string;
  tenantId: string;
}

export interface AdminSessionChange {
  licenseId: string;
  seatsInUse: number;
  session: SessionView;
  /**
   * What happened: a new seat, a socket joining or leaving a live session, the last one leaving, or
   * an inactivity warning going out (`warnedAt` set) or ended by activity.
   */
  event: 'granted' | 'resumed' | 'detached' | 'idle' | 'warning' | 'warning-cleared';
}

export interface AdminSessionRemoved {
  licenseId: string;
  seatsInUse: number;
  sessionId: string;
  reason: EndReason;
}

export interface AdminServerToClientEvents {
  /** Sent once on connect: everything the admin may see. */
  'admin:snapshot': (snapshot: AdminSnapshot) => void;
  /** A license was created or changed (seats, status, settings) or its seats in use moved. */
  'admin:license': (license: LicenseView) => void;
  /** A session started, resumed, gained or lost a socket, or went idle. */
  'admin:session': (change: AdminSessionChange) => void;
  /** A session's seat was released. */
  'admin:session-removed': (change: AdminSessionRemoved) => void;
  'admin:denial': (denial: DenialView & { seatsInUse: number }) => void;
  'admin:audit': (entry: AuditEntryView) => void;
  /** A user asked for a seat (POST /seat-requests). */
  'admin:seat-request': (request: SeatRequestView & { licenseId: string }) => void;
  /** A license was deleted: drop it from the board. */
  'admin:license-removed': (removed: AdminLicenseRemoved) => void;
  /** The license's queue changed: its first 100 waiting claimants in order, and its length. */
  'admin:queue': (change: AdminQueueChange) => void;
  'seat:error': (payload: SeatErrorPayload) => void;
}

/** The answer to `admin:watch` and `admin:unwatch`. */
export type AdminWatchAck = { ok: true } | { error: { code: ErrorCode | AuthErrorCode; message: string } };

/**
 * A board that sends `admin:watch` hears `admin:session` and `admin:session-removed` only for the
 * licenses it watches (license-level events still come for every license); one that never does
 * hears every session's, as before.
 */
export interface AdminClientToServerEvents {
  'admin:watch': (req: { licenseId: string }, ack?: (reply: AdminWatchAck) => void) => void;
  'admin:unwatch': (req: { licenseId: string }, ack?: (reply: AdminWatchAck) => void) => void;
}

/** What a webhook may subscribe to (docs/contract.md "Webhooks"). */
export const WebhookEventType = {
  SessionStarted: 'session.started',
  SessionResumed: 'session.resumed',
  SessionIdle: 'session.idle',
  SessionEnded: 'session.ended',
  SeatDenied: 'seat.denied',
  /** A claimant joined the license's queue. */
  SeatQueued: 'seat.queued',
  /** A user asked for a seat (POST /seat-requests). */
  SeatRequested: 'seat.requested',
  LicenseFull: 'license.full',
  /** A grant took the license past its seats, into its overage (the first grant past them). */
  LicenseOverage: 'license.overage',
  LicenseChanged: 'license.changed',
} as const;
export type WebhookEventType = (typeof WebhookEventType)[keyof typeof WebhookEventType];

/** A webhook as `GET /webhooks` lists it (its secret only in the reply to its creation). */
export interface WebhookView {
  id: string;
  url: string;
  events: WebhookEventType[];
  licenseId: string | null;
  /** Null: the operator's, which gets every tenant's events. */
  tenantId: string | null;
  createdAt: string;
  /** How many of its requests may be in flight at once, no session in two (1: one at a time, in the order they happened). */
  concurrency: number;
  /** How many events one request may carry (1: one event per POST, the event the body; above 1: a JSON array of events). */
  batchSize: number;
}

/** One event's delivery to one webhook (`GET /webhooks/:id/deliveries`). */
export interface WebhookDeliveryView {
  id: number;
  /** The event's type. */
  event: WebhookEventType;
  /** The event's `id`, as in the delivered body. */
  eventId: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastAttemptAt: string | null;
  /** When a pending delivery is tried next. */
  nextAttemptAt: string | null;
  responseStatus: number | null;
  /** Why the last attempt failed without a status (a timeout, a refused connection). */
  error: string | null;
}
