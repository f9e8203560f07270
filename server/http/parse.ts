// Request input checked against a zod schema, refused as the contract says: a wrong shape is 400,
// a well-typed value out of range (or text with characters it may not hold) is 422; both name the
// field in `details.field` and list every issue in `details.issues` (docs/contract.md, errors).
import { z } from 'zod';
import { echoId, ErrorCode } from '../../shared';
import { boundsPhrase, SeatError } from '../seats/seat-error';

/** A 422 issue: a well-typed value out of range, or text with characters it may not hold (shared/text.ts). */
const isRangeIssue = (i: z.core.$ZodIssue) =>
  i.code === 'too_small' || i.code === 'too_big' || (i.code === 'custom' && (i.params as { unsafeText?: boolean } | undefined)?.unsafeText === true);

/** Parses input with a zod schema: wrong shapes are 400, well-typed values out of range are 422. */
export function parse<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  // A whole number past the safe integers breaks `.int()`'s own bound and the field's: one issue,
  // said in the field's bounds (`seats must be between 0 and 1000000`), not zod's <=9007199254740991.
  const raw = result.error.issues.filter((i, n, all) => !(isSafeIntBound(i) && numberBounds(schema, i) && all.some((j, m) => m !== n && j.code === i.code && samePath(i, j))));
  const issues = raw.map((i) => {
    const path = i.path.map(String);
    const field = path.join('.');
    const bounds = isRangeIssue(i) ? numberBounds(schema, i) : undefined;
    // zod quotes unknown keys in full; a request's keys are echoed capped, as ids are.
    const message =
      i.code === 'unrecognized_keys'
        ? `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.slice(0, 5).map(echoId).join(', ')}${i.keys.length > 5 ? ', …' : ''}`
        : bounds
          ? boundsPhrase(field, bounds.min, bounds.max)
          : i.message;
    // A number with both bounds is said as the server's own bounds are: `limit must be between 1 and 500`.
    // An unknown field is named by its own name (the first of them, capped as the message echoes
    // it): `details.field` is `bogus`, or `reservations.0.bogus`.
    const named = i.code === 'unrecognized_keys' ? [...path, echoId(i.keys[0]!).slice(1, -1)] : path;
    return { path, named, message, bounds, said: !field ? message : bounds ? `${field} ${message}` : `${field}: ${message}` };
  });
  const rangeOnly = raw.every(isRangeIssue);
  const message = issues.map((i) => i.said).join('; ');
  // A 400's field is its first wrong-shaped one's, a 422's its first (all are out of range), with its bounds when it has both.
  const at = rangeOnly ? 0 : raw.findIndex((i) => !isRangeIssue(i));
  const first = issues[at]!;
  throw new SeatError(rangeOnly ? ErrorCode.OutOfRange : ErrorCode.BadRequest, message, {
    details: {
      ...(first.named.length > 0 ? { field: first.named.join('.') } : {}),
      ...(rangeOnly && first.bounds ? first.bounds : {}),
      issues: issues.map(({ path, message }) => ({ path, message })),
    },
  });
}

/** `.int()`'s own bound, the safe integers (its issue's origin is `int`, not `number`). */
const isSafeIntBound = (i: z.core.$ZodIssue) =>
  (i.code === 'too_big' || i.code === 'too_small') && i.origin === 'int' && Math.abs(Number(i.code === 'too_big' ? i.maximum : i.minimum)) === Number.MAX_SAFE_INTEGER;

const samePath = (a: z.core.$ZodIssue, b: z.core.$ZodIssue) => a.path.length === b.path.length && a.path.every((k, n) => k === b.path[n]);

/**
 * Both bounds of the number an issue is about (`details.min` and `max`), found in the schema at the
 * issue's path; undefined when the number has only one (`before`: at least 1), or is not a number
 * (text too long, a list too short), or one bound is exclusive.
 */
function numberBounds(schema: z.core.$ZodType, issue: z.core.$ZodIssue): { min: number; max: number } | undefined {
  if ((issue.code !== 'too_small' && issue.code !== 'too_big') || (issue.origin !== 'number' && issue.origin !== 'int')) return undefined;
  const number = numberAt(schema, issue.path);
  if (!(number instanceof z.ZodNumber)) return undefined;
  const exclusive = (number._zod.def.checks ?? []).some((c) => (c._zod.def as { inclusive?: boolean }).inclusive === false);
  const { minValue: min, maxValue: max } = number;
  // `.int()` alone bounds a number by the safe integers: no bound a request is told about.
  const told = (n: number | null): n is number => n !== null && Math.abs(n) < Number.MAX_SAFE_INTEGER;
  return !exclusive && told(min) && told(max) ? { min, max } : undefined;
}

/** The number schema at a path, through objects, arrays and the wrappers a field has (optional, default, a query's pipe). */
function numberAt(schema: z.core.$ZodType, path: readonly PropertyKey[]): z.core.$ZodType | undefined {
  const def = schema._zod.def as z.core.$ZodTypeDef & { innerType?: z.core.$ZodType; in?: z.core.$ZodType; out?: z.core.$ZodType; shape?: Record<string, z.core.$ZodType>; element?: z.core.$ZodType };
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'readonly':
      return numberAt(def.innerType!, path);
    case 'pipe':
      return numberAt(def.out!, path) ?? numberAt(def.in!, path);
    case 'object': {
      const [key, ...rest] = path;
      const field = typeof key === 'string' ? def.shape![key] : undefined;
      return field && numberAt(field, rest);
    }
    case 'array': {
      const [key, ...rest] = path;
      return typeof key === 'number' ? numberAt(def.element!, rest) : undefined;
    }
    case 'number':
      return path.length === 0 ? schema : undefined;
    default:
      return undefined;
  }
}
