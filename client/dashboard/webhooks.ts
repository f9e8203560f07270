// The Webhooks panel (docs/contract.md "Webhooks"): the admin's webhooks, a form to add one (URL,
// events, optionally one license, how many deliveries at once and how many events per request,
// both also changed in place), its signing secret shown once, delete after asking, and each
// webhook's delivery log (status, attempts, the receiver's last answer). The operator's webhooks
// get every tenant's events; a tenant's only its own.
import { WebhookEventType, type LicenseView, type WebhookDeliveryView, type WebhookView } from '../../shared';
import { confirmDialog, showOnce } from './dialog';
import { $, fill, h, setText } from './dom';
import { zoned } from './operator';
import { ApiError, api, refusal } from './rest';

/** The longest URL the API takes (POST /webhooks). */
const MAX_URL = 2048;
const EVENTS = Object.values(WebhookEventType);

/** A delivery setting: chosen in the form (sent only above 1, the server's default) and changed in place in the webhook's row. */
interface Setting {
  key: 'concurrency' | 'batchSize';
  /** The form's select. */
  id: string;
  /** The row select's class, and its column's heading. */
  cls: string;
  column: string;
  /** The choices (a row adds its webhook's own value if it is not one of them). */
  choices: readonly number[];
  option: (n: number) => string;
  /** The form's wording of a choice, where the row's short one would say too little. */
  formOption?: (n: number) => string;
  /** The row select's accessible name. */
  name: (w: WebhookView) => string;
  /** What the status says once changed, and what a refusal says was being done. */
  done: (w: WebhookView, n: number) => string;
  doing: string;
}

const CONCURRENCY: Setting = {
  key: 'concurrency',
  id: 'webhook-concurrency',
  cls: 'concurrency',
  column: 'At once',
  // The server takes 1 to 32.
  choices: [1, 2, 4, 8, 16, 32],
  option: (n) => (n === 1 ? 'One at a time, in order' : `Up to ${n}`),
  name: (w) => `Deliveries at once to ${w.url}`,
  done: (w, n) => `Deliveries to ${w.url}: ${n === 1 ? 'one at a time, in order' : `up to ${n} at once`}.`,
  doing: 'Changing the deliveries at once',
};
const BATCH_SIZE: Setting = {
  key: 'batchSize',
  id: 'webhook-batch-size',
  cls: 'batch-size',
  column: 'Per request',
  // The server takes 1 to 100.
  choices: [1, 10, 25, 50, 100],
  option: (n) => (n === 1 ? 'One event' : `Up to ${n} events`),
  formOption: (n) => (n === 1 ? '1 — one event per request' : `Up to ${n} events`),
  name: (w) => `Events per request to ${w.url}`,
  done: (w, n) => `Deliveries to ${w.url}: ${n === 1 ? 'one event per request' : `up to ${n} events per request, as a JSON array`}.`,
  doing: 'Changing the events per request',
};
/** In the order of the table's columns. */
const SETTINGS = [CONCURRENCY, BATCH_SIZE];

let licenses: LicenseView[] = [];
let list: WebhookView[] = [];
let shownDeliveries: string | null = null;
let built = false;

/** Builds the panel once (under the licenses) and reads the webhooks. */
export function setupWebhooks(operator: boolean): void {
  if (!built) {
    built = true;
    const panel = panelFrame(operator);
    document.getElementById('license')!.after(panel);
  }
  void loadWebhooks();
}

/** The licenses a new webhook may be limited to. */
export function webhooksLicenses(all: LicenseView[]): void {
  licenses = [...all].sort((a, b) => a.name.localeCompare(b.name));
  const select = document.getElementById('webhook-license') as HTMLSelectElement | null;
  if (!select) return;
  const chosen = select.value;
  fill(select, h('option', { value: '' }, 'All licenses'), licenses.map((l) => h('option', { value: l.id, selected: l.id === chosen }, `${l.name} (${l.id})`)));
}

function panelFrame(operator: boolean): HTMLElement {
  return h(
    'section',
    { id: 'webhooks-panel', class: 'panel', 'aria-labelledby': 'webhooks-heading' },
    h('h2', { id: 'webhooks-heading', tabindex: -1 }, 'Webhooks'),
    h(
      'p',
      { class: 'muted' },
      operator ? 'Your webhooks get the events of every tenant.' : 'Your webhooks get your licenses’ events.',
      ' Each delivery is signed (Seat-Signature) with the webhook’s secret and retried for a day until the receiver answers 2xx.',
    ),
    h(
      'div',
      { class: 'scroll', role: 'region', 'aria-label': 'Webhooks table', tabindex: 0 },
      h(
        'table',
        { id: 'webhooks', class: 'table' },
        h('caption', { class: 'visually-hidden' }, 'Webhooks, oldest first'),
        h('thead', {}, h('tr', {}, ['URL', 'Events', 'License', ...SETTINGS.map((s) => s.column), 'Created'].map((t) => h('th', { scope: 'col' }, t)), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Webhook actions')))),
        h('tbody'),
      ),
    ),
    h('p', { id: 'webhooks-summary', class: 'muted' }),
    // What an action did (or why it failed); a reload of the list leaves it be.
    h('p', { id: 'webhooks-status', class: 'muted', role: 'status' }),
    // Under the list it belongs to, above the form.
    h('section', { id: 'deliveries-section', 'aria-labelledby': 'deliveries-heading', hidden: true }, h('h3', { id: 'deliveries-heading', tabindex: -1 }, 'Deliveries'), h('div', { id: 'deliveries-box' })),
    createForm(),
  );
}

function createForm(): HTMLElement {
  return h(
    'form',
    {
      id: 'webhook-form',
      class: 'webhook-form',
      novalidate: true,
      autocomplete: 'off',
      'aria-labelledby': 'webhook-form-heading',
      onsubmit: (e: Event) => {
        e.preventDefault();
        void create();
      },
    },
    h('h3', { id: 'webhook-form-heading' }, 'Add a webhook'),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'webhook-url' }, 'URL'),
      h('input', { id: 'webhook-url', type: 'url', placeholder: 'https://example.com/seat-events', 'aria-describedby': 'webhook-url-error' }),
      h('span', { id: 'webhook-url-error', class: 'error field-error' }),
    ),
    h(
      'fieldset',
      { class: 'group events', 'aria-describedby': 'webhook-events-error' },
      h('legend', {}, 'Events'),
      h('span', { class: 'event-checks' }, EVENTS.map((ev) => h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'webhook-event', value: ev, checked: ev === 'license.full' || ev === 'seat.queued' }), ` ${ev}`))),
      h('span', { id: 'webhook-events-error', class: 'error field-error' }),
    ),
    h('div', { class: 'field' }, h('label', { for: 'webhook-license' }, 'License'), h('select', { id: 'webhook-license' }, h('option', { value: '' }, 'All licenses'))),
    settingField(CONCURRENCY, 'Deliveries at once', 'More than one: events of different sessions go out together (each session’s still in order), for a receiver far away or slow to answer.'),
    settingField(BATCH_SIZE, 'Events per request', 'Above 1, each request’s body is a JSON array of events: fewer requests for a busy license. Your receiver must accept arrays.'),
    h('div', { class: 'row' }, h('button', { type: 'submit', id: 'webhook-create' }, 'Add webhook'), h('span', { id: 'webhook-form-status', class: 'muted', role: 'status' })),
    h('p', { id: 'webhook-form-error', class: 'error', role: 'alert' }),
  );
}

/** A setting's field in the form, its first choice (1, the server's default) selected. */
function settingField(s: Setting, label: string, hint: string): HTMLElement {
  return h(
    'div',
    { class: 'field' },
    h('label', { for: s.id }, label),
    h(
      'select',
      { id: s.id, 'aria-describedby': `${s.id}-hint` },
      s.choices.map((n) => h('option', { value: String(n) }, (s.formOption ?? s.option)(n))),
    ),
    h('span', { id: `${s.id}-hint`, class: 'muted hint' }, hint),
  );
}

/** Reads the webhooks again (one was added or deleted, here or on another board: its audit entry). */
export async function loadWebhooks(): Promise<void> {
  if (!built) return;
  try {
    list = (await api<{ webhooks: WebhookView[] }>('GET', '/webhooks')).webhooks;
    render();
  } catch (err) {
    setText($('#webhooks-status'), err instanceof ApiError && err.status === 404 ? 'Webhooks are not enabled on this server.' : refusal(err, 'Reading the webhooks'));
  }
}

const licenseLabel = (id: string | null) => (id === null ? 'all' : (licenses.find((l) => l.id === id)?.name ?? id));

function render(): void {
  const body = $('#webhooks tbody');
  // A row's setting that has the focus keeps it through a reload (its change's own audit entry reloads the list).
  const active = document.activeElement;
  const focusedRow = active instanceof HTMLSelectElement && body.contains(active) ? active.closest('tr')?.dataset.webhook : undefined;
  const focusedSetting = focusedRow ? SETTINGS.find((s) => active!.classList.contains(s.cls)) : undefined;
  // An empty table is left out (its header alone says nothing).
  (body.closest('.scroll') as HTMLElement).hidden = list.length === 0;
  setText($('#webhooks-summary'), list.length ? `${list.length} webhook${list.length === 1 ? '' : 's'}.` : 'No webhooks yet.');
  fill(
    body,
    list.map((w) =>
      h(
        'tr',
        { 'data-webhook': w.id },
        h('td', { class: 'detail', 'data-label': 'URL' }, w.url),
        h('td', { 'data-label': 'Events' }, w.events.join(', ')),
        h('td', { 'data-label': 'License' }, licenseLabel(w.licenseId)),
        SETTINGS.map((s) => h('td', { 'data-label': s.column, class: s.cls }, settingSelect(w, s))),
        h('td', { 'data-label': 'Created' }, zoned(w.createdAt)),
        h(
          'td',
          { class: 'actions' },
          h('button', { type: 'button', class: 'deliveries', 'aria-label': `Deliveries of ${w.url}`, onclick: () => void showDeliveries(w) }, 'Deliveries'),
          ' ',
          h('button', { type: 'button', class: 'danger delete', 'aria-label': `Delete the webhook to ${w.url}`, onclick: () => void remove(w) }, 'Delete…'),
        ),
      ),
    ),
  );
  if (focusedSetting) body.querySelector<HTMLElement>(`tr[data-webhook="${CSS.escape(focusedRow!)}"] select.${focusedSetting.cls}`)?.focus();
}

/** One of the webhook's delivery settings, changed in place (its log and cursor stay). */
function settingSelect(w: WebhookView, s: Setting): HTMLElement {
  const value = w[s.key];
  const choices = s.choices.includes(value) ? s.choices : [...s.choices, value].sort((a, b) => a - b);
  return h(
    'select',
    {
      class: s.cls,
      'aria-label': s.name(w),
      onchange: (e: Event) => void changeSetting(w, s, e.target as HTMLSelectElement),
    },
    choices.map((n) => h('option', { value: String(n), selected: n === value }, s.option(n))),
  );
}

async function changeSetting(w: WebhookView, s: Setting, select: HTMLSelectElement): Promise<void> {
  const value = Number(select.value);
  try {
    const changed = await api<WebhookView>('PATCH', `/webhooks/${encodeURIComponent(w.id)}`, { [s.key]: value });
    w[s.key] = changed[s.key];
    setText($('#webhooks-status'), s.done(w, value));
  } catch (err) {
    select.value = String(w[s.key]);
    setText($('#webhooks-status'), refusal(err, s.doing));
  }
}

async function create(): Promise<void> {
  const url = ($('#webhook-url') as HTMLInputElement).value.trim();
  const events = [...document.querySelectorAll<HTMLInputElement>('input[name="webhook-event"]:checked')].map((i) => i.value);
  const licenseId = ($('#webhook-license') as HTMLSelectElement).value;
  // The settings left at 1 are not sent (the server's default).
  const settings: Partial<Record<Setting['key'], number>> = {};
  for (const s of SETTINGS) {
    const n = Number(($(`#${s.id}`) as HTMLSelectElement).value);
    if (n > 1) settings[s.key] = n;
  }
  for (const id of ['webhook-url-error', 'webhook-events-error', 'webhook-form-error', 'webhook-form-status']) setText($(`#${id}`), '');
  $('#webhook-url').removeAttribute('aria-invalid');
  let bad = false;
  if (!/^https?:\/\/\S+$/i.test(url)) {
    setText($('#webhook-url-error'), 'Give an http or https URL, such as https://example.com/seat-events.');
    $('#webhook-url').setAttribute('aria-invalid', 'true');
    bad = true;
  } else if (url.length > MAX_URL) {
    // Said, not cut: an input's maxlength would shorten a pasted URL and save another address.
    setText($('#webhook-url-error'), `The URL can be at most ${MAX_URL} characters (it has ${url.length}).`);
    $('#webhook-url').setAttribute('aria-invalid', 'true');
    bad = true;
  }
  if (!events.length) {
    setText($('#webhook-events-error'), 'Pick at least one event.');
    bad = true;
  }
  if (bad) return document.querySelector<HTMLElement>('#webhook-form [aria-invalid="true"], #webhook-form input[name="webhook-event"]')?.focus();
  try {
    const made = await api<WebhookView & { secret: string }>('POST', '/webhooks', { url, events, ...(licenseId ? { licenseId } : {}), ...settings });
    // The next webhook starts from the defaults: a box left ticked would subscribe it unasked.
    ($('#webhook-form') as HTMLFormElement).reset();
    list.push({ id: made.id, url: made.url, events: made.events, licenseId: made.licenseId, tenantId: made.tenantId, createdAt: made.createdAt, concurrency: made.concurrency, batchSize: made.batchSize });
    render();
    await showOnce('Webhook added', `Signing secret of the webhook to ${made.url}`, made.secret, 'The receiver checks each delivery’s Seat-Signature with it.');
    setText($('#webhook-form-status'), `Added the webhook to ${made.url}.`);
  } catch (err) {
    const target = err instanceof ApiError && /url/i.test(err.message) ? '#webhook-url-error' : '#webhook-form-error';
    setText($(target), refusal(err, 'Adding the webhook'));
  }
}

async function remove(w: WebhookView): Promise<void> {
  const ok = await confirmDialog('Delete this webhook?', `Deliveries to ${w.url} stop, including those still being retried. This cannot be undone.`, 'Delete webhook');
  if (!ok) return;
  try {
    await api('DELETE', `/webhooks/${encodeURIComponent(w.id)}`);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) return setText($('#webhooks-status'), refusal(err, 'Deleting the webhook'));
  }
  list = list.filter((x) => x.id !== w.id);
  render();
  if (shownDeliveries === w.id) $('#deliveries-section').hidden = true;
  setText($('#webhooks-status'), `Deleted the webhook to ${w.url}.`);
  $('#webhooks-heading').focus();
}

async function showDeliveries(w: WebhookView): Promise<void> {
  shownDeliveries = w.id;
  const section = $('#deliveries-section');
  section.hidden = false;
  fill($('#deliveries-heading'), 'Deliveries to ', h('span', { class: 'detail' }, w.url));
  const box = $('#deliveries-box');
  fill(box, h('p', { class: 'muted' }, 'Reading…'));
  try {
    const { deliveries } = await api<{ deliveries: WebhookDeliveryView[] }>('GET', `/webhooks/${encodeURIComponent(w.id)}/deliveries?limit=50`);
    if (shownDeliveries !== w.id) return;
    fill(
      box,
      deliveries.length
        ? h(
            'div',
            { class: 'scroll', role: 'region', 'aria-label': 'Deliveries table', tabindex: 0 },
            h(
              'table',
              { id: 'deliveries', class: 'table' },
              h('caption', { class: 'visually-hidden' }, 'The newest 50 deliveries, newest first'),
              h('thead', {}, h('tr', {}, ['Event', 'Status', 'Attempts', 'Last attempt', 'Last response'].map((t) => h('th', { scope: 'col' }, t)))),
              h(
                'tbody',
                {},
                deliveries.map((d) =>
                  h(
                    'tr',
                    { 'data-delivery': d.id },
                    h('td', { 'data-label': 'Event' }, d.event, h('span', { class: 'muted card-id' }, ` ${d.eventId}`)),
                    h('td', { 'data-label': 'Status' }, h('span', { class: `badge delivery-${d.status}` }, d.status), d.nextAttemptAt ? h('span', { class: 'muted' }, ` next ${zoned(d.nextAttemptAt)}`) : null),
                    h('td', { 'data-label': 'Attempts' }, d.attempts),
                    h('td', { 'data-label': 'Last attempt' }, d.lastAttemptAt ? zoned(d.lastAttemptAt) : '—'),
                    h('td', { 'data-label': 'Last response' }, d.responseStatus !== null ? `HTTP ${d.responseStatus}` : (d.error ?? '—')),
                  ),
                ),
              ),
            ),
          )
        : h('p', { class: 'muted' }, 'Nothing delivered yet: deliveries appear here once an event it subscribes to happens.'),
    );
    $('#deliveries-heading').focus();
  } catch (err) {
    fill(box, h('p', { class: 'error' }, refusal(err, 'Reading the deliveries')));
  }
}
