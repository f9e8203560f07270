// Domain objects as the wire sees them (REST and /admin): ISO times, no secrets. A view is the
// domain object with its times as ISO strings and its hidden fields left out; the checks below
// fail the build when a field is added to one side and not decided on the other.
import type { ActivationView, AuditEntryView, DenialView, LicenseView, SeatRequestView, SessionView } from '../shared';
import type { Activation, AuditEntry, Denial, License, SeatRequest, Session } from './seats/types';

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

/** True when A and B have the same keys. */
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : false;
// Not shown: a license's secrets (given once, on creation or rotation), a session's seat key value (the claims it names are shown).
const _license: SameKeys<Omit<License, 'secret' | 'previousSecret' | 'previousSecretUntil'>, LicenseView> = true;
const _session: SameKeys<Omit<Session, 'seatKeyValue'>, SessionView> = true;
const _denial: SameKeys<Denial, DenialView> = true;
const _audit: SameKeys<AuditEntry, AuditEntryView> = true;
// Not shown: the license id (the path names it).
const _activation: SameKeys<Omit<Activation, 'licenseId'>, ActivationView> = true;

/** `seatsInUse` defaults to the license's own; an event passes the count it carries. */
export function licenseView(l: License, seatsInUse = l.seatsInUse): LicenseView {
  const { secret: _secret, previousSecret: _previous, previousSecretUntil: _until, createdAt, updatedAt, ...shown } = l;
  return { ...shown, seatsInUse, createdAt: iso(createdAt), updatedAt: iso(updatedAt) };
}

export function sessionView(s: Session): SessionView {
  const { seatKeyValue: _seatKeyValue, startedAt, idleSince, expiresAt, lastActivityAt, warnedAt, receiptUntil, ...shown } = s;
  return {
    ...shown,
    startedAt: iso(startedAt),
    idleSince: isoOrNull(idleSince),
    expiresAt: isoOrNull(expiresAt),
    lastActivityAt: isoOrNull(lastActivityAt),
    warnedAt: isoOrNull(warnedAt),
    receiptUntil: isoOrNull(receiptUntil),
  };
}

export function denialView(d: Denial): DenialView {
  return { ...d, at: iso(d.at) };
}

export function auditView(a: AuditEntry): AuditEntryView {
  return { ...a, at: iso(a.at) };
}

export function seatRequestView(r: SeatRequest): SeatRequestView {
  return { id: r.id, at: iso(r.at), userId: r.userId, name: r.name, message: r.message };
}

export function activationView(a: Activation): ActivationView {
  return { deviceId: a.deviceId, activatedAt: iso(a.activatedAt), lastSeenAt: iso(a.lastSeenAt) };
}
