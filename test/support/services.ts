// The throwaway PostgreSQL and Redis (./throwaway-services) for the store and cluster suites, and
// `describeWith`, which skips a suite whose services this machine lacks.
import { describe } from 'vitest';

export * from './throwaway-services';

const CI = process.env.CI === 'true' || process.env.CI === '1';

/**
 * `describe` when every reason is undefined; otherwise a skipped `describe` with the reason
 * printed. Under CI=true a missing service is a failure, never a skip.
 */
export function describeWith(reasons: Array<string | undefined>): typeof describe | typeof describe.skip {
  const missing = reasons.filter((r): r is string => r !== undefined);
  if (missing.length === 0) return describe;
  if (CI) throw new Error(`CI=true but a service these tests need is missing: ${missing.join('; ')}`);
  process.stderr.write(`[skip] ${missing.join('; ')}\n`);
  return describe.skip;
}
