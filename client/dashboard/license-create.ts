// "New license…": the license form for creating one, with the same fields, ranges and
// field-level errors as the settings form (settings-fields.ts), a tenant to put it in for the
// operator, and the license's signing secret shown once when it is made.
import type { AdminLimits, LicenseView } from '../../shared';
import { openDialog, showOnce } from './dialog';
import { fill, h } from './dom';
import { ApiError, api, refusal } from './rest';
import { FIELDS, type Field, fieldHint, fieldNamed, fieldRange, issueSentence, boundsSentence, MAX_MESSAGE, parseField } from './settings-fields';

const SEAT_KEYS: Record<string, { label: string; key: string[] }> = {
  session: { label: 'One portal session (all its tabs)', key: ['session'] },
  'user-device': { label: 'One user on one device', key: ['user', 'device'] },
  instance: { label: 'One client instance', key: ['instance'] },
  device: { label: 'One device (any user)', key: ['device'] },
  user: { label: 'One user (any device)', key: ['user'] },
};

/** A license as a new one starts, for the field rules' ranges and hints (the server's defaults). */
function blank(limits: Partial<AdminLimits>): LicenseView {
  const idle = limits.idleTimeoutSec ? Math.min(limits.idleTimeoutSec.max, Math.max(limits.idleTimeoutSec.min, 300)) : 300;
  return {
    id: '',
    tenantId: '',
    name: '',
    seats: 5,
    seatCap: null,
    seatKey: ['session'],
    idleTimeoutSec: idle,
    status: 'active',
    deniedMessage: 'There are no free seats available',
    maxActivations: null,
    inactivityTimeoutSec: null,
    inactivityWarningSec: 60,
    leaseIntervalSec: 3600,
    offlineGraceSec: 0,
    seatsInUse: 0,
    createdAt: '',
    updatedAt: '',
  } as unknown as LicenseView;
}

const fieldId = (f: Field | string) => `n-${typeof f === 'string' ? f : f.name}`;

/** Opens the form; `created` gets the new license once the server made it. */
export function openCreateLicense(opts: {
  limits: Partial<AdminLimits>;
  tenants: { id: string; name: string }[] | null;
  created: (l: LicenseView) => void;
}): void {
  const base = blank(opts.limits);
  const error = (name: string) => h('span', { id: `${fieldId(name)}-err`, class: 'error field-error' });
  const name = h('input', { id: fieldId('name'), type: 'text', maxlength: 200, value: '', 'aria-describedby': `${fieldId('name')}-err` });
  const seatKey = h('select', { id: fieldId('seatKey') }, Object.entries(SEAT_KEYS).map(([k, v]) => h('option', { value: k }, v.label)));
  const tenant = opts.tenants
    ? h('select', { id: fieldId('tenantId') }, h('option', { value: '' }, 'Operator (no tenant)'), opts.tenants.map((t) => h('option', { value: t.id }, t.name)))
    : null;
  const formError = h('p', { id: 'new-license-error', class: 'error', role: 'alert' });
  const controls = new Map<Field, HTMLInputElement | HTMLTextAreaElement>();
  const fields = FIELDS.map((f) => {
    const attrs = { id: fieldId(f), name: f.name, 'aria-describedby': `${fieldId(f)}-hint ${fieldId(f)}-err` };
    const value = base[f.name] === null ? '' : String(base[f.name]);
    const r = fieldRange(f, base, opts.limits);
    const input =
      f.kind === 'text'
        ? h('textarea', { ...attrs, rows: 2, maxlength: MAX_MESSAGE })
        : h('input', { ...attrs, type: 'number', inputmode: 'numeric', step: 1, min: r?.min, max: r?.max, placeholder: f.kind === 'optional' ? (f.name === 'maxActivations' ? 'unlimited' : 'off') : null });
    input.value = value;
    input.addEventListener('input', () => show(f.name, ''));
    controls.set(f, input);
    return h(
      'div',
      { class: 'field' },
      h('label', { for: fieldId(f) }, f.label),
      input,
      error(f.name),
      h('span', { id: `${fieldId(f)}-hint`, class: 'hint muted' }, f.name === 'seats' ? 'A whole number, 0 or more.' : fieldHint(f, base, opts.limits)),
    );
  });
  function show(field: string, message: string): void {
    const input = document.getElementById(fieldId(field));
    const err = document.getElementById(`${fieldId(field)}-err`);
    if (!input || !err) return;
    err.textContent = message;
    if (message) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }
  const focusFirst = () => dialog.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();

  const submit = async (): Promise<void> => {
    fill(formError);
    const body: Record<string, unknown> = { seatKey: SEAT_KEYS[seatKey.value]!.key };
    let bad = 0;
    const n = name.value.trim();
    show('name', '');
    if (!n) {
      show('name', 'Enter a name for the license.');
      bad++;
    } else body.name = n;
    if (tenant?.value) body.tenantId = tenant.value;
    for (const [f, input] of controls) {
      show(f.name, '');
      const { value, error: e } = parseField(f, input.value, base, opts.limits);
      if (e) {
        show(f.name, e);
        bad++;
      } else if (value !== undefined) body[f.name] = value;
    }
    if (bad) return focusFirst();
    try {
      const made = await api<LicenseView & { secret: string }>('POST', '/licenses', body);
      close();
      opts.created(made);
      await showOnce(`License ${made.name} created`, `Signing secret of ${made.name}`, made.secret, 'Portals sign client tokens with it; you can rotate it from the license’s settings.');
    } catch (err) {
      if (!(err instanceof ApiError)) return void fill(formError, refusal(err, 'Creating the license'));
      const d = err.details;
      const limited = fieldNamed(d?.field);
      const issues = d?.issues ?? [];
      // An input check's refusal is said by its issue (below), in words the form has for it.
      if (limited && !issues.some((i) => i.path[0] === limited.name)) {
        show(limited.name, d?.min !== undefined && d.max !== undefined ? boundsSentence(limited, { min: d.min, max: d.max }) : `${limited.noun}: ${err.message}`);
      }
      for (const issue of issues) {
        const f = fieldNamed(issue.path[0]);
        if (f) show(f.name, issueSentence(f, issue.message));
        else if (issue.path[0] === 'name') show('name', /control|bidi/.test(issue.message) ? "The name can't contain control characters or characters that reverse the text direction." : `Name: ${issue.message}`);
      }
      if (!limited && !issues.length) fill(formError, refusal(err, 'Creating the license'));
      focusFirst();
    }
  };

  const dialog = h(
    'dialog',
    { id: 'new-license-dialog', class: 'wide', 'aria-labelledby': 'new-license-title' },
    h(
      'form',
      { method: 'dialog', novalidate: true, onsubmit: (e: Event) => (e.preventDefault(), void submit()) },
      h('h2', { id: 'new-license-title' }, 'New license'),
      h('div', { class: 'field' }, h('label', { for: fieldId('name') }, 'Name'), name, error('name')),
      tenant ? h('div', { class: 'field' }, h('label', { for: fieldId('tenantId') }, 'Tenant'), tenant) : null,
      h('div', { class: 'field' }, h('label', { for: fieldId('seatKey') }, 'A seat is'), seatKey),
      fields,
      formError,
      h('div', { class: 'row end' }, h('button', { type: 'button', onclick: () => close() }, 'Cancel'), h('button', { type: 'submit', id: 'new-license-ok' }, 'Create license')),
    ),
  );
  const close = openDialog(dialog, name, () => {});
}
