// Activations (docs/contract.md section 8): how many distinct devices (`dev` claim) may use a
// license. A device is activated on its first grant and stays activated until an admin
// deactivates it; activations and concurrent seats are separate limits (an activation stays
// after its seat is released). A pure function of what the admission's transaction read under
// the license's lock (see SeatLedger.admit in server/store/seat-ledger.ts).
import { DenyReason } from '../../../shared';
import type { Claimant, License } from '../types';

export interface ActivationInput {
  license: Pick<License, 'maxActivations'>;
  claimant: Pick<Claimant, 'deviceId'>;
  /** Whether the claimant's device holds an activation of the license. */
  activated: boolean;
  /** Devices activated on the license now. */
  activatedCount: number;
}

export type ActivationDecision =
  /** No device claim on a license that does not count activations: nothing to record. */
  | { kind: 'none' }
  /** The device is activated already: on a grant or resume, its `lastSeenAt` moves. */
  | { kind: 'seen' }
  /** A new device with room for it: activated if (and only if) the admission grants. */
  | { kind: 'activate' }
  /** A new device beyond `maxActivations`. */
  | { kind: 'deny'; reason: typeof DenyReason.TooManyActivations }
  /** The license counts activations and the claimant has no `dev` claim to count it by. */
  | { kind: 'missing_claim' };

/**
 * Devices are recorded whether or not the license limits them (so a limit set later counts the
 * devices already in use). With `maxActivations` set: an activated device is let through to the
 * seat rules; a new one only while fewer than `maxActivations` devices are activated, else it is
 * denied `too_many_activations`. A lowered limit deactivates nobody: it only refuses new devices.
 * A claimant without `dev` is refused (`missing_claim`) only where the limit is set.
 */
export function decideActivation({ license, claimant, activated, activatedCount }: ActivationInput): ActivationDecision {
  if (claimant.deviceId === null) return license.maxActivations === null ? { kind: 'none' } : { kind: 'missing_claim' };
  if (activated) return { kind: 'seen' };
  if (license.maxActivations !== null && activatedCount >= license.maxActivations) {
    return { kind: 'deny', reason: DenyReason.TooManyActivations };
  }
  return { kind: 'activate' };
}

/** Why a claimant without `dev` is refused on a license that counts activations (`missing_claim`). */
export const ACTIVATION_CLAIM_MESSAGE = 'this license counts activations by the dev claim: the token needs a "dev" claim';
