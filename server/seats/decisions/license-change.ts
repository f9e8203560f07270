// License changes: which live sessions a changed license no longer admits. A pure function of the
// license as changed (with the seats it holds) and its live sessions (see Licenses.updateLicense in server/store/licenses.ts).
import { EndReason, LicenseStatus } from '../../../shared';
import type { License, Session } from '../types';
import { capacity } from './seat-pool';

export type LicenseFacts = Pick<License, 'status' | 'seats' | 'seatsInUse'> & { overage?: number };

/** The most seats the license may hold: its seats, with its overage. */
const limitOf = (l: LicenseFacts) => capacity({ seats: l.seats, overage: l.overage ?? 1 });
export type LiveSession = Pick<Session, 'id' | 'weight' | 'startedAt'>;

/** Whether the changed license may end any session: only then are its sessions read. */
export function mayEndSessions(license: LicenseFacts): boolean {
  return license.status === LicenseStatus.Suspended || license.seatsInUse > limitOf(license);
}

/** Newest first: the latest start, then the greatest id (as the store orders them). */
export function newestFirst(a: LiveSession, b: LiveSession): number {
  return b.startedAt - a.startedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/**
 * A suspended license ends every session (`license_suspended`). Seats (or overage) lowered below
 * those held end the newest sessions (`seats_reduced`) until the rest fit in the seats with their
 * overage. In the order they end.
 */
export function sessionsToEnd<S extends LiveSession>(license: LicenseFacts, live: readonly S[]): Array<{ session: S; reason: EndReason }> {
  const newest = [...live].sort(newestFirst);
  if (license.status === LicenseStatus.Suspended) return newest.map((session) => ({ session, reason: EndReason.LicenseSuspended }));
  const ending: Array<{ session: S; reason: EndReason }> = [];
  let held = license.seatsInUse;
  for (const session of newest) {
    if (held <= limitOf(license)) break;
    ending.push({ session, reason: EndReason.SeatsReduced });
    held -= session.weight;
  }
  return ending;
}

/** Whether a patch's seat key is another than the license's (the same claims in the same order is the same key). */
export function seatKeyChanges(now: readonly string[], patched: readonly string[] | undefined): boolean {
  return patched !== undefined && (patched.length !== now.length || patched.some((part, i) => part !== now[i]));
}

/**
 * Why a license may not move to another tenant now (`doing`: what, for the message): its sessions
 * (active or idle, leases included) and waiting clients belong to its tenant. Undefined when it
 * holds none and nobody waits.
 */
export function whyNotEmpty(sessions: number, waiting: boolean, doing: string): string | undefined {
  if (sessions > 0) return `the license holds ${sessions} session${sessions > 1 ? 's' : ''}: end them first (suspend it, or kick them), then ${doing}`;
  if (waiting) return `clients wait in its queue: turn its queue off, so nobody new joins, and once those waiting are served or gone, ${doing}`;
  return undefined;
}
