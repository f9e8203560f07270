// Reason and error codes of the wire contract (docs/contract.md). One `as const` object per family,
// with a union type beside it, so a misspelt code fails the type check.

/** Why a socket's authentication failed: `connect_error` with `err.message` set to the code. */
export const AuthErrorCode = {
  InvalidToken: 'invalid_token',
  TokenExpired: 'token_expired',
  MissingClaim: 'missing_claim',
  LicenseNotFound: 'license_not_found',
  RateLimited: 'rate_limited',
  Unavailable: 'unavailable',
  /** The handshake's `auth` asks for something wrong: `queue` not a boolean, or a queue on a license without one. */
  BadRequest: 'bad_request',
} as const;
export type AuthErrorCode = (typeof AuthErrorCode)[keyof typeof AuthErrorCode];

/** Why an admission was refused (`seat:denied`). */
export const DenyReason = {
  NoFreeSeats: 'no_free_seats',
  LicenseSuspended: 'license_suspended',
  Kicked: 'kicked',
  DeniedByApp: 'denied_by_app',
  /** A new device beyond the license's `maxActivations` (docs/contract.md section 8). */
  TooManyActivations: 'too_many_activations',
  /** The claimant's group (`grp` claim) holds as many seats as its limit allows (`groupLimits`). */
  GroupLimit: 'group_limit',
} as const;
export type DenyReason = (typeof DenyReason)[keyof typeof DenyReason];

/** Why a held seat ended. The first four (and `deactivated`, `inactive`) reach sockets in `session:ended`; `idle_timeout` only
 * appears in hooks, history and the dashboard, since no socket is left to tell (a crashed node's
 * sessions go idle and end with it too). */
export const EndReason = {
  Kicked: 'kicked',
  EndedByApp: 'ended_by_app',
  LicenseSuspended: 'license_suspended',
  SeatsReduced: 'seats_reduced',
  IdleTimeout: 'idle_timeout',
  /** The device's activation was removed (DELETE /licenses/:id/activations/:deviceId); told to its sockets. */
  Deactivated: 'deactivated',
  /**
   * The session's sockets stayed connected but reported no activity (`session:activity`) for the
   * license's `inactivityTimeoutSec`; told to its sockets. The SDK connects again on the user's next activity.
   */
  Inactive: 'inactive',
  /** An admin deleted the license (DELETE /licenses/:id); told to its sockets. Later tokens get `license_not_found`. */
  LicenseDeleted: 'license_deleted',
  /**
   * Told to a socket whose session is found gone (it ended on another node, and that node's
   * word never arrived) when the record of why is gone too: its release aged out of the seat
   * history (DENIAL_RETENTION_DAYS). No seat is ever ended with it.
   */
  Ended: 'ended',
} as const;
export type EndReason = (typeof EndReason)[keyof typeof EndReason];

/** Codes of `{ error: { code, message } }` replies and of `seat:error` socket events. */
export const ErrorCode = {
  BadRequest: 'bad_request',
  PayloadTooLarge: 'payload_too_large',
  /** 431: the request's header section is larger than Node's limit (16 KB). */
  HeadersTooLarge: 'headers_too_large',
  /** 408: the request's headers or body did not arrive in time. */
  RequestTimeout: 'request_timeout',
  Unauthorized: 'unauthorized',
  Forbidden: 'forbidden',
  NotFound: 'not_found',
  /** 405: the path exists, the method does not (the `Allow` header lists those that do). */
  MethodNotAllowed: 'method_not_allowed',
  Conflict: 'conflict',
  OutOfRange: 'out_of_range',
  UnknownEvent: 'unknown_event',
  RateLimited: 'rate_limited',
  Unavailable: 'unavailable',
  Internal: 'internal',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** What counts as one seat: the claims whose values must agree (docs/contract.md section 2). */
export const SeatKeyPart = {
  Session: 'session',
  User: 'user',
  Device: 'device',
  Instance: 'instance',
} as const;
export type SeatKeyPart = (typeof SeatKeyPart)[keyof typeof SeatKeyPart];

export const LicenseStatus = { Active: 'active', Suspended: 'suspended' } as const;
export type LicenseStatus = (typeof LicenseStatus)[keyof typeof LicenseStatus];

export const SessionState = { Active: 'active', Idle: 'idle' } as const;
export type SessionState = (typeof SessionState)[keyof typeof SessionState];

/** Kinds of durable seat history rows (the dashboard's charts are built from them). */
export const SeatEventType = {
  Granted: 'granted',
  Resumed: 'resumed',
  Idle: 'idle',
  Released: 'released',
  Denied: 'denied',
  /** A claimant joined the license's queue (no seat taken). */
  Queued: 'queued',
  /** A user asked for a seat (POST /seat-requests; no seat taken). */
  Requested: 'requested',
} as const;
export type SeatEventType = (typeof SeatEventType)[keyof typeof SeatEventType];

/** Why a `seat:warning` was sent (docs/contract.md section 8.2). */
export const WarningReason = { Inactive: 'inactive' } as const;
export type WarningReason = (typeof WarningReason)[keyof typeof WarningReason];

export const DEFAULT_DENIED_MESSAGE = 'There are no free seats available';
