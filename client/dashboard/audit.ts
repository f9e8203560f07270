// The audit log as people read it: what changed from what to what (license.update records
// `before`), who did it and when (with the time zone), filtered by action and license and read
// back a page at a time (GET /audit?action&licenseId&before&limit).
import type { AuditEntryView, LicenseView } from '../../shared';
import { $, fill, h, setText } from './dom';
import { tenantName, zoned } from './operator';
import { api, refusal } from './rest';

const PAGE = 50;

const ACTIONS: Record<string, string> = {
  'tenant.create': 'Tenant created',
  'tenant.token-rotate': 'Admin token rotated',
  'license.create': 'License created',
  'license.update': 'License changed',
  'license.secret-rotate': 'Secret rotated',
  'license.delete': 'License deleted',
  'license.move': 'License moved to another tenant',
  'session.kick': 'Session kicked',
  'activation.deactivate': 'Device deactivated',
  'webhook.create': 'Webhook added',
  'webhook.update': 'Webhook changed',
  'webhook.delete': 'Webhook deleted',
  'receipt-key.rotate': 'Receipt key rotated',
};

const FIELD_WORDS: Record<string, string> = {
  name: 'name',
  seats: 'seats',
  seatCap: 'plan cap',
  seatKey: 'seat key',
  idleTimeoutSec: 'idle timeout (s)',
  status: 'status',
  deniedMessage: 'denied message',
  maxActivations: 'max activations',
  inactivityTimeoutSec: 'inactivity timeout (s)',
  inactivityWarningSec: 'inactivity warning (s)',
  leaseIntervalSec: 'lease interval (s)',
  offlineGraceSec: 'offline grace (s)',
  overage: 'overage',
  queue: 'queue',
  reservations: 'reservations',
  groupLimits: 'group limits',
  graceSec: 'grace (s)',
  previousSecretValidUntil: 'old secret valid until',
  tenantId: 'tenant',
  from: 'from tenant',
  to: 'to tenant',
  deviceId: 'device',
  sessionId: 'session',
  userId: 'user',
  message: 'message',
  endedSessions: 'sessions ended',
};

/** What null means for a field: off, unlimited, none. */
const NULL_WORDS: Record<string, string> = { inactivityTimeoutSec: 'off', maxActivations: 'unlimited', seatCap: 'none', message: 'none' };

function value(v: unknown, key = ''): string {
  if (v === null || v === undefined) return NULL_WORDS[key] ?? 'none';
  if ((key === 'tenantId' || key === 'from' || key === 'to') && typeof v === 'string') return tenantName(v) ?? v;
  if (Array.isArray(v)) return v.join(' + ');
  if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT.*Z$/.test(v)) return zoned(v);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** One line per change: "seats: 3 → 5" where the entry knows what it was, else "seats: 5". */
export function describeDetail(entry: Pick<AuditEntryView, 'action' | 'detail'>): string[] {
  const { before, endedSessions, ...rest } = entry.detail as Record<string, unknown> & { before?: Record<string, unknown> };
  const lines = Object.entries(rest).map(([k, v]) => {
    const word = FIELD_WORDS[k] ?? k;
    return before && k in before ? `${word}: ${value(before[k], k)} → ${value(v, k)}` : `${word}: ${value(v, k)}`;
  });
  if (typeof endedSessions === 'number' && endedSessions > 0) lines.push(`${endedSessions} session${endedSessions === 1 ? '' : 's'} ended`);
  return lines;
}

const audit = {
  rows: [] as AuditEntryView[],
  /** The id to page on from (the last row's), or null when the log has no more. */
  nextBefore: null as number | null,
  licenseName: (id: string): string | undefined => id,
};

function filters(): { action: string; licenseId: string } {
  return { action: ($('#audit-action') as HTMLSelectElement).value, licenseId: ($('#audit-license') as HTMLSelectElement).value };
}

function matches(e: AuditEntryView): boolean {
  const f = filters();
  return (!f.action || e.action === f.action) && (!f.licenseId || e.licenseId === f.licenseId);
}

/** The snapshot's newest entries (no filter): shown as they are, older ones read on demand. */
export function auditSnapshot(entries: AuditEntryView[], licenseName: (id: string) => string | undefined): void {
  audit.licenseName = licenseName;
  if (filters().action || filters().licenseId) return void load(false);
  audit.rows = entries.slice();
  // The snapshot carries the newest 100 (server/realtime/admin-namespace.ts): a full one may have more behind it.
  audit.nextBefore = entries.length >= 100 ? entries.at(-1)!.id : null;
  render();
}

/** A live entry: shown at the top when it passes the filters. */
export function auditLive(entry: AuditEntryView): void {
  if (!matches(entry) || audit.rows.some((r) => r.id === entry.id)) return;
  audit.rows.unshift(entry);
  render();
}

/** Keeps the license filter's choices in step with the board's licenses (and a deleted one chosen). */
export function auditLicenses(licenses: LicenseView[]): void {
  const select = $('#audit-license') as HTMLSelectElement;
  const chosen = select.value;
  const options = [h('option', { value: '' }, 'All licenses'), ...licenses.map((l) => h('option', { value: l.id }, `${l.name} (${l.id})`))];
  if (chosen && !licenses.some((l) => l.id === chosen)) options.push(h('option', { value: chosen }, `${chosen} (deleted)`));
  fill(select, options);
  select.value = chosen;
}

async function load(more: boolean): Promise<void> {
  const f = filters();
  const params = new URLSearchParams({ limit: String(PAGE) });
  if (f.action) params.set('action', f.action);
  if (f.licenseId) params.set('licenseId', f.licenseId);
  if (more && audit.nextBefore !== null) params.set('before', String(audit.nextBefore));
  setText($('#audit-status'), 'Reading the audit log…');
  try {
    const r = await api<{ audit: AuditEntryView[]; nextBefore: number | null }>('GET', `/audit?${params}`);
    audit.rows = more ? [...audit.rows, ...r.audit] : r.audit;
    audit.nextBefore = r.nextBefore;
    render();
    setText($('#audit-status'), `${audit.rows.length} entr${audit.rows.length === 1 ? 'y' : 'ies'} shown${audit.nextBefore === null ? ', all there are' : ''}.`);
  } catch (err) {
    setText($('#audit-status'), refusal(err, 'Reading the audit log'));
  }
}

export function setupAudit(): void {
  fill($('#audit-action'), h('option', { value: '' }, 'All actions'), Object.entries(ACTIONS).map(([k, label]) => h('option', { value: k }, label)));
  for (const id of ['#audit-action', '#audit-license']) $(id).addEventListener('change', () => void load(false));
  $('#audit-more').addEventListener('click', () => void load(true));
}

/** Draws the rows again (the tenants' names arrived). */
export function auditRefresh(): void {
  if (document.querySelector('#audit tbody')) render();
}

function render(): void {
  const body = $('#audit tbody');
  fill(
    body,
    audit.rows.length
      ? audit.rows.map((a) => {
          const lines = describeDetail(a);
          const license = a.licenseId ? (audit.licenseName(a.licenseId) ?? a.licenseId) : null;
          return h(
            'tr',
            { 'data-audit': a.id },
            h('td', { 'data-label': 'When', class: 'when' }, h('time', { datetime: a.at }, zoned(a.at))),
            h('td', { 'data-label': 'Who', class: 'who' }, a.actor),
            h(
              'td',
              { 'data-label': 'What', class: 'what' },
              ACTIONS[a.action] ?? a.action,
              license ? h('span', { class: 'muted' }, ` · ${license}`) : null,
              // The code too, as the API and its filters name it.
              ACTIONS[a.action] ? [' ', h('code', { class: 'action-code muted' }, a.action)] : null,
            ),
            h('td', { 'data-label': 'Changes', class: 'changes' }, lines.length ? h('ul', {}, lines.map((l) => h('li', {}, l))) : null),
          );
        })
      : h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No admin actions match.')),
  );
  ($('#audit-more') as HTMLButtonElement).hidden = audit.nextBefore === null;
}
