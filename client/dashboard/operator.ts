// What an operator does from the board (issue 13 section 6): tenants with their names (created
// here, their admin tokens rotated), and a license's secret rotated or the license deleted.
// Every secret the server returns is shown once (dialog.ts) and kept nowhere.
import type { LicenseView, SessionView } from '../../shared';
import { confirmDialog, openDialog, showOnce } from './dialog';
import { $, fill, h, setText, typedNumber } from './dom';
import { ApiError, api, refusal } from './rest';

export interface TenantRow {
  id: string;
  name: string;
  createdAt: string;
  licenses: number;
}

/** The tenants this admin may see (the operator: all; a tenant admin: its own), by id. */
export const tenants = new Map<string, TenantRow>();

export function tenantName(id: string): string | undefined {
  return tenants.get(id)?.name;
}

/** Reads the tenants afresh, then `onLoaded` (the cards show their names). */
export async function loadTenants(isOperator: boolean, onLoaded: () => void): Promise<void> {
  try {
    const { tenants: list } = await api<{ tenants: TenantRow[] }>('GET', '/tenants');
    tenants.clear();
    for (const t of list) tenants.set(t.id, t);
    renderTenants(isOperator);
    onLoaded();
  } catch (err) {
    setText($('#tenants-status'), refusal(err, 'Reading the tenants'));
  }
}

let reloadTimer: ReturnType<typeof setTimeout> | undefined;
/** A burst of changes (licenses created, deleted) reads the tenants once. */
export function reloadTenantsSoon(isOperator: boolean, onLoaded: () => void): void {
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(() => void loadTenants(isOperator, onLoaded), 300);
}

/** The operator's tenants panel: a table of tenants and a form to create one. Hidden for a tenant admin. */
export function renderTenants(isOperator: boolean): void {
  const panel = $('#tenants-panel');
  panel.hidden = !isOperator;
  if (!isOperator) return;
  const body = $('#tenants tbody');
  const list = [...tenants.values()].sort((a, b) => a.name.localeCompare(b.name));
  fill(
    body,
    list.length
      ? list.map((t) =>
          h(
            'tr',
            { 'data-tenant': t.id },
            h('td', { 'data-label': 'Name', class: 'name' }, t.name),
            h('td', { 'data-label': 'Id', class: 'id muted' }, t.id),
            h('td', { 'data-label': 'Licenses' }, t.licenses),
            h('td', { 'data-label': 'Created' }, h('time', { datetime: t.createdAt }, zoned(t.createdAt))),
            h(
              'td',
              { class: 'actions' },
              h('button', { type: 'button', class: 'rotate-token', 'aria-label': `Rotate the admin token of ${t.name}`, onclick: () => void rotateToken(t) }, 'Rotate token…'),
            ),
          ),
        )
      : h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'No tenants yet.')),
  );
}

/** Date and time with the zone they are in, so nobody takes a local time for UTC. */
export function zoned(iso: string): string {
  // (dateStyle and timeStyle cannot be combined with timeZoneName: the fields are named one by one.)
  return new Date(iso).toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' });
}

/** Wires the create-tenant form; `changed` runs after a tenant is made. */
export function setupTenantForm(changed: () => void): void {
  $('#tenant-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const input = $('#tenant-name') as HTMLInputElement;
    const error = $('#tenant-name-error');
    const name = input.value.trim();
    const fail = (message: string) => {
      setText(error, message);
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    };
    if (!name) return fail('Enter a name for the tenant.');
    if (name.length > 200) return fail(`A tenant's name can be at most 200 characters (it has ${name.length}).`);
    setText(error, '');
    input.removeAttribute('aria-invalid');
    api<TenantRow & { adminToken: string }>('POST', '/tenants', { name })
      .then(async (t) => {
        input.value = '';
        tenants.set(t.id, { id: t.id, name: t.name, createdAt: t.createdAt, licenses: 0 });
        changed();
        setText($('#tenants-status'), `Created ${t.name}.`);
        await showOnce(`Tenant ${t.name} created`, `Admin token of ${t.name}`, t.adminToken, 'Give it to the tenant’s admin; you can rotate it here if it is lost.');
      })
      .catch((err) => {
        if (err instanceof ApiError && err.status === 422) fail(`The name ${/control|bidi/.test(err.message) ? 'cannot contain control characters or characters that reverse the text direction' : 'is not allowed'}.`);
        else setText($('#tenants-status'), refusal(err, 'Creating the tenant'));
      });
  });
  ($('#tenant-name') as HTMLInputElement).addEventListener('input', () => {
    setText($('#tenant-name-error'), '');
    $('#tenant-name').removeAttribute('aria-invalid');
  });
}

async function rotateToken(t: TenantRow): Promise<void> {
  const ok = await confirmDialog(
    `Rotate the admin token of ${t.name}?`,
    'The current token stops working at once: whoever signs in with it (and every dashboard open with it) is refused until given the new one.',
    'Rotate token',
  );
  if (!ok) return;
  try {
    const { adminToken } = await api<{ adminToken: string }>('POST', `/tenants/${encodeURIComponent(t.id)}/admin-token`);
    setText($('#tenants-status'), `Rotated the admin token of ${t.name}.`);
    await showOnce(`New admin token of ${t.name}`, `Admin token of ${t.name}`, adminToken, 'The old token no longer works.');
  } catch (err) {
    setText($('#tenants-status'), refusal(err, 'Rotating the token'));
  }
}

// ---------- a license's secret and its deletion ----------

export const SECRET_GRACE = { default: 86_400, max: 2_592_000 };

/** Asks for the old secret's grace, rotates, and shows the new secret once. */
export function rotateSecret(l: LicenseView, report: (message: string) => void): void {
  const grace = h('input', {
    id: 'grace-sec',
    type: 'number',
    inputmode: 'numeric',
    min: 0,
    max: SECRET_GRACE.max,
    step: 1,
    value: SECRET_GRACE.default,
    'aria-describedby': 'grace-hint grace-error',
  });
  const error = h('p', { id: 'grace-error', class: 'error', role: 'alert' });
  const cancel = h('button', { type: 'button', onclick: () => close() }, 'Cancel');
  const dialog = h(
    'dialog',
    { id: 'secret-rotate-dialog', 'aria-labelledby': 'secret-rotate-title' },
    h(
      'form',
      {
        method: 'dialog',
        novalidate: true,
        onsubmit: (e: Event) => {
          e.preventDefault();
          const value = typedNumber(grace.value);
          if (grace.value.trim() === '' || !Number.isInteger(value) || value < 0 || value > SECRET_GRACE.max) {
            grace.setAttribute('aria-invalid', 'true');
            fill(error, `The grace must be a whole number of seconds from 0 to ${SECRET_GRACE.max} (30 days).`);
            return grace.focus();
          }
          api<{ secret: string; previousSecretValidUntil: string }>('POST', `/licenses/${encodeURIComponent(l.id)}/secret`, { graceSec: value })
            .then(async (r) => {
              close();
              report(`Rotated the secret of ${l.name}; the old one works until ${zoned(r.previousSecretValidUntil)}.`);
              await showOnce(
                `New secret of ${l.name}`,
                `Signing secret of ${l.name}`,
                r.secret,
                value > 0 ? `Tokens signed with the old secret are accepted until ${zoned(r.previousSecretValidUntil)}.` : 'Tokens signed with the old secret are refused from now on.',
              );
            })
            .catch((err: unknown) => fill(error, refusal(err, 'Rotating the secret')));
        },
      },
      h('h2', { id: 'secret-rotate-title' }, 'Rotate the secret of ', l.name, '?'),
      h('p', { class: 'muted' }, 'Portals sign client tokens with this secret. The new one is shown once; the old one keeps working for the grace you give, so portals can switch over.'),
      h('label', { for: 'grace-sec' }, 'Grace for the old secret (seconds)'),
      grace,
      h('span', { id: 'grace-hint', class: 'hint muted' }, `0 (stops at once) to ${SECRET_GRACE.max} (30 days); 86400 is a day.`),
      error,
      h('div', { class: 'row end' }, cancel, h('button', { type: 'submit', id: 'secret-rotate-ok' }, 'Rotate secret')),
    ),
  );
  const close = openDialog(dialog, grace, () => {});
}

/** Asks (listing who would be ended), then deletes the license. Resolves true when it is gone. */
export async function deleteLicense(l: LicenseView, sessions: SessionView[], describe: (s: SessionView) => string): Promise<boolean> {
  const shown = sessions.slice(0, 10);
  const list = shown.length
    ? h('ol', { class: 'ending', 'aria-label': 'Sessions that would end' }, shown.map((s) => h('li', {}, describe(s))))
    : null;
  const ok = await confirmDialog(
    `Delete ${l.name}?`,
    `${sessions.length ? `Its ${sessions.length === 1 ? 'session ends' : `${sessions.length} sessions end`} now (told “This license was deleted”), and ` : ''}its denials and activations are deleted (its seat history is kept until the retention window ends, and its id cannot be reused until then). Tokens for it are refused from then on. This cannot be undone.`,
    sessions.length ? `Delete and end ${sessions.length === 1 ? '1 session' : `${sessions.length} sessions`}` : 'Delete license',
    list,
  );
  if (!ok) return false;
  await api('DELETE', `/licenses/${encodeURIComponent(l.id)}`);
  return true;
}
