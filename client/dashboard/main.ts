// The live seat dashboard at /admin: a snapshot and live changes from the `/admin` namespace, and
// actions (kick, settings, suspend, the operator's in operator.ts) through the REST API. Every
// user-provided string is set as text.
//
// Live changes patch what is on screen in place (license cards by license id, session rows by
// session id) rather than rebuilding it, so keyboard focus, a half-typed setting and the scroll
// position survive them; seat-count changes of the shown license are announced politely.
import { io, type Socket } from 'socket.io-client';
import type {
  AdminClientToServerEvents,
  AdminLimits,
  AdminServerToClientEvents,
  AdminSnapshot,
  AuditEntryView,
  DenialView,
  LicenseView,
  SessionView,
} from '../../shared';
import { historyCharts, type HistoryCharts, type HistoryReply, viewerZone } from './charts';
import { $, countdown, fill, h, place, setBreakable, setText, time } from './dom';
import { activationsSection, loadActivations } from './activations';
import { auditLicenses, auditLive, auditRefresh, auditSnapshot, setupAudit } from './audit';
import { confirmDialog, openDialog } from './dialog';
import { openCreateLicense } from './license-create';
import { deleteLicense, loadTenants, reloadTenantsSoon, renderTenants, rotateSecret, setupTenantForm, tenantName, tenants, zoned } from './operator';
import { ApiError, api, refusal, TOKEN_KEY } from './rest';
import {
  boundsSentence,
  capSentence,
  FIELDS,
  type Field,
  type FieldName,
  fieldHint,
  fieldNamed,
  fieldRange,
  fieldValue,
  GROUPS,
  issueSentence,
  MAX_MESSAGE,
  parseField,
} from './settings-fields';
import { clearPolicyErrors, policyFieldset, POLICY_NAMES, type PolicyName, readPolicy, showPolicyError, syncPolicy } from './policy-fields';
import { overageCardLine, overageFigure, overageInUse, poolsSection, renderPools } from './pools';
import { queueCardLine, queueSection, renderQueue, setQueue, setQueues } from './queue-board';
import { loadWebhooks, setupWebhooks, webhooksLicenses } from './webhooks';
import { loadRequests, recentRequests, renderRequests, requestHeard, requestsSection } from './seat-requests';
import { sessionTable } from './session-table';
import './style.css';

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
  /** Activated devices per license, as the snapshot counted them (a reload counts afresh). */
  activations: new Map<string, number>(),
  /** Licenses deleted while this page is open: a late change of one does not bring its card back. */
  removed: new Set<string>(),
  selected: null as string | null,
  /** serverTime minus local time, so idle countdowns follow the server's clock when the two differ. */
  skewMs: 0,
  /** The server's bounds for settings: from the page, or learnt from a refusal that names them. */
  limits: pageLimits(),
};

/** The bounds the server wrote into the page (server/http/pages.ts); none when it did not. */
function pageLimits(): Partial<AdminLimits> {
  try {
    return JSON.parse(document.querySelector<HTMLMetaElement>('meta[name="seat-limits"]')?.content || '{}') as Partial<AdminLimits>;
  } catch {
    return {};
  }
}
let socket: AdminSocket | undefined;
/** The selected license's table: paged by the server, its session events heard by watching it. */
const table = sessionTable({
  sessions: state.sessions,
  watch: (id, previous) => {
    if (previous) socket?.emit('admin:unwatch', { licenseId: previous });
    socket?.emit('admin:watch', { licenseId: id });
  },
  render: () => renderSessions(),
});

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
  s.on('disconnect', (reason) => {
    setConn('reconnecting…', 'pending');
    // The server lets a board go when its token was rotated: connecting again tells which token holds.
    if (reason === 'io server disconnect') s.connect();
  });
  s.on('connect_error', (err: Error & { data?: { reason?: string; message?: string } }) => {
    if (err.data?.reason === 'unauthorized') {
      sessionStorage.removeItem(TOKEN_KEY);
      showSignin(err.data.message ?? 'the admin token is not valid');
    } else {
      setConn('offline, retrying…', 'bad');
    }
  });
  s.on('admin:snapshot', (snap) => {
    const first = $('#board').hidden;
    state.actor = snap.actor;
    // The snapshot's time is stamped before it travels, so a small difference is its latency, not
    // clock skew: correcting for it would stretch every countdown. Only a real skew is applied.
    const skew = Date.parse(snap.serverTime) - Date.now();
    state.skewMs = Math.abs(skew) > 5000 ? skew : 0;
    state.licenses = new Map(snap.licenses.map((l) => [l.id, l]));
    state.sessions.clear();
    for (const x of snap.sessions) state.sessions.set(x.id, x);
    state.denials = new Map();
    for (const d of snap.denials) denialsOf(d.licenseId).push(d);
    state.audit = snap.audit.slice(0, MAX_AUDIT);
    state.activations = new Map(Object.entries(snap.activations));
    setQueues(snap.queues ?? {});
    const operator = snap.actor.kind === 'operator';
    $('#signin').hidden = true;
    $('#board').hidden = false;
    $('#signout').hidden = false;
    renderTenants(operator);
    void loadTenants(operator, tenantsLoaded);
    fill($('#who'), snap.actor.kind === 'operator' ? 'operator: all tenants' : `tenant admin: ${snap.actor.tenantName}`);
    const wanted = new URLSearchParams(location.hash.slice(1)).get('license');
    if (!state.selected || !state.licenses.has(state.selected)) {
      state.selected = wanted && state.licenses.has(wanted) ? wanted : (snap.licenses[0]?.id ?? null);
    }
    renderLicenses();
    // A snapshot after a reconnect patches the board in place, as a live change does.
    renderDetail(false);
    if (!first) table.resubscribe();
    renderSessions();
    renderDenials();
    scheduleHistory();
    auditLicenses([...state.licenses.values()]);
    auditSnapshot(state.audit, licenseName);
    setupWebhooks(snap.actor.kind === 'operator');
    webhooksLicenses([...state.licenses.values()]);
    if (first) $('#licenses-heading').focus({ preventScroll: true });
  });
  s.on('admin:license', (l) => {
    if (state.removed.has(l.id)) return;
    const before = state.licenses.get(l.id);
    if (!before) {
      auditLicenses([...state.licenses.values(), l]);
      webhooksLicenses([...state.licenses.values(), l]);
    }
    state.licenses.set(l.id, l);
    renderLicenses();
    if (l.id === state.selected) {
      if (before && (before.seatsInUse !== l.seatsInUse || before.seats !== l.seats || before.status !== l.status)) announce(seatsSentence(l));
      renderDetail(false);
      scheduleHistory();
    }
  });
  s.on('admin:session', (change) => {
    const before = state.sessions.get(change.session.id);
    state.sessions.set(change.session.id, change.session);
    if (change.licenseId !== state.selected) return;
    table.heard(change.session, change.event);
    renderSessions();
    // A new seat may be a device's first: the activations list reads afresh.
    if (change.event === 'granted' && change.session.deviceId !== null) refreshActivationsSoon();
    // An inactivity warning that starts is said once; the countdown in its row ticks silently.
    const l = state.licenses.get(change.licenseId);
    const releases = l && inactivityRelease(change.session, l);
    if (releases && !before?.warnedAt) announce(`${displayName(change.session)} is released for inactivity at ${new Date(releases).toLocaleTimeString()} unless they use the app.`);
  });
  s.on('admin:license-removed', ({ licenseId }) => removeLicense(licenseId));
  s.on('admin:seat-request', ({ licenseId, ...r }) => {
    requestHeard(licenseId, r);
    renderLicenses();
    if (licenseId === state.selected) renderRequests(licenseId);
    const l = state.licenses.get(licenseId);
    if (l && licenseId === state.selected) announce(`${r.name ?? r.userId ?? 'Someone'} asked for a seat of ${l.name}.`);
  });
  s.on('admin:queue', ({ licenseId, ...q }) => {
    if (state.removed.has(licenseId)) return;
    setQueue(licenseId, q);
    renderLicenses();
    const l = state.licenses.get(licenseId);
    if (l && licenseId === state.selected) renderQueue(l);
  });
  s.on('admin:session-removed', (change) => {
    state.sessions.delete(change.sessionId);
    if (change.licenseId !== state.selected) return;
    table.removed(change.licenseId, change.sessionId);
    renderSessions();
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
    auditLive(entry);
    // Tenants' names and license counts follow what changes them.
    if (/^tenant\.|^license\.(create|delete|move)$/.test(entry.action)) reloadTenantsSoon(state.actor?.kind === 'operator', tenantsLoaded);
    if (entry.action === 'activation.deactivate' && entry.licenseId === state.selected) refreshActivations();
    if (entry.action.startsWith('webhook.')) void loadWebhooks();
    // A deactivation frees an activation: the card's count follows (new ones show on the next snapshot).
    const n = entry.licenseId !== null && entry.action === 'activation.deactivate' ? state.activations.get(entry.licenseId) : undefined;
    if (n !== undefined) {
      state.activations.set(entry.licenseId!, Math.max(0, n - 1));
      renderLicenses();
    }
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

// ---------- announcements ----------

let announceTimer: ReturnType<typeof setTimeout> | undefined;

/** Says it through the polite live region; a burst of changes is said once, as it ended. */
function announce(message: string): void {
  clearTimeout(announceTimer);
  announceTimer = setTimeout(() => setText($('#announcer'), message), 400);
}

function seatsSentence(l: LicenseView): string {
  const status = l.status === 'suspended' ? ', suspended' : isFull(l) ? ', full' : '';
  return `${l.name}: ${l.seatsInUse} of ${l.seats} seats in use${status}.`;
}

// ---------- license cards ----------

function isFull(l: LicenseView): boolean {
  return l.status === 'active' && l.seatsInUse >= Math.floor(l.seats * l.overage + 1e-9);
}

function renderLicenses(): void {
  const box = $('#licenses');
  const list = [...state.licenses.values()].sort((a, b) => a.name.localeCompare(b.name));
  const ids = new Set(list.map((l) => l.id));
  for (const el of [...box.children]) {
    if (!(el instanceof HTMLElement) || !ids.has(el.dataset.license ?? '')) el.remove();
  }
  let prev: Element | null = null;
  for (const l of list) {
    let card = box.querySelector<HTMLButtonElement>(`.card[data-license="${CSS.escape(l.id)}"]`);
    card ??= h('button', { type: 'button', 'data-license': l.id, onclick: () => select(l.id) });
    card.className = `card${l.id === state.selected ? ' selected' : ''}${isFull(l) ? ' full' : ''}`;
    card.setAttribute('aria-pressed', String(l.id === state.selected));
    // The card button itself stays, so focus on it survives a change of what it shows.
    fill(
      card,
      h('span', { class: 'card-name' }, l.name),
      h('span', { class: 'card-id' }, l.id),
      state.actor?.kind === 'operator' ? h('span', { class: 'card-tenant' }, 'tenant ', h('b', {}, tenantName(l.tenantId) ?? l.tenantId)) : null,
      h('span', { class: 'card-count' }, h('b', { class: 'in-use' }, l.seatsInUse), ` / ${l.seats} seats`),
      l.maxActivations !== null ? h('span', { class: 'card-id' }, `${state.activations.get(l.id) ?? 0} of ${l.maxActivations} activations`) : null,
      overageCardLine(l),
      queueCardLine(l),
      recentRequests(l.id, Date.now()) > 0 ? h('span', { class: 'card-requests' }, `${recentRequests(l.id, Date.now())} asked for a seat lately`) : null,
      meter(l),
      h('span', { class: 'badges' }, badges(l)),
    );
    place(box, card, prev);
    prev = card;
  }
  if (!list.length) box.append(h('p', { class: 'muted' }, 'No licenses yet. Create one with “New license…” (or POST /api/v1/licenses).'));
}

const licenseName = (id: string) => state.licenses.get(id)?.name;

/** The tenants' names arrived: the cards and the audit log show them. */
function tenantsLoaded(): void {
  renderLicenses();
  auditRefresh();
}

/** A license was deleted (from this board or another): its card, sessions and panel go. */
function removeLicense(id: string): void {
  state.removed.add(id);
  const l = state.licenses.get(id);
  state.licenses.delete(id);
  for (const [sid, s] of state.sessions) if (s.licenseId === id) state.sessions.delete(sid);
  state.denials.delete(id);
  setQueue(id, { queueLength: 0, queue: [] });
  const wasSelected = state.selected === id;
  if (wasSelected) state.selected = [...state.licenses.values()].sort((a, b) => a.name.localeCompare(b.name))[0]?.id ?? null;
  renderLicenses();
  auditLicenses([...state.licenses.values()]);
  if (wasSelected) {
    renderDetail(true);
    $('#licenses-heading').focus();
  }
  if (l) announce(`${l.name} was deleted.`);
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
  if (overageInUse(l) > 0) out.push(h('span', { class: 'badge overage' }, `overage +${overageInUse(l)}`));
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
      h('h3', { id: 'sessions-heading', tabindex: -1 }, 'Sessions'),
      table.controls(),
      // Its own scroll container (focusable, so it scrolls from the keyboard too): a wide table never
      // widens the page.
      h(
        'div',
        { class: 'scroll', role: 'region', 'aria-label': 'Sessions table', tabindex: 0 },
        h(
          'table',
          { id: 'sessions', class: 'table sessions' },
          h('caption', { class: 'visually-hidden' }, 'Sessions holding a seat of ', l.name),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['User', 'Name', 'Device', 'Apps', 'Tabs and leases', 'State', 'Started'].map((t) => h('th', { scope: 'col' }, t)),
              h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')),
            ),
          ),
          h('tbody'),
        ),
      ),
      queueSection(),
      poolsSection(),
      h(
        'div',
        { class: 'columns' },
        h('section', { 'aria-labelledby': 'settings-heading' }, h('h3', { id: 'settings-heading' }, 'Settings'), settingsForm(l)),
        h(
          'section',
          { 'aria-labelledby': 'denials-heading' },
          h('h3', { id: 'denials-heading' }, 'Denials'),
          h('ol', { id: 'denials', class: 'feed', tabindex: 0, 'aria-labelledby': 'denials-heading' }),
          requestsSection(),
        ),
      ),
      activationsSection(),
      h('h3', { id: 'history-heading' }, 'History'),
      h(
        'div',
        { class: 'row' },
        h('label', { for: 'range', class: 'visually-hidden' }, 'History range'),
        h(
          'select',
          { id: 'range', onchange: (e: Event) => ((range = (e.target as HTMLSelectElement).value), void loadHistory()) },
          Object.entries(RANGES).map(([k, r]) => h('option', { value: k, selected: k === range }, r.label)),
        ),
        h('span', { id: 'history-summary', class: 'muted', role: 'status' }),
      ),
      h(
        'p',
        { class: 'muted' },
        h('span', { id: 'history-zone' }, `Times in ${viewerZone()}`),
        ' · ',
        h('a', { id: 'summary-link', href: `/admin/licenses/${encodeURIComponent(l.id)}/summary` }, 'Printable usage summary'),
      ),
      h('div', { id: 'history' }, charts.element),
      exportSection(),
    );
    void loadHistory();
    table.show(l.id);
    renderSessions();
    renderDenials();
    refreshActivations();
    void loadRequests(l, renderLicenses);
  }
  fill($('#license-title'), l.name, ' ', h('small', { class: 'muted' }, l.id), ' ', badges(l));
  fill(
    $('#license-figures'),
    h('span', { class: 'big' }, h('b', { id: 'seats-in-use' }, l.seatsInUse), ` of ${l.seats} seats in use`),
    overageFigure(l),
    l.seatCap !== null ? h('span', {}, `plan cap ${l.seatCap}`) : null,
    h('span', {}, `idle hold ${l.idleTimeoutSec} s`),
    l.inactivityTimeoutSec !== null ? h('span', {}, `inactivity release ${l.inactivityTimeoutSec} s`) : null,
    l.offlineGraceSec > 0 ? h('span', {}, `offline grace ${l.offlineGraceSec} s`) : null,
    h('span', {}, `seat key: ${l.seatKey.join(' + ')}`),
  );
  syncSettings(l);
  renderQueue(l);
  renderPools(l, sessionsOf(l.id), Date.now() + state.skewMs);
}

let activationsTimer: ReturnType<typeof setTimeout> | undefined;
function refreshActivationsSoon(): void {
  clearTimeout(activationsTimer);
  activationsTimer = setTimeout(refreshActivations, 300);
}

/** Reads the selected license's activations; the card's count follows. */
function refreshActivations(): void {
  const l = state.selected ? state.licenses.get(state.selected) : undefined;
  if (!l) return;
  void loadActivations(l, (n) => {
    if (state.activations.get(l.id) === n) return;
    state.activations.set(l.id, n);
    renderLicenses();
  });
}

function sessionsOf(licenseId: string): SessionView[] {
  return [...state.sessions.values()].filter((s) => s.licenseId === licenseId).sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

const who = (s: SessionView) => s.userId ?? s.sessionRef ?? s.instanceId ?? '—';
const displayName = (s: SessionView) => s.name ?? s.userId ?? s.sessionRef ?? s.instanceId ?? s.id;

/** Patches the session rows in place, keyed by session id: new rows are added, gone ones removed. */
function renderSessions(): void {
  const body = document.querySelector('#sessions tbody');
  if (!body || !state.selected) return;
  const selected = state.selected;
  const list = table.rows(selected, () => sessionsOf(selected));
  const ids = new Set(list.map((s) => s.id));
  // A focused row that goes away hands focus to its neighbour, not to the page.
  let lostFocusAt = -1;
  [...body.children].forEach((tr, i) => {
    if (tr instanceof HTMLElement && ids.has(tr.dataset.session ?? '')) return;
    if (tr.contains(document.activeElement)) lostFocusAt = i;
    tr.remove();
  });
  let prev: Element | null = null;
  for (const s of list) {
    const tr = body.querySelector<HTMLTableRowElement>(`tr[data-session="${CSS.escape(s.id)}"]`) ?? sessionRow(s.id);
    patchRow(tr, s);
    place(body, tr, prev);
    prev = tr;
  }
  if (!list.length) body.append(h('tr', { class: 'empty' }, h('td', { colspan: 8, class: 'muted' }, table.emptyText())));
  // What each group holds follows its sessions (those this board knows of: the page and live ones).
  const shown = state.licenses.get(state.selected);
  if (shown && (shown.reservations.length || shown.groupLimits.length)) renderPools(shown, sessionsOf(state.selected), Date.now() + state.skewMs);
  if (lostFocusAt >= 0) {
    const rows = body.querySelectorAll<HTMLElement>('tr[data-session] button.kick');
    (rows[Math.min(lostFocusAt, rows.length - 1)] ?? $('#sessions-heading')).focus();
  }
}

function sessionRow(id: string): HTMLTableRowElement {
  return h(
    'tr',
    { 'data-session': id },
    h('td', { 'data-label': 'User', class: 'user' }),
    h('td', { 'data-label': 'Name', class: 'name' }),
    h('td', { 'data-label': 'Device', class: 'device' }),
    h('td', { 'data-label': 'Apps', class: 'apps' }),
    h('td', { 'data-label': 'Tabs and leases', class: 'tabs' }),
    h('td', { 'data-label': 'State', class: 'state' }),
    h('td', { 'data-label': 'Started', class: 'started' }),
    h(
      'td',
      { class: 'actions' },
      h(
        'button',
        {
          type: 'button',
          class: 'kick danger',
          // The session as it is when the button is pressed, not as it was when the row was made.
          onclick: () => {
            const s = state.sessions.get(id);
            if (s) openKick(s);
          },
        },
        'Kick',
      ),
    ),
  );
}

function patchRow(tr: HTMLTableRowElement, s: SessionView): void {
  const cell = (name: string) => tr.querySelector(`td.${name}`)!;
  tr.className = s.state;
  setBreakable(cell('user'), who(s));
  setBreakable(cell('name'), s.name ?? '');
  setBreakable(cell('device'), s.deviceId ?? '');
  setBreakable(cell('apps'), s.apps.length ? s.apps.join(', ') : (s.app ?? ''));
  const tabs = cell('tabs') as HTMLElement;
  const tabsKey = `${s.sockets} ${s.leases} ${s.weight}`;
  if (tabs.dataset.key !== tabsKey) {
    tabs.dataset.key = tabsKey;
    fill(
      tabs,
      `${s.sockets}${s.weight > 1 ? ` (weight ${s.weight})` : ''}`,
      s.leases > 0 ? [' ', h('span', { class: 'badge lease', title: 'HTTP leases: clients without a socket' }, `${s.leases} lease${s.leases === 1 ? '' : 's'}`)] : null,
    );
  }
  const l = state.licenses.get(s.licenseId);
  const releases = l ? inactivityRelease(s, l) : null;
  const holdUntil = s.receiptUntil && Date.parse(s.receiptUntil) > Date.now() + state.skewMs ? s.receiptUntil : null;
  const stateCell = cell('state') as HTMLElement;
  const key = `${s.state} ${s.expiresAt ?? ''} ${releases ?? ''} ${holdUntil ?? ''}`;
  if (stateCell.dataset.key !== key) {
    stateCell.dataset.key = key;
    fill(
      stateCell,
      h('span', { class: `badge ${s.state}` }, s.state),
      s.state === 'idle' && s.expiresAt ? h('span', { class: 'countdown', 'data-expires': s.expiresAt }, ` releases in ${remaining(s.expiresAt)}`) : null,
      releases
        ? h(
            'span',
            { class: 'warned' },
            ' ',
            h('span', { class: 'badge warning' }, 'inactive'),
            h('span', { class: 'countdown', 'data-releases': new Date(releases).toISOString() }, ` released in ${remaining(new Date(releases).toISOString())} unless used`),
          )
        : null,
      holdUntil ? h('span', { class: 'hold muted', 'data-hold': holdUntil }, ` offline hold until ${zoned(holdUntil)}`) : null,
    );
  }
  setText(cell('started'), time(s.startedAt));
  tr.querySelector('button.kick')!.setAttribute('aria-label', `Kick ${displayName(s)}`);
}

/**
 * When a warned session is released for inactivity, as its warning told: its last activity plus
 * the license's timeout, or, for a warning that went out only at or past that, the warning's length
 * after it (server/seats/decisions/inactivity.ts, `decideInactivity`); null when no warning is pending.
 */
function inactivityRelease(s: SessionView, l: LicenseView): number | null {
  if (!s.warnedAt || s.state !== 'active' || l.inactivityTimeoutSec === null) return null;
  const deadline = Date.parse(s.lastActivityAt ?? s.startedAt) + l.inactivityTimeoutSec * 1000;
  const warned = Date.parse(s.warnedAt);
  return warned >= deadline ? warned + l.inactivityWarningSec * 1000 : deadline;
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

// ---------- dialogs ----------

/**
 * Asks before a change that ends sessions. Resolves true only on the confirming button; Cancel,
 * Escape and closing the dialog resolve false. Cancel has the focus, so Enter changes nothing.
 */
function confirmEnding(title: string, lead: string, ending: Ending[], confirmLabel: string): Promise<boolean> {
  const shown = ending.slice(0, 10);
  const list = h(
    'div',
    {},
    shown.length
      ? h(
          'ol',
          { class: 'ending', 'aria-label': 'Sessions that would end, newest first' },
          shown.map((s) => h('li', {}, h('span', { class: 'name' }, s.name), h('span', { class: 'muted' }, ` ${s.detail}`))),
        )
      : null,
    ending.length > shown.length ? h('p', { class: 'muted' }, `and ${ending.length - shown.length} more`) : null,
  );
  return confirmDialog(title, lead, confirmLabel, list);
}

const sessionsWord = (n: number) => `${n} session${n === 1 ? '' : 's'}`;

/** A session a change would end, as the confirmation lists it. */
interface Ending {
  name: string;
  detail: string;
}

const REASONS: Record<string, string> = { seats_reduced: 'seats lowered', license_suspended: 'license suspended' };

/**
 * The sessions a license patch would end, newest first, as the server says (`POST
 * /licenses/:id/preview`, CONTRACT 8.6): it knows sessions this board has not heard of yet and the
 * overage and reservations, and refuses a patch the PATCH would refuse (thrown as the PATCH's error).
 */
async function previewEnding(l: LicenseView, patch: Record<string, unknown>): Promise<Ending[]> {
  const { wouldEnd } = await api<{ wouldEnd: Array<{ sessionId: string; userId: string | null; name: string | null; reason: string }> }>(
    'POST',
    `/licenses/${encodeURIComponent(l.id)}/preview`,
    patch,
  );
  return wouldEnd.map((w) => {
    const s = state.sessions.get(w.sessionId);
    const why = REASONS[w.reason] ?? w.reason.replace(/_/g, ' ');
    return { name: w.name ?? w.userId ?? (s ? displayName(s) : w.sessionId), detail: s ? `started ${time(s.startedAt)} (${why})` : `(${why})` };
  });
}

// ---------- kick ----------

function openKick(s: SessionView): void {
  const message = h('input', { id: 'kick-message', type: 'text', maxlength: 500, placeholder: 'e.g. Freeing a seat for the night shift' });
  const error = h('p', { id: 'kick-error', class: 'error', role: 'alert' });
  const dialog = h(
    'dialog',
    { id: 'kick-dialog', 'aria-labelledby': 'kick-title', 'aria-describedby': 'kick-lead' },
    h(
      'form',
      {
        method: 'dialog',
        onsubmit: (e: Event) => {
          e.preventDefault();
          const text = message.value.trim();
          api('DELETE', `/sessions/${encodeURIComponent(s.id)}`, text ? { message: text } : undefined)
            .then(() => close())
            .catch((err: Error) => fill(error, err instanceof ApiError && err.status === 404 ? 'This session has already ended.' : err.message));
        },
      },
      h('h2', { id: 'kick-title' }, 'Kick ', h('span', { class: 'name' }, displayName(s)), '?'),
      h('p', { id: 'kick-lead', class: 'muted' }, 'Every tab of this session is told it ended; the seat is free at once.'),
      h('label', { for: 'kick-message' }, 'Message to the user (optional)'),
      message,
      error,
      h('div', { class: 'row end' }, h('button', { type: 'button', onclick: () => close() }, 'Cancel'), h('button', { type: 'submit', id: 'kick-confirm', class: 'danger solid' }, 'Kick')),
    ),
  );
  const rowIndex = [...document.querySelectorAll('#sessions tr[data-session]')].findIndex((tr) => tr.getAttribute('data-session') === s.id);
  const close = openDialog(dialog, message, () => {}, () => {
    const kicks = document.querySelectorAll<HTMLElement>('#sessions tr[data-session] button.kick');
    return kicks[Math.min(rowIndex, kicks.length - 1)] ?? document.getElementById('sessions-heading');
  });
}

// ---------- settings ----------

function control(f: Field): HTMLInputElement | HTMLTextAreaElement {
  return document.getElementById(`f-${f.name}`) as HTMLInputElement | HTMLTextAreaElement;
}

function fieldRow(f: Field): HTMLElement {
  const attrs = {
    id: `f-${f.name}`,
    name: f.name,
    'aria-describedby': `hint-${f.name} err-${f.name}`,
    'data-dirty': false,
    oninput: (e: Event) => {
      const el = e.target as HTMLElement;
      el.dataset.dirty = 'true';
      showError(f, '');
    },
  };
  return h(
    'div',
    { class: 'field' },
    h('label', { for: `f-${f.name}` }, f.label),
    f.kind === 'text'
      ? h('textarea', { ...attrs, rows: 3, maxlength: MAX_MESSAGE })
      : h('input', { ...attrs, type: 'number', inputmode: 'numeric', step: 1, min: 0, placeholder: f.kind === 'optional' ? (f.name === 'maxActivations' ? 'unlimited' : 'off') : null }),
    h('span', { id: `err-${f.name}`, class: 'error field-error' }),
    h('span', { id: `hint-${f.name}`, class: 'hint muted' }),
  );
}

function settingsForm(l: LicenseView): HTMLElement {
  const form = h(
    'form',
    {
      id: 'settings',
      novalidate: true,
      'aria-labelledby': 'settings-heading',
      onsubmit: (e: Event) => {
        e.preventDefault();
        void saveSettings();
      },
    },
    (Object.keys(GROUPS) as Field['group'][]).map((g) =>
      h('fieldset', { class: 'group' }, h('legend', {}, GROUPS[g]), FIELDS.filter((f) => f.group === g).map(fieldRow)),
    ),
    policyFieldset(),
    h(
      'div',
      { class: 'row' },
      h('button', { type: 'submit', id: 'settings-save' }, 'Save'),
      h('button', { type: 'button', id: 'status-toggle', onclick: () => void toggleStatus() }),
    ),
    h('p', { id: 'form-error', class: 'error', role: 'alert' }),
    h('p', { id: 'settings-status', class: 'muted', role: 'status' }),
    h(
      'div',
      { class: 'row license-actions' },
      h('button', { type: 'button', id: 'secret-rotate', onclick: () => rotateSecret(l, (m) => setText($('#settings-status'), m)) }, 'Rotate secret…'),
      h('button', { type: 'button', id: 'license-delete', class: 'danger', onclick: () => void removeFromBoard(l.id) }, 'Delete license…'),
    ),
  );
  queueMicrotask(() => syncSettings(l, true));
  return form;
}

/** Asks, deletes the license through the API, and takes it off the board. */
async function removeFromBoard(id: string): Promise<void> {
  const l = state.licenses.get(id);
  if (!l) return;
  const ending = sessionsOf(id).sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  try {
    if (await deleteLicense(l, ending, (s) => `${displayName(s)}, started ${time(s.startedAt)}`)) removeLicense(id);
  } catch (err) {
    fill($('#form-error'), refusal(err, 'Deleting the license'));
  }
}

/** Shows the license's values and what each field takes, except in fields the admin is editing. */
function syncSettings(l: LicenseView, force = false): void {
  for (const f of FIELDS) {
    const input = document.getElementById(`f-${f.name}`) as HTMLInputElement | HTMLTextAreaElement | null;
    if (!input) continue;
    if (force || (input.dataset.dirty !== 'true' && document.activeElement !== input)) input.value = fieldValue(l, f);
    setText($(`#hint-${f.name}`), fieldHint(f, l, state.limits));
    const b = fieldRange(f, l, state.limits);
    if (b && input instanceof HTMLInputElement) {
      input.min = String(b.min);
      input.max = String(b.max);
    }
  }
  syncPolicy(l, force);
  const toggle = document.getElementById('status-toggle');
  if (toggle) {
    setText(toggle, l.status === 'active' ? 'Suspend…' : 'Restore');
    toggle.className = l.status === 'active' ? 'danger' : '';
  }
}

function showError(f: Field, message: string): void {
  const input = document.getElementById(`f-${f.name}`);
  const error = document.getElementById(`err-${f.name}`);
  if (!input || !error) return;
  setText(error, message);
  if (message) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

/** Places a refusal of the REST API beside the fields it is about; what concerns no field goes under the form. */
function showServerError(err: unknown, l: LicenseView): void {
  const form = $('#form-error');
  if (!(err instanceof ApiError)) return fill(form, `Could not save: ${String(err)}`);
  const d = err.details;
  const byField = new Map<Field, string>();
  const loose: string[] = [];
  let policy = 0;
  // The engine's own refusal names its field; an input check's says it in its issues (below).
  if (!d?.issues?.length && showPolicyError(d?.field, err.message)) policy += 1;
  for (const issue of d?.issues ?? []) {
    if (POLICY_NAMES.includes(issue.path[0] as PolicyName) && showPolicyError(issue.path.join('.'), issueSentence({ ...FIELDS[0]!, noun: issue.path.join('.') }, issue.message))) policy += 1;
  }
  const limited = fieldNamed(d?.field);
  if (limited) {
    const bounded = d?.min !== undefined && d.max !== undefined ? { min: d.min, max: d.max } : undefined;
    // The server's bounds, learnt from its refusal, are shown from now on.
    if (bounded && (limited.name === 'idleTimeoutSec' || limited.name === 'inactivityTimeoutSec')) {
      state.limits[limited.name] = bounded;
      syncSettings(l);
    }
    // An input check's refusal says it in its issue, in words the form has for it.
    const issue = d?.issues?.find((i) => i.path[0] === limited.name);
    const sentence = bounded
      ? boundsSentence(limited, bounded)
      : limited.name === 'seats' && d?.max !== undefined
        ? capSentence(limited, d.max)
        : issue
          ? issueSentence(limited, issue.message)
          : `${limited.noun}: ${err.message}`;
    byField.set(limited, sentence);
  }
  for (const issue of d?.issues ?? []) {
    const f = fieldNamed(issue.path[0]);
    if (f && !byField.has(f)) byField.set(f, issueSentence(f, issue.message));
    else if (!f && !POLICY_NAMES.includes(issue.path[0] as PolicyName)) loose.push(issue.message);
  }
  if (!byField.size && !loose.length && !policy) {
    loose.push(
      err.status === 401
        ? 'Your admin token is no longer accepted. Sign out and sign in again.'
        : err.status === 403
          ? 'Your admin token may not change this license.'
          : err.status === 404
            ? 'This license no longer exists.'
            : `Could not save: ${err.message}`,
    );
  }
  for (const [f, message] of byField) showError(f, message);
  fill(form, loose.join(' '));
  focusFirstError();
}

function focusFirstError(): void {
  document.querySelector<HTMLElement>('#settings [aria-invalid="true"], #settings li:has(.row-error:not(:empty)) input')?.focus();
}

async function saveSettings(): Promise<void> {
  const l = state.selected ? state.licenses.get(state.selected) : undefined;
  if (!l) return;
  const status = $('#settings-status');
  fill($('#form-error'));
  fill(status);
  clearPolicyErrors();
  const patch: Partial<Record<FieldName | PolicyName, unknown>> = {};
  let errors = 0;
  for (const f of FIELDS) {
    showError(f, '');
    const raw = control(f).value;
    if (raw === fieldValue(l, f)) continue;
    const { value, error } = parseField(f, raw, l, state.limits);
    if (error) {
      showError(f, error);
      errors += 1;
    } else if (value !== undefined && value !== l[f.name]) {
      patch[f.name] = value;
    }
  }
  const policy = readPolicy(l);
  Object.assign(patch, policy.patch);
  errors += policy.errors;
  if (errors) {
    setText(status, errors === 1 ? 'One field needs a change before saving.' : `${errors} fields need a change before saving.`);
    return focusFirstError();
  }
  if (Object.keys(patch).length === 0) return setText(status, 'Nothing changed.');
  try {
    const ending = await previewEnding(l, patch);
    if (ending.length) {
      const seats = patch.seats as number | undefined;
      const ok = await confirmEnding(
        seats !== undefined ? `Lower seats to ${seats}?` : 'End sessions to save?',
        `${l.seatsInUse} seats are in use. ${seats !== undefined ? `Lowering to ${seats}` : 'Saving'} ends ${sessionsWord(ending.length)} now, newest first:`,
        ending,
        `End ${sessionsWord(ending.length)} and save`,
      );
      if (!ok) return setText(status, 'Not saved: nothing changed.');
    }
  } catch (err) {
    return showServerError(err, l);
  }
  try {
    const updated = await api<LicenseView>('PATCH', `/licenses/${encodeURIComponent(l.id)}`, patch);
    state.licenses.set(updated.id, updated);
    for (const f of FIELDS) control(f).dataset.dirty = 'false';
    syncSettings(updated, true);
    renderDetail(false);
    renderLicenses();
    setText(status, `Saved at ${new Date().toLocaleTimeString()}.`);
  } catch (err) {
    showServerError(err, l);
  }
}

async function toggleStatus(): Promise<void> {
  const l = state.selected ? state.licenses.get(state.selected) : undefined;
  if (!l) return;
  fill($('#form-error'));
  const next = l.status === 'active' ? 'suspended' : 'active';
  if (next === 'suspended') {
    let ending: Ending[];
    try {
      ending = await previewEnding(l, { status: next });
    } catch (err) {
      return showServerError(err, l);
    }
    const ok = await confirmEnding(
      `Suspend ${l.name}?`,
      ending.length
        ? `Suspending ends all ${sessionsWord(ending.length)} now and refuses new ones until you restore the license:`
        : 'No one holds a seat now. New sessions are refused until you restore the license.',
      ending,
      ending.length ? `Suspend and end ${sessionsWord(ending.length)}` : 'Suspend',
    );
    if (!ok) return;
  }
  try {
    const updated = await api<LicenseView>('PATCH', `/licenses/${encodeURIComponent(l.id)}`, { status: next });
    state.licenses.set(updated.id, updated);
    renderLicenses();
    renderDetail(false);
    setText($('#settings-status'), next === 'suspended' ? 'Suspended.' : 'Restored.');
  } catch (err) {
    showServerError(err, l);
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
  // Buckets start at the viewer's midnights and full hours, and the page says which zone that is.
  const tz = `&tz=${encodeURIComponent(viewerZone())}`;
  try {
    const [sel, days] = await Promise.all([
      api<HistoryReply>('GET', `/licenses/${id}/history?bucket=${r.bucket}${since}${tz}`),
      r.bucket === 'day' ? undefined : api<HistoryReply>('GET', `/licenses/${id}/history?bucket=day${tz}`),
    ]);
    if (state.selected !== l.id || !charts) return;
    charts.update(sel);
    setText($('#history-zone'), `Times in ${sel.tz}`);
    const daily = (days ?? sel).buckets;
    const today = daily.at(-1);
    const top = Math.max(0, ...daily.map((b) => b.peakSeatsInUse));
    // Each day against the seats it had: raising the seats today leaves past full days full.
    const atFull = daily.filter((b) => b.full).length;
    const denied = daily.reduce((n, b) => n + b.denials, 0);
    const unmet = daily.reduce((n, b) => n + b.unmetDemand, 0);
    setText(
      $('#history-summary'),
      `Today's peak ${today?.peakSeatsInUse ?? 0} of ${today?.seats ?? l.seats} · highest daily peak ${top} · days at full ${atFull} · denials in the window ${denied}` +
        (l.queue || unmet > 0 ? ` · left the queue without a seat ${unmet}` : ''),
    );
  } catch (err) {
    setText($('#history-summary'), `history unavailable: ${(err as Error).message}`);
  }
}

// ---------- CSV downloads ----------

type Report = 'denials' | 'sessions' | 'history';

/** Download buttons for the license's reports as CSV, denials and history over a date range. */
function exportSection(): HTMLElement {
  const button = (what: Report, label: string) => h('button', { type: 'button', id: `export-${what}`, onclick: () => void downloadCsv(what) }, label);
  return h(
    'section',
    { 'aria-labelledby': 'export-heading' },
    h('h3', { id: 'export-heading' }, 'Download as CSV'),
    h(
      'div',
      { class: 'row export' },
      h('label', { for: 'export-from' }, 'From'),
      h('input', { type: 'date', id: 'export-from' }),
      h('label', { for: 'export-to' }, 'to'),
      h('input', { type: 'date', id: 'export-to' }),
      button('denials', 'Denials'),
      button('history', 'Daily history'),
      button('sessions', 'Sessions now'),
      h('span', { id: 'export-status', class: 'muted', role: 'status' }),
    ),
    h('p', { class: 'muted' }, 'Denials and history over the dates chosen (either may be left empty); sessions as they are now.'),
  );
}

/**
 * Fetches the report with the admin token in the Authorization header (never in a URL) and
 * saves it through a Blob link, under the name the server gives.
 */
async function downloadCsv(what: Report): Promise<void> {
  const l = state.selected ? state.licenses.get(state.selected) : undefined;
  if (!l) return;
  const params = new URLSearchParams({ format: 'csv' });
  if (what !== 'sessions') {
    // The dates are the admin's local days; `to` is inclusive, so the range ends at the next midnight.
    const from = ($('#export-from') as HTMLInputElement).value;
    const to = ($('#export-to') as HTMLInputElement).value;
    // A range that ends before it starts holds nothing: said, rather than a file of headers alone.
    if (from && to && from > to) {
      setText($('#export-status'), `The range ends before it starts: “From” (${from}) is after “To” (${to}).`);
      return;
    }
    if (from) params.set('since', new Date(`${from}T00:00`).toISOString());
    if (to) {
      const end = new Date(`${to}T00:00`);
      end.setDate(end.getDate() + 1);
      params.set('until', end.toISOString());
    }
    if (what === 'history') {
      params.set('bucket', 'day');
      params.set('tz', viewerZone());
    }
  }
  const status = $('#export-status');
  setText(status, 'Preparing the download…');
  try {
    const res = await fetch(`/api/v1/licenses/${encodeURIComponent(l.id)}/${what}?${params}`, {
      headers: { authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) ?? ''}` },
    });
    if (!res.ok) {
      const e = ((await res.json().catch(() => ({}))) as { error?: { message?: string } }).error;
      throw new Error(e?.message ?? `HTTP ${res.status}`);
    }
    const name = res.headers.get('content-disposition')?.match(/filename="([^"]+)"/)?.[1] ?? `${l.id}-${what}.csv`;
    const href = URL.createObjectURL(await res.blob());
    const link = h('a', { href, download: name, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(href), 60_000);
    setText(status, `Saved ${name}.`);
  } catch (err) {
    setText(status, `The download failed: ${(err as Error).message}`);
  }
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
    $('#token').focus();
  });
  setupTenantForm(() => {
    renderTenants(state.actor?.kind === 'operator');
    renderLicenses();
  });
  setupAudit();
  $('#license-new').addEventListener('click', () =>
    openCreateLicense({
      limits: state.limits,
      tenants: state.actor?.kind === 'operator' ? [...tenants.values()].sort((a, b) => a.name.localeCompare(b.name)) : null,
      created: (made) => {
        const { secret: _secret, ...view } = made as LicenseView & { secret?: string };
        state.licenses.set(view.id, view);
        auditLicenses([...state.licenses.values()]);
        select(view.id);
      },
    }),
  );
  // Live countdowns of idle seats and of inactivity releases.
  let ticks = 0;
  setInterval(() => {
    // A reservation window opens or closes on the clock, with no event: the groups' table is read
    // again each half minute.
    if (++ticks % 30 === 0 && state.selected) {
      const l = state.licenses.get(state.selected);
      if (l && l.reservations.some((r) => r.window)) renderPools(l, sessionsOf(l.id), Date.now() + state.skewMs);
    }
    for (const el of document.querySelectorAll<HTMLElement>('[data-expires]')) {
      setText(el, ` releases in ${remaining(el.dataset.expires!)}`);
    }
    for (const el of document.querySelectorAll<HTMLElement>('[data-releases]')) {
      setText(el, ` released in ${remaining(el.dataset.releases!)} unless used`);
    }
    for (const el of document.querySelectorAll<HTMLElement>('[data-since]')) {
      setText(el, ` (${countdown(Date.now() + state.skewMs - Date.parse(el.dataset.since!))})`);
    }
    // An offline hold that has run out is no longer shown.
    for (const el of document.querySelectorAll<HTMLElement>('[data-hold]')) {
      if (Date.parse(el.dataset.hold!) <= Date.now() + state.skewMs) el.remove();
    }
  }, 1000);
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) signIn(saved);
  else showSignin();
}

start();
