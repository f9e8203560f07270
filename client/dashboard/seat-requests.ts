// A license's seat requests on the board (docs/contract.md "Seat requests"): users who found no free
// seat and asked for one (POST /seat-requests), newest first, with their message. Read when the
// license is shown (GET /licenses/:id/seat-requests), then live from `admin:seat-request`.
import type { LicenseView, SeatRequestView } from '../../shared';
import { fill, h, setText, time } from './dom';
import { api, refusal } from './rest';

const SHOWN = 50;
/** Requests per license id, newest first, as far as this board has read or heard them. */
const byLicense = new Map<string, SeatRequestView[]>();
/** When each recent request of a license was made (the card's count): read with the list, or heard live. */
const recent = new Map<string, number[]>();
const RECENT_MS = 15 * 60_000;

export function requestsSection(): HTMLElement {
  return h(
    'section',
    { 'aria-labelledby': 'requests-heading', id: 'requests-section' },
    h('h3', { id: 'requests-heading' }, 'Seat requests'),
    h('ol', { id: 'requests', class: 'feed', tabindex: 0, 'aria-labelledby': 'requests-heading' }),
    h('p', { id: 'requests-status', class: 'muted', role: 'status' }),
  );
}

/** Reads the license's requests and shows them; `counted` is told when the card's count may change. */
export async function loadRequests(l: LicenseView, counted: () => void): Promise<void> {
  try {
    const { requests } = await api<{ requests: SeatRequestView[] }>('GET', `/licenses/${encodeURIComponent(l.id)}/seat-requests`);
    // Live ones that arrived while reading are kept.
    const live = byLicense.get(l.id) ?? [];
    const ids = new Set(requests.map((r) => r.id));
    const all = [...live.filter((r) => !ids.has(r.id)), ...requests];
    byLicense.set(l.id, all.slice(0, SHOWN));
    recent.set(l.id, all.map((r) => Date.parse(r.at)).filter((t) => t > Date.now() - RECENT_MS));
    renderRequests(l.id);
    counted();
  } catch (err) {
    const status = document.getElementById('requests-status');
    if (status) setText(status, refusal(err, 'Reading the seat requests'));
  }
}

/** A request arrived live. */
export function requestHeard(licenseId: string, r: SeatRequestView): void {
  const list = byLicense.get(licenseId) ?? [];
  if (list.some((x) => x.id === r.id)) return;
  byLicense.set(licenseId, [r, ...list].slice(0, SHOWN));
  recent.set(licenseId, [...(recent.get(licenseId) ?? []), Date.parse(r.at)]);
}

/** How many asked for a seat of the license in the last 15 minutes (as `seat:demand` counts them), as far as this board knows. */
export function recentRequests(licenseId: string, now: number): number {
  const list = (recent.get(licenseId) ?? []).filter((t) => t > now - RECENT_MS);
  recent.set(licenseId, list);
  return list.length;
}

export function renderRequests(licenseId: string): void {
  const list = document.getElementById('requests');
  if (!list) return;
  const items = byLicense.get(licenseId) ?? [];
  fill(
    list,
    items.length
      ? items.map((r) =>
          h(
            'li',
            { class: 'request', 'data-request': r.id },
            h('time', { datetime: r.at }, time(r.at)),
            ' ',
            h('span', { class: 'who' }, r.name ?? r.userId ?? 'someone'),
            r.message ? [': ', h('q', { class: 'message' }, r.message)] : null,
          ),
        )
      : h('li', { class: 'muted' }, 'Nobody has asked for a seat.'),
  );
}
