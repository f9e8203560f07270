// The rows of the settings form's reservation and group-limit lists (policy-fields.ts): a
// reservation is a group, seats and an optional weekly window (weekdays, from, to, a zone that
// defaults to the viewer's); a limit is a group and a maximum. Each part's id carries the row's
// index, so a refusal naming `reservations.2.window.tz` finds its input.
import type { GroupLimitView, ReservationView, ReservationWindowView } from '../../shared';
import { viewerZone } from './charts';
import { h } from './dom';

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** Marks the list edited (the board leaves it alone) and clears shown errors; set by policy-fields.ts. */
let edited: (list: HTMLElement) => void = (list) => (list.dataset.dirty = 'true');
export function onRowEdit(fn: (list: HTMLElement) => void): void {
  edited = fn;
}

function removeButton(list: HTMLElement, what: string): HTMLElement {
  return h(
    'button',
    {
      type: 'button',
      class: 'remove',
      'aria-label': `Remove this ${what}`,
      onclick: (e: Event) => {
        edited(list);
        const li = (e.target as HTMLElement).closest('li')!;
        const next = (li.nextElementSibling ?? li.previousElementSibling)?.querySelector<HTMLElement>('input');
        li.remove();
        renumber(list);
        (next ?? document.getElementById(`${list.id.slice(2)}-add`))?.focus();
      },
    },
    'Remove',
  );
}

/** Ids follow the row's index, so a server error about `reservations.2` finds row 2. */
function renumber(list: HTMLElement): void {
  [...list.children].forEach((li, i) => {
    (li as HTMLElement).dataset.index = String(i);
    for (const el of li.querySelectorAll<HTMLElement>('[data-part]')) {
      const id = `${list.id}-${i}-${el.dataset.part}`;
      const label = li.querySelector(`label[for="${el.id}"]`) ?? el.closest('label');
      el.id = id;
      if (label?.hasAttribute('for')) label.setAttribute('for', id);
      // Named with its row, so "Seats" of a reservation is not confused with the license's seats.
      el.setAttribute('aria-label', `${list.id === 'f-reservations' ? 'Reservation' : 'Group limit'} ${i + 1}: ${label?.textContent?.trim() ?? el.dataset.part}`);
    }
    li.querySelector('button.remove')?.setAttribute('aria-label', `Remove ${list.id === 'f-reservations' ? 'reservation' : 'group limit'} ${i + 1}`);
    li.querySelector('.row-error')?.setAttribute('id', `${list.id}-${i}-error`);
    for (const el of li.querySelectorAll<HTMLElement>('input')) el.setAttribute('aria-describedby', `${list.id}-${i}-error`);
  });
}

const part = (list: HTMLElement, name: string, label: string, input: HTMLInputElement, cls = '') =>
  h('span', { class: `part ${cls}` }, h('label', { for: `${list.id}-x-${name}` }, label), Object.assign(input, { id: `${list.id}-x-${name}` }));

function input(attrs: Record<string, string | number | boolean>, partName: string, onChange: () => void): HTMLInputElement {
  const el = h('input', { ...attrs, 'data-part': partName });
  el.addEventListener('input', onChange);
  el.addEventListener('change', onChange);
  return el;
}

export function reservationRow(list: HTMLElement, r: ReservationView): HTMLElement {
  const change = () => edited(list);
  const w: ReservationWindowView = r.window ?? { days: [1, 2, 3, 4, 5], from: '09:00', to: '17:00', tz: viewerZone() };
  const windowed = input({ type: 'checkbox', checked: r.window !== undefined }, 'windowed', change);
  const days = h(
    'span',
    { class: 'days', role: 'group', 'aria-label': 'Weekdays' },
    DAYS.map((d, i) => h('label', { class: 'check day' }, input({ type: 'checkbox', checked: w.days.includes(i + 1), value: i + 1 }, `day${i + 1}`, change), d)),
  );
  const windowBox = h(
    'span',
    { class: 'window-parts' },
    days,
    part(list, 'from', 'From', input({ type: 'time', value: w.from, required: true }, 'from', change)),
    part(list, 'to', 'To', input({ type: 'time', value: w.to, required: true }, 'to', change)),
    part(list, 'tz', 'Zone', input({ type: 'text', value: w.tz, maxlength: 100, spellcheck: false, placeholder: viewerZone() }, 'tz', change), 'zone'),
  );
  const showWindow = () => (windowBox.hidden = !windowed.checked);
  windowed.addEventListener('change', showWindow);
  const li = h(
    'li',
    { class: 'policy-row reservation' },
    h(
      'span',
      { class: 'row-parts' },
      part(list, 'group', 'Group', input({ type: 'text', value: r.group, maxlength: 200, spellcheck: false }, 'group', change)),
      part(list, 'seats', 'Seats', input({ type: 'number', value: r.seats, min: 1, step: 1, inputmode: 'numeric' }, 'seats', change), 'narrow'),
      h('label', { class: 'check' }, windowed, ' Only in a weekly window'),
      removeButton(list, 'reservation'),
    ),
    windowBox,
    h('span', { class: 'error row-error' }),
  );
  showWindow();
  queueMicrotask(() => renumber(list));
  return li;
}

export function limitRow(list: HTMLElement, g: GroupLimitView): HTMLElement {
  const change = () => edited(list);
  const li = h(
    'li',
    { class: 'policy-row limit' },
    h(
      'span',
      { class: 'row-parts' },
      part(list, 'group', 'Group', input({ type: 'text', value: g.group, maxlength: 200, spellcheck: false }, 'group', change)),
      part(list, 'max', 'At most', input({ type: 'number', value: g.max, min: 0, step: 1, inputmode: 'numeric' }, 'max', change), 'narrow'),
      removeButton(list, 'group limit'),
    ),
    h('span', { class: 'error row-error' }),
  );
  queueMicrotask(() => renumber(list));
  return li;
}

