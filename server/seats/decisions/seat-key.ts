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
