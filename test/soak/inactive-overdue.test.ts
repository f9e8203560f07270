// The soak checker's rule for inactivity releases that come late (soak/policy-checks.ts): due at
// the deadline, or, when the warning went out only at or past it, the warning's length after it
// (docs/contract.md: no seat goes unwarned).
import { expect, it } from 'vitest';
import { checkInactiveOverdue, type PolicyContext } from '../../soak/policy-checks';
import { Gaps } from '../../soak/record';
import type { LicenseRow, SessionRow, Snapshot } from '../../soak/truth';

const license: LicenseRow = { id: 'lic', seats: 1, seatsInUse: 1, status: 'active', overage: 1, queue: false, reservations: [], groupLimits: [], inactivityTimeoutSec: 10, inactivityWarningSec: 5 };
const session = (warnedAt: number | null): SessionRow => ({ id: 's', licenseId: 'lic', weight: 1, state: 'active', expiresAt: null, group: null, startedAt: 0, lastActivityAt: 0, warnedAt });

/** The violations the rule finds at `at` (ms); allowance 1000 + 1000 + 1000 + 1000. */
function violations(s: SessionRow, at: number, l: LicenseRow = license): string[] {
  const found: string[] = [];
  const ctx: PolicyContext = {
    violate: (v) => found.push(v.check),
    overdue: (t, now) => Math.max(0, now - t),
    gaps: new Gaps(),
    sweepMs: 1000,
    activityFlushMs: 1000,
    nodeTimeoutMs: 1000,
  };
  const snap: Snapshot = { at, licenses: [l], sessions: [s], connections: [], queue: [], nodes: [] };
  checkInactiveOverdue(ctx, snap);
  return found;
}

it('a session warned in time is due at its deadline', () => {
  expect(violations(session(6000), 14_000)).toEqual([]);
  expect(violations(session(6000), 14_001)).toEqual(['inactive-overdue']);
});

it('a late warning holds the release its length after it went out; an unwarned session waits at least the warning after the deadline', () => {
  // Warned at 20,000, past the 10,000 deadline: due 25,000.
  expect(violations(session(20_000), 29_000)).toEqual([]);
  expect(violations(session(20_000), 29_001)).toEqual(['inactive-overdue']);
  expect(violations(session(null), 19_000)).toEqual([]);
  expect(violations(session(null), 19_001)).toEqual(['inactive-overdue']);
  // With no warning, the deadline.
  expect(violations(session(null), 14_001, { ...license, inactivityWarningSec: 0 })).toEqual(['inactive-overdue']);
});
