// The license settings the dashboard's form edits: each field's label, the range it takes (the
// server's bounds where the page carries them, AdminLimits), a hint that says so before anything
// is typed, and the check of a typed value in the form's words. The server has the last word.
import type { AdminLimits, LicenseView } from '../../shared';
import { typedNumber } from './dom';

export type FieldName =
  | 'seats'
  | 'idleTimeoutSec'
  | 'deniedMessage'
  | 'maxActivations'
  | 'inactivityTimeoutSec'
  | 'inactivityWarningSec'
  | 'leaseIntervalSec'
  | 'offlineGraceSec';

export interface Field {
  name: FieldName;
  label: string;
  /** How a sentence about it names it. */
  noun: string;
  /** `whole`: a whole number; `optional`: a whole number, or empty for none (null); `text`. */
  kind: 'whole' | 'optional' | 'text';
  /** Seconds, or a count. */
  seconds: boolean;
  /** Said when a required field is left empty. */
  empty: string;
  /** The fieldset it belongs in. */
  group: 'seats' | 'timeouts' | 'clients';
}

export const MAX_SEATS = 1_000_000;
export const MAX_MESSAGE = 500;

export const FIELDS: readonly Field[] = [
  { name: 'seats', label: 'Seats', noun: 'Seats', kind: 'whole', seconds: false, empty: 'Enter a number of seats.', group: 'seats' },
  { name: 'deniedMessage', label: 'Denied message', noun: 'Denied message', kind: 'text', seconds: false, empty: 'Enter the message people see when no seat is free.', group: 'seats' },
  { name: 'idleTimeoutSec', label: 'Idle timeout (seconds)', noun: 'Idle timeout', kind: 'whole', seconds: true, empty: 'Enter an idle timeout, in seconds.', group: 'timeouts' },
  { name: 'inactivityTimeoutSec', label: 'Inactivity timeout (seconds)', noun: 'Inactivity timeout', kind: 'optional', seconds: true, empty: '', group: 'timeouts' },
  { name: 'inactivityWarningSec', label: 'Inactivity warning (seconds)', noun: 'Inactivity warning', kind: 'whole', seconds: true, empty: 'Enter how long before the release to warn, in seconds (0 for no warning).', group: 'timeouts' },
  { name: 'maxActivations', label: 'Max activations', noun: 'Max activations', kind: 'optional', seconds: false, empty: '', group: 'clients' },
  { name: 'leaseIntervalSec', label: 'Lease interval (seconds)', noun: 'Lease interval', kind: 'whole', seconds: true, empty: 'Enter a lease interval, in seconds.', group: 'clients' },
  { name: 'offlineGraceSec', label: 'Offline grace (seconds)', noun: 'Offline grace', kind: 'whole', seconds: true, empty: 'Enter an offline grace in seconds (0 turns it off).', group: 'clients' },
];

export const GROUPS: Record<Field['group'], string> = {
  seats: 'Seats',
  timeouts: 'Timeouts',
  clients: 'Devices, leases and offline use',
};

export const fieldNamed = (name: unknown) => FIELDS.find((f) => f.name === name);

/** The value as the form shows it: empty for none. */
export function fieldValue(l: LicenseView, f: Field): string {
  const v = l[f.name];
  return v === null ? '' : String(v);
}

/** The allowed range of a number field, as far as this page knows it (the server's bounds where it gave them). */
export function fieldRange(f: Field, l: LicenseView, limits: Partial<AdminLimits>): { min: number; max: number } | undefined {
  switch (f.name) {
    case 'seats':
      return { min: 0, max: l.seatCap ?? MAX_SEATS };
    case 'idleTimeoutSec':
      return limits.idleTimeoutSec;
    case 'inactivityTimeoutSec':
      return limits.inactivityTimeoutSec;
    case 'inactivityWarningSec':
      return { min: 0, max: 86_400 };
    case 'maxActivations':
      return { min: 1, max: 1_000_000 };
    case 'leaseIntervalSec':
      return { min: 10, max: 2_592_000 };
    case 'offlineGraceSec':
      return { min: 0, max: 2_592_000 };
    default:
      return undefined;
  }
}

export function duration(sec: number): string {
  if (sec >= 86_400 && sec % 86_400 === 0) return `${sec / 86_400} d`;
  if (sec % 3600 === 0 && sec > 0) return `${sec / 3600} h`;
  if (sec % 60 === 0 && sec > 0) return `${sec / 60} min`;
  return `${sec} s`;
}

const between = (r: { min: number; max: number } | undefined, seconds: boolean) =>
  r ? `${seconds ? `Between ${r.min} and ${r.max} seconds (${duration(r.min)} to ${duration(r.max)})` : `From ${r.min} to ${r.max}`}.` : '';

/** What a field takes, said before anything is typed. */
export function fieldHint(f: Field, l: LicenseView, limits: Partial<AdminLimits>): string {
  const r = fieldRange(f, l, limits);
  switch (f.name) {
    case 'seats': {
      const range = l.seatCap !== null ? `A whole number from 0 to ${l.seatCap} (the plan's cap).` : 'A whole number, 0 or more.';
      if (l.seatsInUse === 0) return range;
      // With overage, what must fit is seats × overage, not seats.
      return l.overage > 1
        ? `${range} ${l.seatsInUse} in use now: seats × overage (${l.overage}) below that ends the newest sessions.`
        : `${range} ${l.seatsInUse} in use now: fewer ends the newest sessions.`;
    }
    case 'deniedMessage':
      return `Shown to people who find no free seat. Up to ${MAX_MESSAGE} characters.`;
    case 'idleTimeoutSec':
      return `${between(r, true) || 'In seconds.'} How long a seat stays held after its last tab closes.`;
    case 'inactivityTimeoutSec':
      return `Empty: off. ${between(r, true)} A seat whose tabs stay open with nobody using them is released after this long.`;
    case 'inactivityWarningSec':
      return `${between(r, true)} How long before an inactivity release the user is warned (0: no warning).`;
    case 'maxActivations':
      return `Empty: unlimited. ${between(r, false)} How many devices may hold activations of this license.`;
    case 'leaseIntervalSec':
      return `${between(r, true)} A client without a socket renews its lease within this long, or lets go of it.`;
    case 'offlineGraceSec':
      return `0: off. ${between(r, true)} Grants carry a signed receipt valid this long, and a disconnected seat is held until it expires.`;
  }
}

export const boundsSentence = (f: Field, r: { min: number; max: number }) =>
  f.seconds ? `${f.noun} must be between ${r.min} and ${r.max} seconds.` : `${f.noun} must be from ${r.min} to ${r.max}.`;
export const capSentence = (f: Field, cap: number) => `${f.noun} can't be more than the plan's cap of ${cap}.`;

/** Checks a typed value; a value is a number, text, or null (an empty optional field). */
export function parseField(f: Field, raw: string, l: LicenseView, limits: Partial<AdminLimits>): { value?: number | string | null; error?: string } {
  if (f.kind === 'text') {
    const value = raw.trim();
    if (!value) return { error: f.empty };
    if (value.length > MAX_MESSAGE) return { error: `${f.noun} can be at most ${MAX_MESSAGE} characters (it has ${value.length}).` };
    return { value };
  }
  if (raw.trim() === '') return f.kind === 'optional' ? { value: null } : { error: f.empty };
  const value = typedNumber(raw);
  if (!Number.isFinite(value)) return { error: `${f.noun} must be a number.` };
  if (!Number.isInteger(value)) return { error: f.seconds ? `${f.noun} must be a whole number of seconds.` : `${f.noun} must be a whole number.` };
  if (f.name === 'seats') {
    if (value < 0) return { error: `${f.noun} can't be negative.` };
    if (l.seatCap !== null && value > l.seatCap) return { error: capSentence(f, l.seatCap) };
    if (value > MAX_SEATS) return { error: `${f.noun} can be at most ${MAX_SEATS}.` };
    return { value };
  }
  const r = fieldRange(f, l, limits);
  if (r && (value < r.min || value > r.max)) return { error: boundsSentence(f, r) };
  return { value };
}

/** A zod issue of the REST API, said in the form's words. */
export function issueSentence(f: Field, message: string): string {
  let m: RegExpMatchArray | null;
  // A wrong type is `expected number, received string`; a bound broken is `expected number to be >=1`.
  if (/expected int\b/.test(message)) return f.seconds ? `${f.noun} must be a whole number of seconds.` : `${f.noun} must be a whole number.`;
  if (/expected number, received/.test(message)) return `${f.noun} must be a number.`;
  if (/expected string, received/.test(message)) return `${f.noun} must be text.`;
  if ((m = message.match(/expected string to have >=(\d+) characters/))) return m[1] === '1' ? f.empty : `${f.noun} must have at least ${m[1]} characters.`;
  if ((m = message.match(/expected string to have <=(\d+) characters/))) return `${f.noun} can be at most ${m[1]} characters.`;
  // A number with both bounds is said by the server as `must be between 1 and 32` (server/http/parse.ts).
  if ((m = message.match(/^must be between (-?[\d.]+) and (-?[\d.]+)/))) return boundsSentence(f, { min: Number(m[1]), max: Number(m[2]) });
  if ((m = message.match(/expected number to be >=?(-?\d+)/))) return f.name === 'seats' && m[1] === '0' ? `${f.noun} can't be negative.` : `${f.noun} must be at least ${m[1]}.`;
  if ((m = message.match(/expected number to be <=?(-?\d+)/))) return `${f.noun} can be at most ${m[1]}.`;
  if (/control or bidi-override/.test(message)) return `${f.noun} can't contain control characters or characters that reverse the text direction.`;
  return `${f.noun}: ${message}`;
}
