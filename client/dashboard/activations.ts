// A license's activated devices (GET /licenses/:id/activations), each with a Deactivate button
// that asks first (DELETE …/activations?deviceId=: the device's sessions end, its activation is free).
import type { ActivationView, LicenseView } from '../../shared';
import { confirmDialog } from './dialog';
import { $, fill, h, setText } from './dom';
import { zoned } from './operator';
import { ApiError, api, refusal } from './rest';

let shownFor: string | null = null;
/** Rows shown at first, and added by each "Show more": a license's devices may be thousands. */
const PAGE = 50;
/** The last list read, the search typed and how many rows it shows (kept across re-reads). */
let shown: { l: LicenseView; list: ActivationView[]; counted: (n: number) => void } | undefined;
let query = '';
let limit = PAGE;

/** The section's frame, placed in the license panel; `load` fills it. */
export function activationsSection(): HTMLElement {
  return h(
    'section',
    { 'aria-labelledby': 'activations-heading', id: 'activations-section' },
    h('h3', { id: 'activations-heading' }, 'Activations'),
    h('p', { id: 'activations-summary', class: 'muted' }),
    h(
      'div',
      { class: 'row' },
      h('input', {
        id: 'activations-search',
        type: 'search',
        placeholder: 'Find a device',
        'aria-label': 'Find a device by its id',
        oninput: (e: Event) => {
          query = (e.target as HTMLInputElement).value.trim().toLowerCase();
          limit = PAGE;
          if (shown) render(shown.l, shown.list, shown.counted);
        },
      }),
    ),
    h(
      'div',
      { class: 'scroll', role: 'region', 'aria-label': 'Activations table', tabindex: 0 },
      h(
        'table',
        { id: 'activations', class: 'table' },
        h('caption', { class: 'visually-hidden' }, 'Devices activated on this license, first activated first'),
        h('thead', {}, h('tr', {}, ['Device', 'Activated', 'Last seen'].map((t) => h('th', { scope: 'col' }, t)), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Device actions')))),
        h('tbody'),
      ),
    ),
    h('p', { class: 'row' }, h('button', { type: 'button', id: 'activations-more', hidden: true, onclick: () => more() }, 'Show more')),
    h('p', { id: 'activations-status', class: 'muted', role: 'status' }),
  );
}

function more(): void {
  limit += PAGE;
  if (shown) render(shown.l, shown.list, shown.counted);
}

/** Reads the license's activations and shows them; `counted` tells the card its new count. */
export async function loadActivations(l: LicenseView, counted: (n: number) => void): Promise<void> {
  if (shownFor !== l.id) {
    query = '';
    limit = PAGE;
  }
  shownFor = l.id;
  try {
    const { activations } = await api<{ activations: ActivationView[] }>('GET', `/licenses/${encodeURIComponent(l.id)}/activations`);
    if (shownFor !== l.id || !document.getElementById('activations')) return;
    counted(activations.length);
    render(l, activations, counted);
  } catch (err) {
    if (shownFor === l.id) setText($('#activations-status'), refusal(err, 'Reading the activations'));
  }
}

function render(l: LicenseView, list: ActivationView[], counted: (n: number) => void): void {
  shown = { l, list, counted };
  const search = document.getElementById('activations-search') as HTMLInputElement | null;
  if (search && search.value.trim().toLowerCase() !== query) search.value = query;
  const found = query ? list.filter((a) => a.deviceId.toLowerCase().includes(query)) : list;
  const rows = found.slice(0, limit);
  const button = $('#activations-more') as HTMLButtonElement;
  button.hidden = found.length <= rows.length;
  setText(button, `Show ${Math.min(PAGE, found.length - rows.length)} more (${found.length - rows.length} not shown)`);
  setText(
    $('#activations-summary'),
    l.maxActivations === null
      ? `${list.length} device${list.length === 1 ? '' : 's'} activated; no limit is set.`
      : `${list.length} of ${l.maxActivations} activations in use.`,
  );
  const body = $('#activations tbody');
  const focusedDevice = (document.activeElement as HTMLElement | null)?.closest?.('tr')?.getAttribute('data-device');
  fill(
    body,
    rows.length
      ? rows.map((a) =>
          h(
            'tr',
            { 'data-device': a.deviceId },
            h('td', { 'data-label': 'Device', class: 'device' }, a.deviceId),
            h('td', { 'data-label': 'Activated' }, h('time', { datetime: a.activatedAt }, zoned(a.activatedAt))),
            h('td', { 'data-label': 'Last seen' }, h('time', { datetime: a.lastSeenAt }, zoned(a.lastSeenAt))),
            h(
              'td',
              { class: 'actions' },
              h('button', { type: 'button', class: 'deactivate danger', 'aria-label': `Deactivate ${a.deviceId}`, onclick: () => void deactivate(l, a, counted) }, 'Deactivate…'),
            ),
          ),
        )
      : h('tr', {}, h('td', { colspan: 4, class: 'muted' }, list.length ? `No device id contains “${query}”.` : 'No devices activated.')),
  );
  // A re-read keeps the keyboard where it was.
  if (focusedDevice) body.querySelector<HTMLElement>(`tr[data-device="${CSS.escape(focusedDevice)}"] button`)?.focus();
}

async function deactivate(l: LicenseView, a: ActivationView, counted: (n: number) => void): Promise<void> {
  const ok = await confirmDialog(
    `Deactivate ${a.deviceId}?`,
    `Its sessions on ${l.name} end now (told “This device was deactivated for this license”), and its activation is free for another device. It is activated again if it connects and an activation is free.`,
    'Deactivate',
  );
  if (!ok) return;
  try {
    // The device id in the query, not the path: a `dev` claim may be `.` or `..`, which the URL
    // parser collapses in a path (`…/activations/..` is `…/licenses/<id>/`).
    await api('DELETE', `/licenses/${encodeURIComponent(l.id)}/activations?${new URLSearchParams({ deviceId: a.deviceId })}`);
    setText($('#activations-status'), `Deactivated ${a.deviceId}.`);
  } catch (err) {
    setText($('#activations-status'), err instanceof ApiError && err.status === 404 ? `${a.deviceId} was not activated any more.` : refusal(err, 'Deactivating'));
  }
  await loadActivations(l, counted);
}
