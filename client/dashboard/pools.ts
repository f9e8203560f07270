// Overage, reservations and group limits on the board (docs/contract.md "Overage, reservations
// and group limits"): the overage in use on the card and the license's figures, and per group what
// is reserved for it now (its windows open or not), what it holds and its limit. The seat rules
// are the server's own pure functions (server/seats/decisions), so the board cannot disagree.
import type { LicenseView, ReservationWindowView, SessionView } from '../../shared';
import { capacity, reservedNow } from '../../server/seats/decisions/seat-pool';
import { windowHolds } from '../../server/seats/decisions/reservation-window';
import { fill, h, setText } from './dom';

/** Seats in use beyond `seats` (0 when none). */
export const overageInUse = (l: LicenseView) => Math.max(0, l.seatsInUse - l.seats);
/** How many seats past `seats` the overage allows. */
export const overageRoom = (l: LicenseView) => capacity(l) - l.seats;

/** The card's overage line: nothing when the license has none. */
export function overageCardLine(l: LicenseView): HTMLElement | null {
  if (l.overage <= 1) return null;
  const used = overageInUse(l);
  return h('span', { class: `card-overage${used > 0 ? ' over' : ''}` }, `overage in use: ${used} of ${overageRoom(l)}`);
}

/** The license figures' overage part. */
export function overageFigure(l: LicenseView): HTMLElement | null {
  if (l.overage <= 1) return null;
  const used = overageInUse(l);
  return h(
    'span',
    { id: 'overage-figure', class: used > 0 ? 'over' : '' },
    `overage ×${l.overage}: `,
    h('b', {}, used),
    ` of ${overageRoom(l)} extra seat${overageRoom(l) === 1 ? '' : 's'} in use`,
  );
}

const DAY = ['', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** "Mon, Tue 09:00–17:00 Europe/Amsterdam". */
export function windowText(w: ReservationWindowView): string {
  const days = [...w.days].sort((a, b) => a - b);
  const run = days.length > 2 && days.every((d, i) => i === 0 || d === days[i - 1]! + 1) ? `${DAY[days[0]!]}–${DAY[days.at(-1)!]}` : days.map((d) => DAY[d]).join(', ');
  return `${run} ${w.from}–${w.to} ${w.tz}`;
}

/** The section's frame in the license panel; `renderPools` fills it. */
export function poolsSection(): HTMLElement {
  return h(
    'section',
    { id: 'pools-section', 'aria-labelledby': 'pools-heading' },
    h('h3', { id: 'pools-heading' }, 'Reservations and group limits'),
    h(
      'div',
      { class: 'scroll', role: 'region', 'aria-label': 'Groups table', tabindex: 0 },
      h(
        'table',
        { id: 'pools', class: 'table' },
        h('caption', { class: 'visually-hidden' }, 'Seats reserved for each group now, the seats it holds and its limit'),
        h('thead', {}, h('tr', {}, ['Group', 'Reserved now', 'Held by the group', 'Limit'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody'),
      ),
    ),
    h('p', { id: 'pools-note', class: 'muted' }),
  );
}

/** One row per group named by a reservation or a limit. */
export function renderPools(l: LicenseView, sessions: readonly SessionView[], now: number): void {
  const section = document.getElementById('pools-section');
  if (!section) return;
  const groups = [...new Set([...l.reservations.map((r) => r.group), ...l.groupLimits.map((g) => g.group)])];
  section.hidden = groups.length === 0;
  if (!groups.length) return;
  const reserved = reservedNow(l.reservations, now);
  const held = new Map<string, number>();
  for (const s of sessions) if (s.group !== null) held.set(s.group, (held.get(s.group) ?? 0) + s.weight);
  const body = section.querySelector('tbody')!;
  fill(
    body,
    groups.map((g) => {
      const rs = l.reservations.filter((r) => r.group === g);
      const limit = l.groupLimits.find((x) => x.group === g);
      const holds = held.get(g) ?? 0;
      return h(
        'tr',
        { 'data-group': g },
        h('th', { scope: 'row' }, g),
        h(
          'td',
          { 'data-label': 'Reserved now' },
          rs.length ? h('b', {}, reserved.get(g) ?? 0) : '—',
          rs.map((r) =>
            h(
              'span',
              { class: 'muted window' },
              `${r.seats} seat${r.seats === 1 ? '' : 's'} ${r.window ? `${windowText(r.window)}, ${windowHolds(r.window, now) ? 'open now' : 'closed now'}` : 'always'}`,
            ),
          ),
        ),
        h('td', { 'data-label': 'Held by the group' }, h('b', {}, holds)),
        h('td', { 'data-label': 'Limit' }, limit ? h('span', { class: limit.max <= holds ? 'at-limit' : '' }, `${limit.max}${limit.max <= holds ? ' (reached)' : ''}`) : '—'),
      );
    }),
  );
  setText(
    document.getElementById('pools-note')!,
    'Reserved seats go to their group first; others take only unreserved free seats. Lowering a reservation or a window closing ends nobody.',
  );
}
