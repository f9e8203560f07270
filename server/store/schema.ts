// Kysely's view of the tables (migrations/ creates them). Times are epoch milliseconds.
import type { Generated } from 'kysely';

export interface TenantsTable {
  id: string;
  name: string;
  admin_token_hash: string;
  created_at: number;
}

export interface LicensesTable {
  id: string;
  tenant_id: string;
  name: string;
  seats: number;
  seat_cap: number | null;
  seat_key: string;
  idle_timeout_sec: number;
  status: string;
  denied_message: string;
  secret: string;
  /** Sum of the weights of the license's sessions (migration 2026-11-22T02). */
  seats_in_use: Generated<number>;
  /** Null: unlimited (migration 2026-11-26T00). */
  max_activations: number | null;
  /** Null: off (migration 2026-11-26T12, as the three below). */
  inactivity_timeout_sec: number | null;
  inactivity_warning_sec: number;
  lease_interval_sec: number;
  /** 0: off. */
  offline_grace_sec: number;
  /** 1 to 2; 1: no overage (migration 2026-11-26T16, as the three below). */
  overage: number;
  /** 0 or 1. */
  queue: number;
  /** JSON `[{ group, seats, window? }]`. */
  reservations: string;
  /** JSON `[{ group, max }]`. */
  group_limits: string;
  /** The secret before the last rotation, still verifying tokens until `previous_secret_until` (migration 2026-11-26T14). */
  previous_secret: string | null;
  previous_secret_until: number | null;
  created_at: number;
  updated_at: number;
  /**
   * Moves on every change of the settings (a PostgreSQL trigger; migration 2026-11-26T20): what a
   * node decided on is checked against it under the lock (one-trip-seats.ts). Unused on SQLite.
   */
  revision: Generated<number>;
}

export interface SessionsTable {
  id: string;
  license_id: string;
  seat_key_value: string;
  session_ref: string | null;
  user_id: string | null;
  device_id: string | null;
  instance_id: string | null;
  app: string | null;
  name: string | null;
  weight: number;
  state: string;
  started_at: number;
  idle_since: number | null;
  expires_at: number | null;
  /** The newest activity a node flushed (migration 2026-11-26T12, as the two below). */
  last_activity_at: number | null;
  /** When the inactivity warning went out; null while none is pending. */
  warned_at: number | null;
  /** The newest signed seat receipt's expiry: the seat is held at least until then. */
  receipt_until: number | null;
  /** The claimant's group (`grp` claim; migration 2026-11-26T16). */
  grp: string | null;
}

export interface ConnectionsTable {
  socket_id: string;
  session_id: string;
  license_id: string;
  node_id: string;
  app: string | null;
  connected_at: number;
  /** An HTTP lease's deadline; null for a socket (migration 2026-11-26T12). */
  renew_by: Generated<number | null>;
}

export interface KickCooldownsTable {
  license_id: string;
  seat_key_value: string;
  until: number;
}

export interface DenialsTable {
  id: Generated<number>;
  license_id: string;
  at: number;
  reason: string;
  session_ref: string | null;
  user_id: string | null;
  device_id: string | null;
  instance_id: string | null;
}

export interface SeatEventsTable {
  id: Generated<number>;
  license_id: string;
  session_id: string | null;
  type: string;
  reason: string | null;
  weight: number;
  seats_in_use: number;
  at: number;
}

export interface AuditLogTable {
  id: Generated<number>;
  tenant_id: string | null;
  license_id: string | null;
  actor: string;
  action: string;
  detail: string;
  at: number;
}

/** A device activated on a license: from its first grant until deactivated (migration 2026-11-26T00). */
export interface ActivationsTable {
  license_id: string;
  device_id: string;
  activated_at: number;
  last_seen_at: number;
}

/** Every HTTP lease handed out: a renewal tells unknown (404) from ended (410) (migration 2026-11-26T12). */
export interface LeasesTable {
  id: string;
  license_id: string;
  session_id: string;
  seat_key_value: string;
  created_at: number;
  renew_by: number;
}

/** A change of a license's seat count, from its creation on (migration 2026-11-26T13). */
export interface SeatCountsTable {
  id: Generated<number>;
  license_id: string;
  at: number;
  seats: number;
}

/** A license moved to another tenant; its seat events up to `seat_event_id` were `from_tenant`'s (migration 2026-11-29T04). */
export interface LicenseMovesTable {
  id: Generated<number>;
  license_id: string;
  seat_event_id: number;
  from_tenant: string;
  to_tenant: string;
  at: number;
}

/** A webhook: where to POST which events, and how far it got (migration 2026-11-26T15). */
export interface WebhooksTable {
  id: string;
  /** Null: the operator's, which gets every tenant's events. */
  tenant_id: string | null;
  license_id: string | null;
  url: string;
  /** JSON array of event types. */
  events: string;
  secret: string;
  created_at: number;
  /** The last seat_events id (and audit_log id) handled: delivered or given up on. */
  seat_cursor: number;
  audit_cursor: number;
  /** The node delivering it, until `claimed_until`. */
  claimed_by: string | null;
  claimed_until: number | null;
  /** Requests in flight at once, no session in two (1: one at a time). */
  concurrency: Generated<number>;
  /** Events per request (1: the event is the body; above, a JSON array; migration 2026-11-27T09). */
  batch_size: Generated<number>;
}

/** The delivery log: one row per event and webhook (migration 2026-11-26T15). */
export interface WebhookDeliveriesTable {
  id: Generated<number>;
  webhook_id: string;
  event_id: string;
  event_type: string;
  payload: string;
  /** pending, delivered or failed. */
  status: string;
  attempts: number;
  created_at: number;
  last_attempt_at: number | null;
  next_attempt_at: number;
  response_status: number | null;
  error: string | null;
}

/** Who waits for a seat, first in first out by id (migration 2026-11-26T17). */
export interface QueueEntriesTable {
  id: Generated<number>;
  license_id: string;
  /** The queued socket's id; unique. */
  socket_id: string;
  node_id: string;
  seat_key_value: string;
  /** JSON of the claimant (its ids, group, app, name and weight). */
  claimant: string;
  enqueued_at: number;
  /** Its socket went away: the place is kept for the idle timeout, for a reconnect. */
  left_at: number | null;
}

/** How long each queued claimant waited, and whether it got a seat (`granted`) or left (`left`). */
export interface QueueWaitsTable {
  id: Generated<number>;
  license_id: string;
  at: number;
  waited_ms: number;
  outcome: string;
  session_ref: string | null;
  user_id: string | null;
  device_id: string | null;
}

/** A user's request for a seat (migration 2026-11-26T18). */
export interface SeatRequestsTable {
  id: string;
  license_id: string;
  at: number;
  /** What the per-requester limit counts by: the user id, else the session, device or instance id. */
  requester: string;
  session_ref: string | null;
  user_id: string | null;
  device_id: string | null;
  name: string | null;
  message: string | null;
}

export interface NodesTable {
  id: string;
  started_at: number;
  heartbeat_at: number;
  /** Every activity the node heard before this is on record (null: written before the column; its heartbeat stands in). */
  activity_through: number | null;
}

export interface SettingsTable {
  key: string;
  value: string;
}

export interface Database {
  tenants: TenantsTable;
  licenses: LicensesTable;
  sessions: SessionsTable;
  connections: ConnectionsTable;
  kick_cooldowns: KickCooldownsTable;
  denials: DenialsTable;
  seat_events: SeatEventsTable;
  audit_log: AuditLogTable;
  activations: ActivationsTable;
  leases: LeasesTable;
  queue_entries: QueueEntriesTable;
  queue_waits: QueueWaitsTable;
  seat_requests: SeatRequestsTable;
  seat_counts: SeatCountsTable;
  license_moves: LicenseMovesTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  nodes: NodesTable;
  settings: SettingsTable;
}
