// The inactivity rule on its own (docs/contract.md, "Inactivity release"): rows of what the store
// holds and the decision. No database; test/store/activity.test.ts checks that the store applies it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideInactivity, type InactivityFacts, type InactivitySettings } from '../../server/seats/decisions/inactivity';

const FLUSH = 1000;
const settings = (timeout: number | null, warning = 60): InactivitySettings => ({ inactivityTimeoutSec: timeout, inactivityWarningSec: warning });
const session = (lastActivityAt: number | null, warnedAt: number | null = null, state: 'active' | 'idle' = 'active'): InactivityFacts => ({
  state,
  startedAt: 0,
  lastActivityAt,
  warnedAt,
});

describe('decideInactivity', () => {
  // [timeout s, warning s, last activity, warned at, state, now] → decision
  const table: Array<[number | null, number, number | null, number | null, 'active' | 'idle', number, string]> = [
    // Off: nothing, however long the quiet.
    [null, 60, 0, null, 'active', 10_000_000, 'none'],
    // Active in time.
    [300, 60, 0, null, 'active', 239_999, 'none'],
    // The warning's time: 60 s before the deadline, once, after a flush's worth of activity on its way.
    [300, 60, 0, null, 'active', 240_000, 'none'],
    [300, 60, 0, null, 'active', 240_000 + FLUSH - 1, 'none'],
    [300, 60, 0, null, 'active', 240_000 + FLUSH, 'warn'],
    [300, 60, 0, 240_000, 'active', 250_000, 'none'],
    // The deadline itself: not yet released, a flush's worth of activity may still be on its way.
    [300, 60, 0, 240_000, 'active', 300_000, 'none'],
    [300, 60, 0, 240_000, 'active', 300_000 + FLUSH, 'release'],
    // Never released unwarned: a warning that never went out in its window (no sweep fell in it)
    // goes out late, and tells of a release its full length later, which waits for it.
    [300, 60, 0, null, 'active', 300_000, 'warn'],
    [300, 60, 0, null, 'active', 400_000, 'warn'],
    [300, 60, 0, 400_000, 'active', 400_000 + 60_000 + FLUSH - 1, 'none'],
    [300, 60, 0, 400_000, 'active', 400_000 + 60_000 + FLUSH, 'release'],
    // Newer activity moves everything.
    [300, 60, 200_000, null, 'active', 400_000, 'none'],
    // A session from before activity was recorded counts from its start (0 here).
    [300, 60, null, 240_000, 'active', 301_000, 'release'],
    // Idle sessions are the idle timeout's business.
    [300, 60, 0, null, 'idle', 10_000_000, 'none'],
    // A warning of 0 warns nobody; a warning longer than the timeout warns at once.
    [300, 0, 0, null, 'active', 299_000, 'none'],
    [300, 0, 0, null, 'active', 300_000 + FLUSH, 'release'],
    [300, 600, 0, null, 'active', 0, 'warn'],
  ];
  it.each(table)('timeout %s, warning %s, last %s, warned %s, %s, now %s → %s', (timeout, warning, last, warned, state, now, expected) => {
    expect(decideInactivity(settings(timeout, warning), session(last, warned, state), now, FLUSH).kind).toBe(expected);
  });

  it('the warning names the deadline (or, late, its full length from now) and waits a flush; no release comes unwarned, nor before the time told plus a flush, and every quiet session goes after it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3600 }),
        fc.integer({ min: 0, max: 3600 }),
        fc.integer({ min: 0, max: 1e9 }),
        fc.integer({ min: 0, max: 1e7 }),
        fc.option(fc.integer({ min: 0, max: 1e7 }), { nil: null }),
        (timeout, warning, last, elapsed, warnedAfter) => {
          const now = last + elapsed;
          const warnedAt = warnedAfter === null || warning === 0 ? null : last + Math.min(warnedAfter, elapsed);
          const d = decideInactivity(settings(timeout, warning), session(last, warnedAt), now, FLUSH);
          const deadline = last + timeout * 1000;
          // What a warning at `warnedAt` told: the deadline, or, when it came at or past it, the warning's length after it.
          const told = warnedAt === null ? deadline : warnedAt >= deadline ? warnedAt + warning * 1000 : deadline;
          if (d.kind === 'release') {
            expect(warning === 0 || warnedAt !== null).toBe(true);
            expect(now).toBeGreaterThanOrEqual(told + FLUSH);
          }
          if ((warning === 0 || warnedAt !== null) && now >= told + FLUSH) expect(d.kind).toBe('release');
          if (warning > 0 && warnedAt === null && now >= deadline - warning * 1000 + FLUSH) expect(d.kind).toBe('warn');
          if (d.kind === 'warn') {
            expect(d.releasesAt).toBe(now >= deadline ? now + warning * 1000 : deadline);
            expect(d.releasesAt - now).toBeLessThanOrEqual(warning * 1000);
            expect(now).toBeGreaterThanOrEqual(deadline - warning * 1000 + FLUSH);
            expect(warnedAt).toBe(null);
            expect(warning).toBeGreaterThan(0);
          }
        },
      ),
    );
  });

  it('a release also waits until every node has its activity on record past the deadline', () => {
    // Deadline 300,000, and the flush long past; a node has written what it heard only up to `heard`.
    const quiet = session(0, 240_000);
    expect(decideInactivity(settings(300), quiet, 400_000, FLUSH, 299_999).kind).toBe('none');
    expect(decideInactivity(settings(300), quiet, 400_000, FLUSH, 300_000).kind).toBe('release');
    // A horizon never brings a release before the deadline plus a flush.
    expect(decideInactivity(settings(300), quiet, 300_000 + FLUSH - 1, FLUSH, 1e12).kind).toBe('none');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 0, max: 1e7 }), fc.integer({ min: 0, max: 2e9 }), (last, elapsed, heard) => {
        const d = decideInactivity(settings(300), session(last, last), last + elapsed, FLUSH, heard);
        const deadline = last + 300_000;
        expect(d.kind === 'release').toBe(last + elapsed >= deadline + FLUSH && heard >= deadline);
      }),
    );
  });
});
