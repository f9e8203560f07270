// A license's queue on the board (docs/contract.md "The queue"): who waits, in order, since when.
// The snapshot brings every queue (its first 100 claimants and its length), `admin:queue` each
// change; the table is patched in place by position.
import type { LicenseView, QueueView } from '../../shared';
import { countdown, fill, h, setText, time } from './dom';

/** Queues per license id (licenses with nobody waiting are left out). */
export const queues = new Map<string, QueueView>();

export function setQueues(all: Record<string, QueueView>): void {
  queues.clear();
  for (const [id, q] of Object.entries(all)) if (q.queueLength > 0) queues.set(id, q);
}

export function setQueue(licenseId: string, q: QueueView): void {
  if (q.queueLength > 0) queues.set(licenseId, q);
  else queues.delete(licenseId);
}

export const queueLength = (licenseId: string) => queues.get(licenseId)?.queueLength ?? 0;

/** The card's line: how many wait (nothing when the queue is off and empty). */
export function queueCardLine(l: LicenseView): HTMLElement | null {
  const n = queueLength(l.id);
  if (!l.queue && n === 0) return null;
  return h('span', { class: `card-queue${n > 0 ? ' waiting' : ''}` }, n === 0 ? 'queue empty' : `${n} waiting in the queue`);
}

/** The section's frame in the license panel; `renderQueue` fills it. */
export function queueSection(): HTMLElement {
  return h(
    'section',
    { id: 'queue-section', 'aria-labelledby': 'queue-heading' },
    h('h3', { id: 'queue-heading' }, 'Queue'),
    h('p', { id: 'queue-summary', class: 'muted', role: 'status' }),
    h(
      'div',
      { class: 'scroll', role: 'region', 'aria-label': 'Queue table', tabindex: 0 },
      h(
        'table',
        { id: 'queue', class: 'table' },
        h('caption', { class: 'visually-hidden' }, 'Claimants waiting for a seat, next first'),
        h('thead', {}, h('tr', {}, ['Position', 'User', 'Name', 'App', 'Waiting since'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody'),
      ),
    ),
  );
}

/** Shows the license's queue (or says it is off), keeping rows by position. */
export function renderQueue(l: LicenseView): void {
  const section = document.getElementById('queue-section');
  if (!section) return;
  const q = queues.get(l.id);
  const n = q?.queueLength ?? 0;
  section.hidden = !l.queue && n === 0;
  const summary = document.getElementById('queue-summary')!;
  setText(
    summary,
    !l.queue
      ? `The queue is off, but ${n} still wait${n === 1 ? 's' : ''}.`
      : n === 0
        ? 'Nobody is waiting. Clients that connect with queue: true wait here for the next free seat.'
        : `${n} waiting${q && q.queue.length < n ? ` (the first ${q.queue.length} are shown)` : ''}; a freed seat goes to position 1.`,
  );
  const body = section.querySelector('tbody')!;
  const rows = q?.queue ?? [];
  fill(
    body,
    rows.length
      ? rows.map((e) =>
          h(
            'tr',
            { 'data-position': e.position },
            h('td', { class: 'position', 'data-label': 'Position' }, h('b', {}, e.position)),
            h('td', { 'data-label': 'User' }, e.userId ?? '—'),
            h('td', { 'data-label': 'Name' }, e.name ?? '—'),
            h('td', { 'data-label': 'App' }, e.app ?? '—'),
            // The wait's length ticks in the board's one-second timer (main.ts, data-since).
            h('td', { 'data-label': 'Waiting since' }, h('time', { datetime: e.since }, time(e.since)), h('span', { class: 'muted', 'data-since': e.since }, ` (${countdown(Date.now() - Date.parse(e.since))})`)),
          ),
        )
      : h('tr', { class: 'empty' }, h('td', { colspan: 5, class: 'muted' }, 'Nobody is waiting.')),
  );
}
