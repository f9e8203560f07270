// Request input checked against a zod schema, refused as the contract says: a wrong shape is 400,
// a well-typed value out of range (or text with characters it may not hold) is 422; both name the
// field in `details.field` and list every issue in `details.issues` (docs/contract.md, errors).
import type { z } from 'zod';
import { echoId, ErrorCode } from '../../shared';
import { SeatError } from '../seats/seat-error';

/** A 422 issue: a well-typed value out of range, or text with characters it may not hold (shared/text.ts). */
const isRangeIssue = (i: z.core.$ZodIssue) =>
  i.code === 'too_small' || i.code === 'too_big' || (i.code === 'custom' && (i.params as { unsafeText?: boolean } | undefined)?.unsafeText === true);

/** Parses input with a zod schema: wrong shapes are 400, well-typed values out of range are 422. */
export function parse<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({
    ...i,
    // zod quotes unknown keys in full; a request's keys are echoed capped, as ids are.
    message: i.code === 'unrecognized_keys' ? `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.slice(0, 5).map(echoId).join(', ')}${i.keys.length > 5 ? ', …' : ''}` : i.message,
  }));
  const rangeOnly = result.error.issues.every(isRangeIssue);
  const message = issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
  // A 400's field is its first wrong-shaped one's, a 422's its first (all are out of range).
  const first = rangeOnly ? result.error.issues[0]! : result.error.issues.find((i) => !isRangeIssue(i))!;
  throw new SeatError(rangeOnly ? ErrorCode.OutOfRange : ErrorCode.BadRequest, message, {
    details: { ...rangeField(first), issues: issues.map((i) => ({ path: i.path.map(String), message: i.message })) },
  });
}

/**
 * `details.field` of a 400 or 422: the issue's path, dotted, as the engine's own range errors name
 * theirs (a query parameter by its name). The bound broken is in the message (`details.min` and
 * `max` come only with the engine's errors, which know both).
 */
function rangeField(issue: z.core.$ZodIssue): { field?: string } {
  return issue.path.length > 0 ? { field: issue.path.map(String).join('.') } : {};
}
