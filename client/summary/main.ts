// The printable usage summary of one license (/admin/licenses/:id/summary): per day of the
// viewer's time zone, the seats it had, the peak in use, whether every seat was taken, the
// denials by reason and the unmet demand (claimants that left the queue without a seat, with their
// average wait), over a period. It reads the API with the admin token the dashboard keeps for
// this tab (sessionStorage), in the Authorization header; no token, no figures.
import { $, fill, h, setText } from '../dashboard/dom';
import type { HistoryBucket, HistoryReply } from '../dashboard/charts';
import './style.css';

const TOKEN_KEY = 'seat-admin-token';
const DAY = 86_400_000;

interface LicenseView {
  id: string;
  name: string;
  seats: number;
}

/** The license id from /admin/licenses/:id/summary (the server routes only well-encoded paths here). */
const licenseId = (() => {
  try {
    return decodeURIComponent(location.pathname.split('/')[3] ?? '');
  } catch {
    return '';
  }
})();
const params = new URLSearchParams(location.search);
const tz = params.get('tz') || Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
/** A zone the browser does not know (a mistyped `?tz=`) is said as the API says it; nothing is read. */
const tzKnown = (() => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
})();

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`/api/v1${path}`, { headers: { authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) ?? ''}` } });
  const json = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
  if (!res.ok) throw new Error(json.error?.message ?? `HTTP ${res.status}`);
  return json as T;
}

/** `YYYY-MM-DD` of an instant in the zone. */
function localDate(t: number): string {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(t).map((x) => [x.type, x.value]),
  );
  return `${p.year}-${p.month}-${p.day}`;
}

const addDays = (date: string, n: number) => new Date(Date.parse(`${date}T00:00:00Z`) + n * DAY).toISOString().slice(0, 10);
const dayLabel = (at: string) => new Intl.DateTimeFormat(undefined, { timeZone: tz, weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' }).format(Date.parse(at));
const dateLabel = (date: string) => new Intl.DateTimeFormat(undefined, { timeZone: 'UTC', dateStyle: 'medium' }).format(Date.parse(date));
/** A denial reason in words (the code itself for one this page does not know yet). */
const REASONS: Record<string, string> = {
  no_free_seats: 'No free seat',
  denied_by_app: 'Refused by the app',
  license_suspended: 'License suspended',
  kicked: 'Kicked, cooling down',
  too_many_activations: 'Too many devices',
  group_limit: 'Group limit',
};
const reasonLabel = (reason: string) => REASONS[reason] ?? reason.replace(/_/g, ' ');
const dayCount = (n: number) => `${n} ${n === 1 ? 'day' : 'days'}`;

/** The period asked for in the address, else the last 30 days up to today. */
function period(): { from: string; to: string } {
  const today = localDate(Date.now());
  const valid = (d: string | null) => (d && /^\d{4}-\d{2}-\d{2}$/.test(d) && !Number.isNaN(Date.parse(d)) ? d : undefined);
  const to = valid(params.get('to')) ?? today;
  const from = valid(params.get('from')) ?? addDays(to, -29);
  return from <= to ? { from, to } : { from: to, to: from };
}

async function load(): Promise<void> {
  if (!tzKnown) {
    setText($('#status'), `The summary could not be loaded: unknown time zone "${tz.slice(0, 64)}" in the address (?tz=); give an IANA name such as Europe/Amsterdam, or UTC`);
    return;
  }
  const { from, to } = period();
  ($('#from') as HTMLInputElement).value = from;
  ($('#to') as HTMLInputElement).value = to;
  if (!sessionStorage.getItem(TOKEN_KEY)) {
    fill($('#status'), 'Sign in on the ', h('a', { href: `/admin#license=${encodeURIComponent(licenseId)}` }, 'seat dashboard'), ' first, then open the summary from the license there.');
    return;
  }
  setText($('#status'), 'Loading…');
  try {
    // A day either side, so that every zone's local dates are covered; the days outside the period
    // are left out below by their local date.
    const since = new Date(Date.parse(`${from}T00:00:00Z`) - DAY).toISOString();
    const until = new Date(Date.parse(`${to}T00:00:00Z`) + 2 * DAY).toISOString();
    const id = encodeURIComponent(licenseId);
    const [license, history] = await Promise.all([
      api<LicenseView>(`/licenses/${id}`),
      api<HistoryReply>(`/licenses/${id}/history?bucket=day&tz=${encodeURIComponent(tz)}&since=${since}&until=${until}`),
    ]);
    const inPeriod = history.buckets.filter((b) => {
      const d = localDate(Date.parse(b.at));
      return d >= from && d <= to;
    });
    document.title = `Usage summary: ${license.name}`;
    setText($('#title'), `Usage summary: ${license.name}`);
    setText($('#subtitle'), `License ${license.id} · ${dateLabel(from)} to ${dateLabel(to)} · days in ${history.tz} · made ${new Date().toLocaleString()}`);
    setText($('#status'), inPeriod.length ? '' : 'No days of this period are within the history kept (DENIAL_RETENTION_DAYS).');
    render(inPeriod, license);
  } catch (err) {
    setText($('#status'), `The summary could not be loaded: ${(err as Error).message}`);
  }
}

function render(days: HistoryBucket[], license: LicenseView): void {
  const reasons = [...new Set(days.flatMap((d) => Object.keys(d.denialsByReason)))].sort();
  const denied = days.reduce((n, d) => n + d.denials, 0);
  const full = days.filter((d) => d.full).length;
  const peak = Math.max(0, ...days.map((d) => d.peakSeatsInUse));
  const unmet = days.reduce((n, d) => n + d.unmetDemand, 0);
  // The period's average wait of those that left, weighted by how many left each day.
  const unmetWait = unmet ? Math.round(days.reduce((n, d) => n + (d.unmetAvgWaitSec ?? 0) * d.unmetDemand, 0) / unmet) : null;
  const granted = days.reduce((n, d) => n + d.queuedGranted, 0);
  const waitText = (sec: number | null) => (sec === null ? '' : sec < 120 ? `${sec} s` : `${Math.round(sec / 60)} min`);
  const figure = (value: string | number, label: string, id: string) => h('div', { class: 'figure', id }, h('b', {}, value), h('span', {}, label));
  const num = (v: number | string) => h('td', { class: 'num' }, v);
  fill(
    $('#report'),
    h(
      'section',
      { class: 'summary-figures', 'aria-label': 'The period in figures' },
      figure(`${peak}`, `highest daily peak of seats in use (${license.seats} ${license.seats === 1 ? 'seat' : 'seats'} now)`, 'fig-peak'),
      figure(`${full} of ${days.length}`, 'days at full: every seat taken at some moment', 'fig-full'),
      figure(denied, 'denials', 'fig-denials'),
      ...reasons.map((r) => figure(days.reduce((n, d) => n + (d.denialsByReason[r] ?? 0), 0), `denied: ${reasonLabel(r).toLowerCase()}`, `fig-${r}`)),
      figure(unmet, `unmet demand: left the queue without a seat${unmetWait !== null ? `, after ${waitText(unmetWait)} on average` : ''}`, 'fig-queue'),
      figure(granted, 'seats granted from the queue', 'fig-queue-granted'),
    ),
    h('h2', {}, 'By day'),
    h(
      'div',
      { class: 'scroll', role: 'region', 'aria-label': 'Usage by day', tabindex: 0 },
      h(
        'table',
        { id: 'days', class: 'table report' },
        h('caption', { class: 'visually-hidden' }, `Usage of ${license.name} by day`),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col' }, 'Day'),
            ['Seats', 'Peak in use', 'At full', 'Denials', ...reasons.map(reasonLabel), 'Granted from the queue', 'Unmet demand (queue)', 'Average wait'].map((t) => h('th', { scope: 'col', class: 'num' }, t)),
          ),
        ),
        h(
          'tbody',
          {},
          days.map((d) =>
            h(
              'tr',
              { class: d.full ? 'full' : '', 'data-day': d.at },
              h('th', { scope: 'row' }, dayLabel(d.at)),
              num(d.seats),
              num(d.peakSeatsInUse),
              h('td', { class: 'num at-full' }, d.full ? 'full' : ''),
              num(d.denials),
              reasons.map((r) => num(d.denialsByReason[r] ?? 0)),
              num(d.queuedGranted),
              h('td', { class: 'num unmet' }, d.unmetDemand),
              num(waitText(d.unmetAvgWaitSec)),
            ),
          ),
        ),
        h(
          'tfoot',
          {},
          h('tr', {}, h('td', {}, 'Period'), num(''), num(peak), h('td', { class: 'num' }, dayCount(full)), num(denied), reasons.map((r) => num(days.reduce((n, d) => n + (d.denialsByReason[r] ?? 0), 0))), num(granted), num(unmet), num(waitText(unmetWait))),
        ),
      ),
    ),
    h(
      'p',
      { class: 'muted note' },
      'Seats: the most seats the license had that day. At full: at some moment of the day every seat was taken. ',
      'Unmet demand: claimants that waited in the seat queue and left it without a seat, counted on the day they left, with how long they had waited.',
    ),
  );
}

$('#period').addEventListener('submit', (e) => {
  e.preventDefault();
  const from = ($('#from') as HTMLInputElement).value;
  const to = $('#to') as HTMLInputElement;
  // A range that ends before it starts is said, as the board's export says it, not swapped unseen.
  const reversed = from !== '' && to.value !== '' && to.value < from;
  to.setAttribute('aria-invalid', String(reversed));
  if (reversed) {
    setText($('#status'), 'The range ends before it starts: choose a To date on or after the From date.');
    return;
  }
  const next = new URLSearchParams({ from, to: to.value, tz });
  history.replaceState(null, '', `?${next}`);
  for (const [k, v] of next) params.set(k, v);
  void load();
});
$('#print').addEventListener('click', () => window.print());
($('#back') as HTMLAnchorElement).href = `/admin#license=${encodeURIComponent(licenseId)}`;
void load();
