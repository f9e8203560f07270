// Admission: whether a claimant gets a seat, resumes the one its seat key holds, or is refused,
// and which idle seats past their deadline are released on the way. A pure function of what the
// store's transaction read under the license's lock (see SeatLedger.admit in server/store/seat-ledger.ts).
import { DenyReason, LicenseStatus, SessionState } from '../../../shared';
import type { Claimant, License, Session } from '../types';
import { decideSeat, type PoolSettings } from './seat-pool';

/** What admission needs to know of a live session. */
export type SessionFacts = Pick<Session, 'id' | 'weight' | 'state' | 'expiresAt'> & { group?: string | null };

export interface AdmissionInput<S extends SessionFacts> {
  /** The license row, locked. */
  license: Pick<License, 'status' | 'seatsInUse'> & PoolSettings;
  claimant: Pick<Claimant, 'weight' | 'group'>;
  /**
   * Seats held per group, for the groups the license's reservations and limits name (read only
   * when it has some; stale sessions among `stale` are counted in it too).
   */
  heldByGroup?: ReadonlyMap<string, number>;
  /** The live session of the claimant's seat key, idle or active, if there is one. */
  own: S | undefined;
  /**
   * The license's idle sessions whose deadline may have passed (any others are ignored). Held
   * seats no timer released yet: they must not keep a claimant out.
   */
  stale: readonly S[];
  /** Until when the seat key is refused after a kick, if it was kicked. */
  cooldownUntil: number | null;
  now: number;
}

export type AdmissionDecision<S extends SessionFacts> =
  /** Join the seat key's live session: no seat is taken. */
  | { kind: 'resume'; session: S; release: S[] }
  /** Take `claimant.weight` seats for a new session; `overage` when that goes past `seats`. */
  | { kind: 'grant'; release: S[]; overage: boolean }
  | { kind: 'deny'; reason: DenyReason; release: S[] };

/** Whether a session is idle and at or past its deadline: its seat is no longer held. */
export function isPastDeadline(s: Pick<Session, 'state' | 'expiresAt'>, now: number): boolean {
  return s.state === SessionState.Idle && s.expiresAt !== null && s.expiresAt <= now;
}

/**
 * Suspended licenses refuse everyone. The seat key's live session is resumed (however full the
 * license), unless it is itself past its deadline: then it is released, with every other stale
 * seat, and the claimant asks afresh. A seat key in its kick cool-down is refused. A new session
 * is granted if its weight fits (seat-pool.ts: the seats with overage, less what is reserved for
 * other groups, within its group's limit), after releasing stale seats only when it would not fit
 * without; else refused with `no_free_seats` or `group_limit`.
 */
export function decideAdmission<S extends SessionFacts>(input: AdmissionInput<S>): AdmissionDecision<S> {
  const { license, claimant, now } = input;
  if (license.status === LicenseStatus.Suspended) return { kind: 'deny', reason: DenyReason.LicenseSuspended, release: [] };

  const stale = input.stale.filter((s) => isPastDeadline(s, now));
  const release: S[] = [];
  const releaseAll = () => {
    for (const s of stale) if (!release.some((r) => r.id === s.id)) release.push(s);
  };
  let own = input.own;
  if (own && isPastDeadline(own, now)) {
    if (!stale.some((s) => s.id === own!.id)) release.push(own);
    releaseAll();
    own = undefined;
  }
  if (own) return { kind: 'resume', session: own, release };

  if (input.cooldownUntil !== null && input.cooldownUntil > now) return { kind: 'deny', reason: DenyReason.Kicked, release };

  const claim = { weight: claimant.weight, group: claimant.group ?? null };
  const verdict = () => {
    const byGroup = new Map(input.heldByGroup ?? []);
    let total = license.seatsInUse;
    for (const s of release) {
      total -= s.weight;
      if (s.group && byGroup.has(s.group)) byGroup.set(s.group, byGroup.get(s.group)! - s.weight);
    }
    return decideSeat(license, claim, { total, byGroup }, now);
  };
  let seat = verdict();
  if (seat.kind === 'deny') {
    releaseAll();
    seat = verdict();
  }
  if (seat.kind === 'deny') return { kind: 'deny', reason: seat.reason, release };
  return { kind: 'grant', release, overage: seat.overage };
}
