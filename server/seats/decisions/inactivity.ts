// Inactivity (docs/contract.md, "Inactivity release"): when a connected session that reports no
// activity is warned, and when it is released. A pure function of the license's settings, the
// session's row as the store holds it, and the clock (see server/store/activity.ts, which applies
// it to the rows it reads, and server/seats/inactivity.ts, which runs it on a timer).
import { SessionState } from '../../../shared';
import type { License, Session } from '../types';

export type InactivitySettings = Pick<License, 'inactivityTimeoutSec' | 'inactivityWarningSec'>;
export type InactivityFacts = Pick<Session, 'state' | 'startedAt' | 'lastActivityAt' | 'warnedAt'>;

export type InactivityDecision =
  /** Nothing to do (yet): off, idle (the idle timeout rules it), or active in time. */
  | { kind: 'none' }
  /** Tell every socket of the session that its seat goes at `releasesAt` unless activity arrives. */
  | { kind: 'warn'; releasesAt: number }
  | { kind: 'release' };

/** The newest activity on record; a session from before activity was recorded counts from its start. */
export function lastActive(s: Pick<Session, 'startedAt' | 'lastActivityAt'>): number {
  return s.lastActivityAt ?? s.startedAt;
}

/**
 * When the session's seat goes for inactivity: its last activity plus the timeout. The release
 * itself waits `flushMs` more (`decideInactivity`), so activity any node heard before this moment
 * has been written by then (each node writes what it heard every `flushMs`).
 */
export function releasesAt(license: InactivitySettings, session: Pick<Session, 'startedAt' | 'lastActivityAt'>): number | null {
  if (license.inactivityTimeoutSec === null) return null;
  return lastActive(session) + license.inactivityTimeoutSec * 1000;
}

/**
 * Idle sessions (no connection left) and licenses without `inactivityTimeoutSec` are left alone.
 * An active session is warned, once, when `flushMs` has passed since `inactivityWarningSec` before
 * its deadline (a pending warning is cleared by activity, which moves the deadline); it is released
 * once `flushMs` has passed since the time its warning told, with no newer activity on record, and
 * every node's activity is on record past the deadline (`heardThrough`: a node whose flush failed
 * or ran late may hold activity that moves it). Both wait the flush, so activity a node heard in
 * time is on record before either: a warning is never sent for quiet that activity already ended.
 *
 * No seat is released unwarned. A warning that comes only at or past the deadline (no sweep fell
 * in its window: one that ran long, a restart, SWEEP_INTERVAL_MS longer than the warning) tells of
 * a release the warning's full length later, and the release waits for that. A warning of 0 s warns
 * nobody, and the release comes a flush after the deadline.
 */
export function decideInactivity(license: InactivitySettings, session: InactivityFacts, now: number, flushMs: number, heardThrough = Infinity): InactivityDecision {
  const deadline = releasesAt(license, session);
  if (deadline === null || session.state !== SessionState.Active) return { kind: 'none' };
  const warningMs = license.inactivityWarningSec * 1000;
  if (warningMs > 0 && session.warnedAt === null) {
    if (now < deadline - warningMs + flushMs) return { kind: 'none' };
    return { kind: 'warn', releasesAt: now >= deadline ? now + warningMs : deadline };
  }
  // The time the warning told: the deadline, or, for a warning that went out only at or past it, its full length after it.
  const releaseAt = warningMs > 0 && session.warnedAt !== null && session.warnedAt >= deadline ? session.warnedAt + warningMs : deadline;
  // Past it, but a node may still hold activity from before the deadline: wait for that node.
  if (now >= releaseAt + flushMs) return deadline <= heardThrough ? { kind: 'release' } : { kind: 'none' };
  return { kind: 'none' };
}
