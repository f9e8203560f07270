// The settings form's queue, overage, reservations and group limits (docs/contract.md "Overage,
// reservations and group limits"): an overage factor, the queue switch, and two editable lists.
// A reservation's window is weekdays, from/to local times and a zone (the viewer's by default).
// The form checks what it can; the server's 422 (`details.field` such as `reservations.1.window.tz`,
// or zod issues with a path) is placed beside the row it names.
import type { GroupLimitView, LicenseView, ReservationView } from '../../shared';
import { viewerZone } from './charts';
import { fill, h, setText, typedNumber } from './dom';
import { limitRow, onRowEdit, reservationRow } from './policy-rows';

export type PolicyName = 'overage' | 'queue' | 'reservations' | 'groupLimits';
export const POLICY_NAMES: readonly PolicyName[] = ['overage', 'queue', 'reservations', 'groupLimits'];
const NOUN: Record<PolicyName, string> = { overage: 'Overage', queue: 'Queue', reservations: 'Reservations', groupLimits: 'Group limits' };

onRowEdit((list) => {
  list.dataset.dirty = 'true';
  clearPolicyErrors();
});

const dirty = (el: HTMLElement) => () => {
  el.dataset.dirty = 'true';
  clearPolicyErrors();
};

/** The fieldset, empty lists filled by `syncPolicy`. */
export function policyFieldset(): HTMLElement {
  const set = h(
    'fieldset',
    { class: 'group', id: 'policy-fields' },
    h('legend', {}, 'Queue, overage and groups'),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'f-overage' }, 'Overage (× seats)'),
      h('input', { id: 'f-overage', name: 'overage', type: 'number', inputmode: 'decimal', min: 1, max: 2, step: 0.05, 'aria-describedby': 'hint-overage err-overage' }),
      h('span', { id: 'err-overage', class: 'error field-error' }),
      h('span', { id: 'hint-overage', class: 'hint muted' }, 'From 1 (off) to 2. Grants past the seats, up to seats × overage, are marked as overage.'),
    ),
    h(
      'div',
      { class: 'field' },
      h('span', { class: 'label' }, 'Queue'),
      h('label', { class: 'check' }, h('input', { id: 'f-queue', name: 'queue', type: 'checkbox', 'aria-describedby': 'hint-queue err-queue' }), ' Let clients wait for a seat'),
      h('span', { id: 'err-queue', class: 'error field-error' }),
      h('span', { id: 'hint-queue', class: 'hint muted' }, 'Clients that connect with queue: true wait in line; a freed seat goes to the first.'),
    ),
    listBlock('reservations', 'Reservations', 'Seats only a group (the token’s grp claim) may take, always or within a weekly window.', 'Add reservation'),
    listBlock('groupLimits', 'Group limits', 'The most seats a group may hold together.', 'Add group limit'),
  );
  for (const id of ['f-overage', 'f-queue']) set.querySelector(`#${id}`)!.addEventListener('input', dirty(set.querySelector(`#${id}`)!));
  return set;
}

function listBlock(name: 'reservations' | 'groupLimits', label: string, hint: string, add: string): HTMLElement {
  const list = h('ol', { id: `f-${name}`, class: 'policy-list', 'aria-label': label, 'aria-describedby': `hint-${name} err-${name}` });
  return h(
    'div',
    { class: 'policy-block' },
    h('h4', { id: `${name}-label` }, label),
    h('p', { id: `hint-${name}`, class: 'hint muted' }, hint),
    list,
    h('span', { id: `err-${name}`, class: 'error field-error', role: 'alert' }),
    h(
      'button',
      {
        type: 'button',
        id: `${name}-add`,
        onclick: () => {
          list.dataset.dirty = 'true';
          const row = name === 'reservations' ? reservationRow(list, { group: '', seats: 1 }) : limitRow(list, { group: '', max: 1 });
          list.append(row);
          row.querySelector('input')?.focus();
        },
      },
      add,
    ),
  );
}

/** Shows the license's values, except in parts the admin is editing (or always, with `force`). */
export function syncPolicy(l: LicenseView, force = false): void {
  const overage = document.getElementById('f-overage') as HTMLInputElement | null;
  if (!overage) return;
  const queue = document.getElementById('f-queue') as HTMLInputElement;
  const editing = (el: HTMLElement) => !force && (el.dataset.dirty === 'true' || el.contains(document.activeElement));
  if (!editing(overage)) overage.value = String(l.overage);
  if (!editing(queue)) queue.checked = l.queue;
  const reservations = document.getElementById('f-reservations')!;
  if (!editing(reservations)) {
    fill(reservations, l.reservations.map((r) => reservationRow(reservations, r)));
    reservations.dataset.dirty = 'false';
  }
  const limits = document.getElementById('f-groupLimits')!;
  if (!editing(limits)) {
    fill(limits, l.groupLimits.map((g) => limitRow(limits, g)));
    limits.dataset.dirty = 'false';
  }
  if (force) for (const el of [overage, queue]) el.dataset.dirty = 'false';
}

const valueOf = (li: Element, name: string) => li.querySelector<HTMLInputElement>(`[data-part="${name}"]`)!;

function isZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** What the form says, and the errors the form can see before asking the server. */
export function readPolicy(l: LicenseView): { patch: Partial<Pick<LicenseView, PolicyName>>; errors: number } {
  const patch: Partial<Pick<LicenseView, PolicyName>> = {};
  let errors = 0;
  const fail = (field: string, message: string) => {
    showPolicyError(field, message);
    errors += 1;
  };
  const overage = typedNumber((document.getElementById('f-overage') as HTMLInputElement).value);
  if (!Number.isFinite(overage) || overage < 1 || overage > 2) fail('overage', 'Overage must be from 1 to 2 (1 is off).');
  else if (overage !== l.overage) patch.overage = overage;
  const queue = (document.getElementById('f-queue') as HTMLInputElement).checked;
  if (queue !== l.queue) patch.queue = queue;

  const reservations: ReservationView[] = [];
  [...document.getElementById('f-reservations')!.children].forEach((li, i) => {
    const group = valueOf(li, 'group').value.trim();
    const seats = typedNumber(valueOf(li, 'seats').value);
    if (!group) return fail(`reservations.${i}.group`, 'Name the group (its members’ grp claim).');
    if (!Number.isInteger(seats) || seats < 1) return fail(`reservations.${i}.seats`, 'Seats must be a whole number, 1 or more.');
    const r: ReservationView = { group, seats };
    if (valueOf(li, 'windowed').checked) {
      const days = [1, 2, 3, 4, 5, 6, 7].filter((d) => valueOf(li, `day${d}`).checked);
      const from = valueOf(li, 'from').value;
      const to = valueOf(li, 'to').value;
      const tz = valueOf(li, 'tz').value.trim() || viewerZone();
      if (!days.length) return fail(`reservations.${i}.window.days`, 'Pick at least one weekday.');
      if (!/^\d\d:\d\d$/.test(from) || !/^\d\d:\d\d$/.test(to)) return fail(`reservations.${i}.window.from`, 'Give the window’s start and end times.');
      if (!isZone(tz)) return fail(`reservations.${i}.window.tz`, `Unknown time zone “${tz.slice(0, 100)}”; give an IANA name such as Europe/Amsterdam.`);
      r.window = { days, from, to, tz };
    }
    reservations.push(r);
  });
  const reserved = reservations.reduce((n, r) => n + r.seats, 0);
  if (!errors && reserved > l.seats && !('seats' in patch)) fail('reservations', `Reservations add up to ${reserved} seats, more than the license’s ${l.seats}.`);
  if (JSON.stringify(reservations) !== JSON.stringify(l.reservations)) patch.reservations = reservations;

  const limits: GroupLimitView[] = [];
  [...document.getElementById('f-groupLimits')!.children].forEach((li, i) => {
    const group = valueOf(li, 'group').value.trim();
    const max = typedNumber(valueOf(li, 'max').value);
    if (!group) return fail(`groupLimits.${i}.group`, 'Name the group.');
    if (!Number.isInteger(max) || max < 0) return fail(`groupLimits.${i}.max`, 'The limit must be a whole number, 0 or more.');
    if (limits.some((g) => g.group === group)) return fail(`groupLimits.${i}.group`, `Group “${group}” has a limit already.`);
    limits.push({ group, max });
  });
  if (JSON.stringify(limits) !== JSON.stringify(l.groupLimits)) patch.groupLimits = limits;
  return { patch, errors };
}

/**
 * Places a message beside what `field` names (`overage`, `reservations`, `reservations.1.window.tz`,
 * `groupLimits.0.group`); false when it names none of these fields.
 */
export function showPolicyError(field: string | undefined, message: string): boolean {
  const [name, index, ...rest] = (field ?? '').split('.');
  if (!POLICY_NAMES.includes(name as PolicyName)) return false;
  const n = name as PolicyName;
  const li = index !== undefined ? document.getElementById(`f-${n}`)?.children[Number(index)] : undefined;
  if (li) {
    // The server counts rows from 0; the form says which other row, counting from 1.
    const overlap = message.match(/^reservations (\d+) and (\d+) of group "(.*)" (overlap in time|use different time zones)/);
    const said = overlap
      ? `${overlap[4] === 'overlap in time' ? 'This window overlaps' : 'This zone differs from'} that of reservation ${Number(overlap[1]) + 1} of group “${overlap[3]}”${overlap[4] === 'overlap in time' ? '' : ': one group, one zone'}.`
      : message;
    setText(li.querySelector('.row-error')!, said);
    const which = rest[0] === 'window' ? (rest[1] ?? 'from') : (rest[0] ?? 'group');
    const target = li.querySelector<HTMLInputElement>(`[data-part="${which === 'days' ? 'day1' : which}"]`) ?? li.querySelector('input')!;
    target.setAttribute('aria-invalid', 'true');
    return true;
  }
  setText(document.getElementById(`err-${n}`)!, message.startsWith(n) ? `${NOUN[n]}${message.slice(n.length)}` : message);
  document.getElementById(`f-${n}`)?.setAttribute('aria-invalid', 'true');
  return true;
}

export function clearPolicyErrors(): void {
  for (const el of document.querySelectorAll('#policy-fields .error')) setText(el, '');
  for (const el of document.querySelectorAll('#policy-fields [aria-invalid]')) el.removeAttribute('aria-invalid');
}

/** After a save: the lists and fields show the license again. */
export function policySaved(l: LicenseView): void {
  syncPolicy(l, true);
}
