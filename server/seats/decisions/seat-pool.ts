// Whether a new claimant's weight fits in a license's seats (docs/contract.md, "Overage,
// reservations and group limits"): the capacity with overage, the seats reserved for groups (in
// their windows), and the groups' limits. A pure function of the license's settings, what is held
// (in all, and per group) and the clock; admission (admission.ts) asks it.
import { DenyReason } from '../../../shared';
import { type ReservationWindow, windowHolds } from './reservation-window';

export interface Reservation {
  group: string;
  seats: number;
  window?: ReservationWindow;
}

export interface GroupLimit {
  group: string;
  max: number;
}

export interface PoolSettings {
  seats: number;
  /** Seats may be granted up to `floor(seats × overage)`; 1 is none. */
  overage: number;
  reservations: readonly Reservation[];
  groupLimits: readonly GroupLimit[];
}

export interface Held {
  /** Seats held in all (the sum of the live sessions' weights). */
  total: number;
  /** Seats held per group (`grp` claim) of the groups the settings name; others count as no group. */
  byGroup: ReadonlyMap<string, number>;
}

export type SeatVerdict = { kind: 'fits'; overage: boolean } | { kind: 'deny'; reason: DenyReason };

/** `floor(seats × overage)`: the most seats ever held at once. */
export function capacity(p: Pick<PoolSettings, 'seats' | 'overage'>): number {
  // A hair of tolerance: 3 × 1.1 is 3.3000000000000003 in floating point.
  return Math.floor(p.seats * p.overage + 1e-9);
}

/** The seats reserved for each group at `now` (reservations whose window holds, or that have none). */
export function reservedNow(reservations: readonly Reservation[], now: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of reservations) {
    if (r.window && !windowHolds(r.window, now)) continue;
    out.set(r.group, (out.get(r.group) ?? 0) + r.seats);
  }
  return out;
}

/** Whether the settings make seats depend on groups: only then is what each group holds read. */
export function needsGroups(p: Pick<PoolSettings, 'reservations' | 'groupLimits'>): boolean {
  return p.reservations.length > 0 || p.groupLimits.length > 0;
}

/**
 * The most seats that may be held for a claim of `weight` to fit, where that turns on the count
 * alone (no reservations, no group limits): `decideSeat` says `fits` exactly while `held.total`
 * is at most this. A store checks it in one statement under its lock (server/store/one-trip-seats.ts).
 * Null where groups matter too.
 */
export function fitBound(p: PoolSettings, weight: number): number | null {
  return needsGroups(p) ? null : capacity(p) - weight;
}

/**
 * A group over its limit is refused with `group_limit`. Otherwise a group member takes its
 * group's reserved seats first, then unreserved ones; everyone else takes only unreserved ones
 * (what is not reserved for a group now, overage included). A claimant refused only because the
 * free seats are reserved for others gets `no_free_seats`. A grant that takes the license past
 * `seats` (into its overage) is marked.
 */
export function decideSeat(p: PoolSettings, claimant: { weight: number; group: string | null }, held: Held, now: number): SeatVerdict {
  const { weight, group } = claimant;
  const heldBy = (g: string) => held.byGroup.get(g) ?? 0;
  const limit = group === null ? undefined : p.groupLimits.find((l) => l.group === group);
  if (limit && group !== null && heldBy(group) + weight > limit.max) return { kind: 'deny', reason: DenyReason.GroupLimit };

  const reserved = reservedNow(p.reservations, now);
  let reservedTotal = 0;
  let reservedInUse = 0;
  for (const [g, seats] of reserved) {
    reservedTotal += seats;
    reservedInUse += Math.min(heldBy(g), seats);
  }
  const unreservedRoom = capacity(p) - reservedTotal;
  const unreservedUsed = held.total - reservedInUse;
  // What the claimant takes from the unreserved seats: all of its weight, less its group's free reserved seats.
  const ownReserved = group === null ? 0 : (reserved.get(group) ?? 0);
  const freeReserved = group === null ? 0 : Math.max(0, ownReserved - heldBy(group));
  const fromUnreserved = weight - Math.min(weight, freeReserved);
  if (unreservedUsed + fromUnreserved > unreservedRoom) return { kind: 'deny', reason: DenyReason.NoFreeSeats };
  return { kind: 'fits', overage: held.total + weight > p.seats };
}
