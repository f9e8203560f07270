// The activation rule on its own (docs/contract.md section 8, `maxActivations`): rows of what the
// store's transaction read, and the decision. No database; test/store/activations.test.ts checks
// that the store writes what was decided.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ActivationInput, decideActivation } from '../../server/seats/decisions/activation';

function input(maxActivations: number | null, deviceId: string | null, activated: boolean, activatedCount: number): ActivationInput {
  return { license: { maxActivations }, claimant: { deviceId }, activated, activatedCount };
}

describe('decideActivation', () => {
  // [maxActivations, dev claim, already activated, devices activated] → decision
  const table: Array<[number | null, string | null, boolean, number, string]> = [
    // Unlimited: every device is let through and recorded; no dev claim, nothing to record.
    [null, 'pc-1', false, 0, 'activate'],
    [null, 'pc-1', false, 500, 'activate'],
    [null, 'pc-1', true, 500, 'seen'],
    [null, null, false, 3, 'none'],
    // Limited: room for a new device, or not.
    [2, 'pc-1', false, 0, 'activate'],
    [2, 'pc-2', false, 1, 'activate'],
    [2, 'pc-3', false, 2, 'deny'],
    [1, 'pc-2', false, 1, 'deny'],
    // An activated device is let through to the seat rules, however full the activations are.
    [2, 'pc-1', true, 2, 'seen'],
    // The limit lowered below the activated count: the activated stay, new ones are refused.
    [1, 'pc-1', true, 3, 'seen'],
    [1, 'pc-4', false, 3, 'deny'],
    // A limited license counts by the dev claim: without one, the claimant is refused.
    [2, null, false, 0, 'missing_claim'],
    [1, null, false, 1, 'missing_claim'],
  ];
  it.each(table)('max %s, dev %s, activated %s, count %s → %s', (max, dev, activated, count, expected) => {
    const d = decideActivation(input(max, dev, activated, count));
    expect(d.kind).toBe(expected);
    if (d.kind === 'deny') expect(d.reason).toBe('too_many_activations');
  });

  it('never more activated devices than maxActivations: a device is only activated while there is room', () => {
    // A random run of connects, deactivations and limit changes against a model of the activated
    // set, applying the decision as the store does (activate on `activate`, nothing on a denial).
    const op = fc.oneof(
      fc.record({ kind: fc.constant('connect' as const), device: fc.integer({ min: 0, max: 9 }), granted: fc.boolean() }),
      fc.record({ kind: fc.constant('deactivate' as const), device: fc.integer({ min: 0, max: 9 }) }),
      fc.record({ kind: fc.constant('limit' as const), max: fc.option(fc.integer({ min: 1, max: 6 }), { nil: null }) }),
    );
    fc.assert(
      fc.property(fc.option(fc.integer({ min: 1, max: 6 }), { nil: null }), fc.array(op, { maxLength: 80 }), (start, ops) => {
        let max = start;
        const activated = new Set<number>();
        // The most devices there may be: the limit, or as many as were activated when it was lowered.
        let bound = max ?? Infinity;
        for (const o of ops) {
          if (o.kind === 'limit') {
            max = o.max;
            bound = max === null ? Infinity : Math.max(max, activated.size);
          } else if (o.kind === 'deactivate') {
            activated.delete(o.device);
            if (max !== null) bound = Math.max(max, activated.size);
          } else {
            const before = activated.size;
            const d = decideActivation(input(max, `pc-${o.device}`, activated.has(o.device), before));
            if (d.kind === 'deny') expect(activated.has(o.device)).toBe(false);
            if (d.kind === 'activate') {
              // A new device only where the limit leaves room for it.
              if (max !== null) expect(before).toBeLessThan(max);
              // Activated on its grant only (a denial by the seat rules activates nothing).
              if (o.granted) activated.add(o.device);
            }
          }
          expect(activated.size).toBeLessThanOrEqual(bound);
          if (max !== null && activated.size > max) {
            // Only a lowered limit leaves more: and then no new device gets in.
            const newcomer = [...Array(10).keys()].find((dv) => !activated.has(dv));
            if (newcomer !== undefined) expect(decideActivation(input(max, `pc-${newcomer}`, false, activated.size)).kind).toBe('deny');
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
