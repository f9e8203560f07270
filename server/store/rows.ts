// Table rows as the engine sees them, and back: bigint columns come as numbers, JSON as values.
import type { Selectable } from 'kysely';
import type { DenyReason, LicenseStatus, SeatKey } from '../../shared';
import type { Denial, License, NewLicenseRow, Session } from '../seats/types';
import type { DenialsTable, LicensesTable, SessionsTable } from './schema';

export function toLicense(row: Selectable<LicensesTable>): License {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    seats: Number(row.seats),
    seatCap: row.seat_cap === null ? null : Number(row.seat_cap),
    seatKey: JSON.parse(row.seat_key) as SeatKey,
    idleTimeoutSec: Number(row.idle_timeout_sec),
    status: row.status as LicenseStatus,
    deniedMessage: row.denied_message,
    maxActivations: row.max_activations === null ? null : Number(row.max_activations),
    inactivityTimeoutSec: row.inactivity_timeout_sec === null ? null : Number(row.inactivity_timeout_sec),
    inactivityWarningSec: Number(row.inactivity_warning_sec),
    leaseIntervalSec: Number(row.lease_interval_sec),
    offlineGraceSec: Number(row.offline_grace_sec),
    overage: Number(row.overage),
    queue: Number(row.queue) === 1,
    reservations: JSON.parse(row.reservations) as License['reservations'],
    groupLimits: JSON.parse(row.group_limits) as License['groupLimits'],
    secret: row.secret,
    previousSecret: row.previous_secret,
    previousSecretUntil: num(row.previous_secret_until),
    seatsInUse: Number(row.seats_in_use),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** The row's fields an admin may set; `seats_in_use` is written by `addSeats` alone, `revision` by a trigger. */
export function licenseRow(l: NewLicenseRow): Omit<LicensesTable, 'seats_in_use' | 'revision'> {
  return {
    id: l.id,
    tenant_id: l.tenantId,
    name: l.name,
    seats: l.seats,
    seat_cap: l.seatCap,
    seat_key: JSON.stringify(l.seatKey),
    idle_timeout_sec: l.idleTimeoutSec,
    status: l.status,
    denied_message: l.deniedMessage,
    max_activations: l.maxActivations,
    inactivity_timeout_sec: l.inactivityTimeoutSec,
    inactivity_warning_sec: l.inactivityWarningSec,
    lease_interval_sec: l.leaseIntervalSec,
    offline_grace_sec: l.offlineGraceSec,
    overage: l.overage,
    queue: l.queue ? 1 : 0,
    reservations: JSON.stringify(l.reservations),
    group_limits: JSON.stringify(l.groupLimits),
    secret: l.secret,
    previous_secret: l.previousSecret ?? null,
    previous_secret_until: l.previousSecretUntil ?? null,
    created_at: l.createdAt,
    updated_at: l.updatedAt,
  };
}

const num = (v: number | string | null) => (v === null ? null : Number(v));

/** What a session's connection rows say of it: its app, and a lease's deadline (null for a socket). */
export interface ConnectionFacts {
  app: string | null;
  renew_by?: number | string | null;
}

/** A session with what its connection rows say: how many sockets and leases, and which apps. */
export function toSession(row: Selectable<SessionsTable>, conns: ConnectionFacts[]): Session {
  const leases = conns.filter((c) => c.renew_by !== undefined && c.renew_by !== null).length;
  const apps = new Set<string>();
  if (row.app) apps.add(row.app);
  for (const c of conns) if (c.app) apps.add(c.app);
  return {
    id: row.id,
    licenseId: row.license_id,
    seatKeyValue: row.seat_key_value,
    sessionRef: row.session_ref,
    userId: row.user_id,
    deviceId: row.device_id,
    instanceId: row.instance_id,
    group: row.grp,
    app: row.app,
    name: row.name,
    weight: Number(row.weight),
    state: row.state as Session['state'],
    startedAt: Number(row.started_at),
    idleSince: row.idle_since === null ? null : Number(row.idle_since),
    expiresAt: num(row.expires_at),
    sockets: conns.length - leases,
    leases,
    lastActivityAt: num(row.last_activity_at),
    warnedAt: num(row.warned_at),
    receiptUntil: num(row.receipt_until),
    apps: [...apps],
  };
}

export function toDenial(r: Selectable<DenialsTable>): Denial {
  return {
    licenseId: r.license_id,
    at: Number(r.at),
    reason: r.reason as DenyReason,
    sessionRef: r.session_ref,
    userId: r.user_id,
    deviceId: r.device_id,
    instanceId: r.instance_id,
  };
}
