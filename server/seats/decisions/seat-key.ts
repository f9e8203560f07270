// Seat keys (docs/contract.md section 2): which claims of a claimant make up the one seat it counts as.
import { SEAT_KEY_CLAIM, type SeatKey, SeatKeyPart } from '../../../shared';
import type { Claimant } from '../types';

/** The claimant's field that carries each seat-key part (its token claim: SEAT_KEY_CLAIM). */
const CLAIMANT_FIELD = {
  [SeatKeyPart.Session]: 'sessionRef',
  [SeatKeyPart.User]: 'userId',
  [SeatKeyPart.Device]: 'deviceId',
  [SeatKeyPart.Instance]: 'instanceId',
} as const satisfies Record<SeatKeyPart, keyof Claimant>;

export type SeatKeyValue = { value: string } | { missing: SeatKeyPart; claim: (typeof SEAT_KEY_CLAIM)[SeatKeyPart] };

/**
 * The license's seat key applied to the claimant: the value every connection of one seat shares,
 * or the first part the claimant has no claim for.
 */
export function seatKeyValue(seatKey: SeatKey, claimant: Pick<Claimant, (typeof CLAIMANT_FIELD)[SeatKeyPart]>): SeatKeyValue {
  const values: string[] = [];
  for (const part of seatKey) {
    const value = claimant[CLAIMANT_FIELD[part]];
    if (value === null) return { missing: part, claim: SEAT_KEY_CLAIM[part] };
    values.push(value);
  }
  return { value: JSON.stringify(values) };
}

/** Why a claimant without a claim its license's seat key needs is refused (`missing_claim`). */
export function missingClaimMessage(missing: { missing: SeatKeyPart; claim: string }): string {
  return `this license counts seats by ${missing.missing}: the token needs a "${missing.claim}" claim`;
}

/** A live session's claims, as its row keeps them, for taking a new seat key. */
export type KeyedSession = { id: string } & Pick<Claimant, (typeof CLAIMANT_FIELD)[SeatKeyPart]>;

/**
 * The seat key values a license's live sessions take when its seat key changes, by session id:
 * each its claims' value under the new key, so a new tab of the same claimant resumes it. A
 * session left out (it lacks a claim the new key needs, or an older session, first in the order
 * given, took its value) keeps counting its seat until it ends under a value of its own that no
 * claimant's can equal (the store's `~<id>`; claimants' values are JSON arrays): nobody joins it
 * by the new key, and its claimant is counted by the new key from its next connect.
 */
export function rekeyedValues(seatKey: SeatKey, oldestFirst: readonly KeyedSession[]): Map<string, string> {
  const values = new Map<string, string>();
  const taken = new Set<string>();
  for (const s of oldestFirst) {
    const key = seatKeyValue(seatKey, s);
    if (!('value' in key) || taken.has(key.value)) continue;
    taken.add(key.value);
    values.set(s.id, key.value);
  }
  return values;
}
