// What makes a license's reservations and group limits impossible to honour (docs/contract.md,
// "Overage, reservations and group limits"). The shapes are checked by the REST schemas; these are
// the rules across fields: a pure function of the settings, answering the field and the words.
import { isTimeZone, windowsOverlap } from './reservation-window';
import type { PoolSettings } from './seat-pool';

export type PoolFields = Pick<PoolSettings, 'seats' | 'reservations' | 'groupLimits'>;

/** The seats the license's reservations hold together. */
export const reservedSeats = (l: Pick<PoolFields, 'reservations'>) => l.reservations.reduce((n, r) => n + r.seats, 0);

/** `1 seat`, `2 seats`. */
export const seatCount = (n: number) => `${n} seat${n === 1 ? '' : 's'}`;

/**
 * Reservations may not add up to more than `seats`; a window's zone must be a known IANA zone;
 * one group's reservations never hold at the same time and share one zone; a group has one limit.
 */
export function poolProblem(l: PoolFields): { field: string; message: string } | undefined {
  const reserved = reservedSeats(l);
  if (reserved > l.seats) {
    return { field: 'reservations', message: `reservations add up to ${seatCount(reserved)}, more than the license's ${l.seats}` };
  }
  for (const [i, r] of l.reservations.entries()) {
    if (r.window && !isTimeZone(r.window.tz)) {
      return { field: `reservations.${i}.window.tz`, message: `reservations.${i}.window.tz: unknown time zone "${r.window.tz.slice(0, 100)}" (an IANA name such as Europe/Amsterdam)` };
    }
  }
  for (const [i, a] of l.reservations.entries()) {
    for (const [j, b] of l.reservations.entries()) {
      if (j <= i || a.group !== b.group) continue;
      if (a.window && b.window && a.window.tz !== b.window.tz) {
        return { field: `reservations.${j}.window.tz`, message: `reservations ${i} and ${j} of group "${a.group}" use different time zones; one group, one zone` };
      }
      if (windowsOverlap(a.window, b.window)) {
        return { field: `reservations.${j}.window`, message: `reservations ${i} and ${j} of group "${a.group}" overlap in time` };
      }
    }
  }
  const groups = new Set<string>();
  for (const [i, g] of l.groupLimits.entries()) {
    if (groups.has(g.group)) return { field: `groupLimits.${i}.group`, message: `groupLimits names group "${g.group}" twice` };
    groups.add(g.group);
  }
  return undefined;
}
