// The live seat dashboard at /admin: a snapshot and live changes from the `/admin` namespace, and
// actions (kick, settings, suspend) through the REST API. Every user-provided string is set as text.
import { io, type Socket } from 'socket.io-client';
import type {
  AdminClientToServerEvents,
  AdminServerToClientEvents,
  AdminSnapshot,
  AuditEntryView,
  DenialView,
  LicenseView,
  SessionView,
} from '../../shared';
import { historyCharts, type HistoryBucket, type HistoryCharts } from './charts';
import { $, countdown, fill, h, time } from './dom';
import './style.css';

const TOKEN_KEY = 'seat-admin-token';
const MAX_DENIALS = 200;
const MAX_AUDIT = 300;

type AdminSocket = Socket<AdminServerToClientEvents, AdminClientToServerEvents>;

const state = {
  actor: null as AdminSnapshot['actor'] | null,
  licenses: new Map<string, LicenseView>(),
  sessions: new Map<string, SessionView>(),
  /** Newest first, per license, so a busy license cannot push another's out. */
  denials: new Map<string, DenialView[]>(),
  audit: [] as AuditEntryView[],
  selected: null as string | null,
  /** serverTime minus local time, so idle countdowns follow the server's clock when the two differ. */
  skewMs: 0,
};
let socket: AdminSocket | undefined;

// ---------- REST ----------

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: { field?: string; issues?: { path: string[]; message: string }[] } | undefined,
  ) {
    super(message);
  }
}

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const token = sessionStorage.getItem(TOKEN_KEY) ?? '';
  const res = await fetch(`/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json().catch(() => ({}))) as any;
  if (!res.ok) {
    const e = json?.error ?? {};
    throw new ApiError(res.status, e.code ?? 'unknown', e.message ?? `HTTP ${res.status}`, e.details);
  }
  return json as T;
}

// ---------- sign in and the socket ----------

function showSignin(message = ''): void {
  socket?.close();
  socket = undefined;
  $('#signin').hidden = false;
  $('#board').hidden = true;
  $('#signout').hidden = true;
  fill($('#who'));
  fill($('#conn'));
  fill($('#signin-error'), message);
}

function signIn(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
  socket?.close();
  const s: AdminSocket = io('/admin', { auth: { token }, transports: ['websocket'] });
  socket = s;
  setConn('connecting…', 'pending');
  s.on('connect', () => setConn('live', 'ok'));
  s.on('disconnect', () => setConn('reconnecting…', 'pending'));
  s.on('connect_error', (err: Error & { data?: { reason?: string; message?: string } }) => {
    if (err.data?.reason === 'unauthorized') {
      sessionStorage.removeItem(TOKEN_KEY);
      showSignin(err.data.message ?? 'the admin token is not valid');
    } else {
      setConn('offline, retrying…', 'bad');
    }
  });
  s.on('admin:snapshot', (snap) => {
    state.actor = snap.actor;
    // The snapshot's time is stamped before it travels, so a small difference is its latency, not
    // clock skew: correcting for it would stretch every countdown. Only a real skew is applied.
    const skew = Date.parse(snap.serverTime) - Date.now();
    state.skewMs = Math.abs(skew) > 5000 ? skew : 0;
    state.licenses = new Map(snap.licenses.map((l) => [l.id, l]));
    state.sessions = new Map(snap.sessions.map((x) => [x.id, x]));
    state.denials = new Map();
    for (const d of snap.denials) denialsOf(d.licenseId).push(d);
    state.audit = snap.audit.slice(0, MAX_AUDIT);
    $('#signin').hidden = true;
    $('#board').hidden = false;
    $('#signout').hidden = false;
    fill($('#who'), snap.actor.kind === 'operator' ? 'operator: all tenants' : `tenant admin: ${snap.actor.tenantName}`);
    const wanted = new URLSearchParams(location.hash.slice(1)).get('license');
    if (!state.selected || !state.licenses.has(state.selected)) {
      state.selected = wanted && state.licenses.has(wanted) ? wanted : (snap.licenses[0]?.id ?? null);
    }
    renderLicenses();
    renderDetail(true);
    renderAudit();
  });
  s.on('admin:license', (l) => {
    state.licenses.set(l.id, l);
    renderLicenses();
    if (l.id === state.selected) {
      renderDetail(false);
      scheduleHistory();
    }
  });
  s.on('admin:session', (change) => {
    state.sessions.set(change.session.id, change.session);
    if (change.licenseId === state.selected) renderSessions();
  });
  s.on('admin:session-removed', (change) => {
    state.sessions.delete(change.sessionId);
    if (change.licenseId === state.selected) renderSessions();
  });
  s.on('admin:denial', (denial) => {
    const list = denialsOf(denial.licenseId);
    list.unshift(denial);
    list.length = Math.min(list.length, MAX_DENIALS);
    if (denial.licenseId === state.selected) {
      renderDenials();
      scheduleHistory();
    }
  });
  s.on('admin:audit', (entry) => {
    state.audit.unshift(entry);
    state.audit.length = Math.min(state.audit.length, MAX_AUDIT);
    renderAudit();
  });
}

function denialsOf(licenseId: string): DenialView[] {
  let list = state.denials.get(licenseId);
  if (!list) state.denials.set(licenseId, (list = []));
  return list;
}

function setConn(text: string, kind: 'ok' | 'pending' | 'bad'): void {
  const el = $('#conn');
  el.className = `conn ${kind}`;
  fill(el, text);
}

// ---------- license cards ----------

function isFull(l: LicenseView): boolean {
  return l.status === 'active' && l.seatsInUse >= l.seats;
}

function renderLicenses(): void {
  const cards = [...state.licenses.values()]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((l) =>
      h(
        'button',
        {
          type: 'button',
          class: `card${l.id === state.selected ? ' selected' : ''}${isFull(l) ? ' full' : ''}`,
          'data-license': l.id,
          'aria-pressed': String(l.id === state.selected),
          onclick: () => select(l.id),
        },
        h('span', { class: 'card-name' }, l.name),
        h('span', { class: 'card-id' }, l.id),
        state.actor?.kind === 'operator' ? h('span', { class: 'card-id' }, `tenant ${l.tenantId}`) : null,
        h('span', { class: 'card-count' }, h('b', { class: 'in-use' }, l.seatsInUse), ` / ${l.seats} seats`),
        meter(l),
        h('span', { class: 'badges' }, badges(l)),
      ),
    );
  fill($('#licenses'), cards.length ? cards : h('p', { class: 'muted' }, 'No licenses yet. Create one with POST /api/v1/licenses.'));
}

function meter(l: LicenseView): HTMLElement {
  const pct = l.seats > 0 ? Math.min(100, (l.seatsInUse / l.seats) * 100) : 100;
  const bar = h('span', { class: 'meter-fill' });
  bar.style.width = `${pct}%`;
  return h('span', { class: 'meter', role: 'img', 'aria-label': `${l.seatsInUse} of ${l.seats} seats in use` }, bar);
}

function badges(l: LicenseView): HTMLElement[] {
  const out: HTMLElement[] = [];
  if (l.status === 'suspended') out.push(h('span', { class: 'badge suspended' }, 'suspended'));
  else if (isFull(l)) out.push(h('span', { class: 'badge full' }, 'full'));
  if (l.seatCap !== null) out.push(h('span', { class: 'badge' }, `cap ${l.seatCap}`));
  return out;
}

function select(id: string): void {
  state.selected = id;
  history.replaceState(null, '', `#license=${encodeURIComponent(id)}`);
  renderLicenses();
  renderDetail(true);
}

// ---------- the selected license ----------

let charts: HistoryCharts | undefined;
let range = 'hour-2';
const RANGES: Record<string, { label: string; bucket: 'hour' | 'day'; days: number | null }> = {
  'hour-2': { label: 'per hour, last 2 days', bucket: 'hour', days: 2 },
  'hour-7': { label: 'per hour, last 7 days', bucket: 'hour', days: 7 },
  day: { label: 'per day, whole retention window', bucket: 'day', days: null },
};

function renderDetail(rebuild: boolean): void {
  const panel = $('#license');
  const l = state.selected ? state.licenses.get(state.selected) : undefined;
  if (!l) {
    panel.hidden = true;
    return;
  }
  panel.hidden = false;
  if (rebuild || panel.dataset.license !== l.id) {
    charts?.destroy();
    charts = historyCharts();
    panel.dataset.license = l.id;
    fill(
      panel,
      h('div', { class: 'detail-head' }, h('h2', { id: 'license-title' }), h('div', { id: 'license-figures', class: 'figures' })),
      h('h3', {}, 'Sessions'),
      h(
        'div',
        { class: 'scroll' },
        h(
          'table',
          { id: 'sessions', class: 'table sessions' },
          h('thead', {}, h('tr', {}, ['User', 'Name', 'Device', 'Apps', 'Tabs', 'State', 'Started', ''].map((t) => h('th', {}, t)))),
          h('tbody'),
        ),
      ),
      h('div', { class: 'columns' }, h('div', {}, h('h3', {}, 'Settings'), settingsForm(l)), h('div', {}, h('h3', {}, 'Denials'), h('ol', { id: 'denials', class: 'feed' }))),
      h('h3', {}, 'History'),
      h(
        'div',
        { class: 'row' },
        h(
          'select',
          { id: 'range', 'aria-label': 'History range', onchange: (e: Event) => ((range = (e.target as HTMLSelectElement).value), void loadHistory()) },
          Object.entries(RANGES).map(([k, r]) => h('option', { value: k, selected: k === range }, r.label)),
        ),
        h('span', { id: 'history-summary', class: 'muted' }),
      ),
      h('div', { id: 'history' }, charts.element),
    );
    void loadHistory();
    renderSessions();
    renderDenials();
  }
  fill($('#license-title'), l.name, ' ', h('small', { class: 'muted' }, l.id), ' ', badges(l));
  fill(
    $('#license-figures'),
    h('span', { class: 'big' }, h('b', { id: 'seats-in-use' }, l.seatsInUse), ` of ${l.seats} seats in use`),
    l.seatCap !== null ? h('span', {}, `plan cap ${l.seatCap}`) : null,
    h('span', {}, `idle hold ${l.idleTimeoutSec} s`),
    h('span', {}, `seat key: ${l.seatKey.join(' + ')}`),
  );
  syncSettings(l);
}

function sessionsOf(licenseId: string): SessionView[] {
  return [...state.sessions.values()].filter((s) => s.licenseId === licenseId).sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

function renderSessions(): void {
  const body = document.querySelector('#sessions tbody');
  if (!body || !state.selected) return;
  const rows = sessionsOf(state.selected).map((s) =>
    h(
      'tr',
      { 'data-session': s.id, class: s.state },
      h('td', { 'data-label': 'User' }, s.userId ?? s.sessionRef ?? s.instanceId ?? '—'),
      h('td', { 'data-label': 'Name', class: 'name' }, s.name ?? ''),
      h('td', { 'data-label': 'Device' }, s.deviceId ?? ''),
      h('td', { 'data-label': 'Apps' }, s.apps.length ? s.apps.join(', ') : (s.app ?? '')),
      h('td', { 'data-label': 'Tabs', class: 'tabs' }, s.sockets, s.weight > 1 ? ` (weight ${s.weight})` : ''),
      h(
        'td',
        { 'data-label': 'State', class: 'state' },
        h('span', { class: `badge ${s.state}` }, s.state),
        s.state === 'idle' && s.expiresAt ? h('span', { class: 'countdown', 'data-expires': s.expiresAt }, ` releases in ${remaining(s.expiresAt)}`) : null,
      ),
      h('td', { 'data-label': 'Started' }, time(s.startedAt)),
      h('td', {}, h('button', { type: 'button', class: 'kick danger', onclick: () => openKick(s) }, 'Kick')),
    ),
  );
  fill(body, rows.length ? rows : h('tr', {}, h('td', { colspan: 8, class: 'muted' }, 'No sessions.')));
}

function remaining(expiresAt: string): string {
  return countdown(Date.parse(expiresAt) - (Date.now() + state.skewMs));
}

function renderDenials(): void {
  const list = document.getElementById('denials');
  if (!list || !state.selected) return;
  const items = denialsOf(state.selected)
    .slice(0, 50)
    .map((d) =>
      h(
        'li',
        { class: 'denial' },
        h('time', { datetime: d.at }, time(d.at)),
        ' ',
        h('span', { class: 'badge reason' }, d.reason),
        ' ',
        h('span', { class: 'who' }, d.userId ?? d.sessionRef ?? d.deviceId ?? d.instanceId ?? 'unknown'),
      ),
    );
  fill(list, items.length ? items : h('li', { class: 'muted' }, 'No denials in the retention window.'));
}

// ---------- kick ----------

function openKick(s: SessionView): void {
  const message = h('input', { id: 'kick-message', type: 'text', maxlength: 500, placeholder: 'e.g. Freeing a seat for the night shift' });
  const error = h('p', { class: 'error', role: 'alert' });
  const dialog = h(
    'dialog',
    { id: 'kick-dialog' },
    h(
      'form',
      { method: 'dialog' },
      h('h3', {}, 'Kick ', h('span', { class: 'name' }, s.name ?? s.userId ?? s.sessionRef ?? s.id), '?'),
      h('p', { class: 'muted' }, 'Every tab of this session is told it ended; the seat is free at once.'),
      h('label', { for: 'kick-message' }, 'Message to the user (optional)'),
      message,
      error,
      h(
        'div',
        { class: 'row end' },
        h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel'),
        h(
          'button',
          {
            type: 'submit',
            id: 'kick-confirm',
            class: 'danger',
            onclick: (e: Event) => {
              e.preventDefault();
              const text = message.value.trim();
              api('DELETE', `/sessions/${encodeURIComponent(s.id)}`, text ? { message: text } : undefined)
                .then(() => dialog.close())
                .catch((err: Error) => fill(error, err.message));
            },
          },
          'Kick',
        ),
      ),
    ),
  );
  dialog.addEventListener('close', () => dialog.remove());
  document.body.appendChild(dialog);
  dialog.showModal();
  message.focus();
}

// ---------- settings ----------

const FIELDS = [
  { name: 'seats', label: 'Seats', type: 'number' },
  { name: 'idleTimeoutSec', label: 'Idle timeout (seconds)', type: 'number' },
  { name: 'deniedMessage', label: 'Denied message', type: 'text' },
] as const;
type FieldName = (typeof FIELDS)[number]['name'];

function settingsForm(l: LicenseView): HTMLElement {
  const status = h('p', { id: 'settings-status', class: 'muted', role: 'status' });
  const form = h(
    'form',
    {
      id: 'settings',
      novalidate: true,
      onsubmit: (e: Event) => {
        e.preventDefault();
        void saveSettings();
      },
    },
    FIELDS.map((f) =>
      h(
        'div',
        { class: 'field' },
        h('label', { for: `f-${f.name}` }, f.label),
        h('input', { id: `f-${f.name}`, name: f.name, type: f.type, 'aria-describedby': `err-${f.name}`, 'data-dirty': false, oninput: (e: Event) => ((e.target as HTMLElement).dataset.dirty = 'true') }),
        h('span', { id: `err-${f.name}`, class: 'error field-error', role: 'alert' }),
      ),
    ),
    h(
      'div',
      { class: 'row' },
      h('button', { type: 'submit' }, 'Save'),
      h('button', { type: 'button', id: 'status-toggle', onclick: () => void toggleStatus() }),
    ),
    h('p', { id: 'form-error', class: 'error', role: 'alert' }),
    status,
  );
  queueMicrotask(() => syncSettings(l, true));
  return form;
}

/** Shows the license's values, except in fields the admin is editing. */
function syncSettings(l: LicenseView, force = false): void {
  for (const f of FIELDS) {
    const input = document.getElementById(`f-${f.name}`) as HTMLInputElement | null;
    if (!input) continue;
    if (force || (input.dataset.dirty !== 'true' && document.activeElement !== input)) input.value = String(l[f.name]);
  }
  const toggle = document.getElementById('status-toggle');
  if (toggle && toggle.dataset.confirm !== 'true') {
    fill(toggle, l.status === 'active' ? 'Suspend…' : 'Restore');
    toggle.className = l.status === 'active' ? 'danger' : '';
  }
}

async function saveSettings(): Promise<void> {
  const l = state.selected ? state.licenses.get(state.selected) : undefined;
  if (!l) return;
  const patch: Partial<Record<FieldName, unknown>> = {};
  for (const f of FIELDS) {
    const input = document.getElementById(`f-${f.name}`) as HTMLInputElement;
    fill($(`#err-${f.name}`));
    const raw = input.value;
    // Send what was typed; the server's own validation speaks for itself beside the field.
    const value = f.type === 'number' && raw.trim() !== '' && !Number.isNaN(Number(raw)) ? Number(raw) : raw;
    if (String(value) !== String(l[f.name])) patch[f.name] = value;
  }
  fill($('#form-error'));
  if (Object.keys(patch).length === 0) return fill($('#settings-status'), 'Nothing changed.');
  try {
    const updated = await api<LicenseView>('PATCH', `/licenses/${encodeURIComponent(l.id)}`, patch);
    state.licenses.set(updated.id, updated);
    for (const f of FIELDS) (document.getElementById(`f-${f.name}`) as HTMLInputElement).dataset.dirty = 'false';
    syncSettings(updated, true);
    renderLicenses();
    fill($('#settings-status'), `Saved at ${new Date().toLocaleTimeString()}.`);
  } catch (err) {
    showFieldError(err, Object.keys(patch) as FieldName[]);
  }
}

function showFieldError(err: unknown, sent: FieldName[]): void {
  if (!(err instanceof ApiError)) return fill($('#form-error'), String(err));
  const field = err.details?.field ?? err.details?.issues?.[0]?.path[0] ?? (sent.length === 1 ? sent[0] : undefined);
  const known = FIELDS.find((f) => f.name === field);
  if (known) fill($(`#err-${known.name}`), err.message);
  else fill($('#form-error'), err.message);
}

async function toggleStatus(): Promise<void> {
  const l = state.selected ? state.licenses.get(state.selected) : undefined;
  const toggle = document.getElementById('status-toggle');
  if (!l || !toggle) return;
  if (l.status === 'active' && toggle.dataset.confirm !== 'true') {
    // Two steps: suspending ends every session of the license.
    toggle.dataset.confirm = 'true';
    fill(toggle, `Confirm: suspend and end ${l.seatsInUse} seat(s)`);
    setTimeout(() => {
      delete toggle.dataset.confirm;
      const now = state.licenses.get(l.id);
      if (now) syncSettings(now);
    }, 5000);
    return;
  }
  delete toggle.dataset.confirm;
  try {
    const updated = await api<LicenseView>('PATCH', `/licenses/${encodeURIComponent(l.id)}`, { status: l.status === 'active' ? 'suspended' : 'active' });
    state.licenses.set(updated.id, updated);
    renderLicenses();
    renderDetail(false);
  } catch (err) {
    showFieldError(err, []);
  }
}

// ---------- history ----------

let historyTimer: ReturnType<typeof setTimeout> | undefined;
function scheduleHistory(): void {
  clearTimeout(historyTimer);
  historyTimer = setTimeout(() => void loadHistory(), 250);
}

async function loadHistory(): Promise<void> {
  const l = state.selected ? state.licenses.get(state.selected) : undefined;
  if (!l || !charts) return;
  const r = RANGES[range]!;
  const since = r.days === null ? '' : `&since=${new Date(Date.now() - r.days * 86_400_000).toISOString()}`;
  const id = encodeURIComponent(l.id);
  try {
    const [sel, days] = await Promise.all([
      api<{ buckets: HistoryBucket[] }>('GET', `/licenses/${id}/history?bucket=${r.bucket}${since}`),
      r.bucket === 'day' ? undefined : api<{ buckets: HistoryBucket[] }>('GET', `/licenses/${id}/history?bucket=day`),
    ]);
    if (state.selected !== l.id || !charts) return;
    charts.update(sel.buckets, l.seats, r.bucket);
    const daily = (days ?? sel).buckets;
    const today = daily.at(-1);
    const top = Math.max(0, ...daily.map((b) => b.peakSeatsInUse));
    const atFull = daily.filter((b) => l.seats > 0 && b.peakSeatsInUse >= l.seats).length;
    const denied = daily.reduce((n, b) => n + b.denials, 0);
    fill(
      $('#history-summary'),
      `Today's peak ${today?.peakSeatsInUse ?? 0} of ${l.seats} · highest daily peak ${top} · days at full ${atFull} · denials in the window ${denied}`,
    );
  } catch (err) {
    fill($('#history-summary'), `history unavailable: ${(err as Error).message}`);
  }
}

// ---------- audit ----------

function renderAudit(): void {
  const body = document.querySelector('#audit tbody');
  if (!body) return;
  fill(
    body,
    state.audit.length
      ? state.audit.map((a) =>
          h(
            'tr',
            { 'data-audit': a.id },
            h('td', { 'data-label': 'When' }, h('time', { datetime: a.at }, time(a.at))),
            h('td', { 'data-label': 'Who' }, a.actor),
            h('td', { 'data-label': 'What' }, a.action, a.licenseId ? h('span', { class: 'muted' }, ` ${a.licenseId}`) : null),
            h('td', { 'data-label': 'Detail', class: 'detail' }, JSON.stringify(a.detail).slice(0, 300)),
          ),
        )
      : h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No admin actions yet.')),
  );
}

// ---------- start ----------

function start(): void {
  $('#signin-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const input = $('#token') as HTMLInputElement;
    const token = input.value.trim();
    input.value = '';
    if (token) signIn(token);
  });
  $('#signout').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    showSignin();
  });
  // Live countdowns of idle seats.
  setInterval(() => {
    for (const el of document.querySelectorAll<HTMLElement>('[data-expires]')) {
      fill(el, ` releases in ${remaining(el.dataset.expires!)}`);
    }
  }, 1000);
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) signIn(saved);
  else showSignin();
}

start();
