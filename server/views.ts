// Domain objects as the wire sees them (REST and /admin): ISO times, no secrets.
import type { AuditEntryView, DenialView, LicenseView, SessionView } from '../shared';
import type { AuditEntry, Denial, License, Session } from './seats/types';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** `seatsInUse` defaults to the license's own; an event passes the count it carries. */
export function licenseView(l: License, seatsInUse = l.seatsInUse): LicenseView {
  return {
    id: l.id,
    tenantId: l.tenantId,
    name: l.name,
    seats: l.seats,
    seatCap: l.seatCap,
    seatKey: l.seatKey,
    idleTimeoutSec: l.idleTimeoutSec,
    status: l.status,
    deniedMessage: l.deniedMessage,
    seatsInUse,
    createdAt: new Date(l.createdAt).toISOString(),
    updatedAt: new Date(l.updatedAt).toISOString(),
  };
}

export function sessionView(s: Session): SessionView {
  return {
    id: s.id,
    licenseId: s.licenseId,
    state: s.state,
    sessionRef: s.sessionRef,
    userId: s.userId,
    deviceId: s.deviceId,
    instanceId: s.instanceId,
    app: s.app,
    apps: s.apps,
    name: s.name,
    weight: s.weight,
    sockets: s.sockets,
    startedAt: new Date(s.startedAt).toISOString(),
    idleSince: iso(s.idleSince),
    expiresAt: iso(s.expiresAt),
  };
}

export function denialView(d: Denial): DenialView {
  return {
    at: new Date(d.at).toISOString(),
    licenseId: d.licenseId,
    reason: d.reason,
    sessionRef: d.sessionRef,
    userId: d.userId,
    deviceId: d.deviceId,
    instanceId: d.instanceId,
  };
}

export function auditView(a: AuditEntry): AuditEntryView {
  return { ...a, at: new Date(a.at).toISOString() };
}
