// Text that people see: names, messages and ids echoed in errors. One check for every field that
// is shown on a dashboard or in a client (REST bodies and token claims alike), and one way to
// quote an id in an error message.
import type { z } from 'zod';

/**
 * Characters refused in shown text: C0 and C1 controls and DEL (`\p{Cc}`), bidi embeddings,
 * overrides and isolates (U+202A–U+202E, U+2066–U+2069), and lone surrogates (`\p{Cs}` only
 * matches a surrogate that is not half of a pair under the `u` flag).
 */
const UNSAFE = /[\p{Cc}\u202A-\u202E\u2066-\u2069\p{Cs}]/u;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'gu');

export const UNSAFE_TEXT_MESSAGE = 'must not contain control or bidi-override characters, or lone surrogates';

export function isSafeText(value: string): boolean {
  return !UNSAFE.test(value);
}

/**
 * Refuses control, bidi-override and lone-surrogate characters in a string schema. The issue
 * carries `params.unsafeText`, so the REST layer answers 422 (valid JSON, value not allowed).
 * Apply it last: it then checks the value as stored (after `.trim()`).
 */
export function safeText<S extends z.ZodString>(schema: S): S {
  return schema.refine(isSafeText, { message: UNSAFE_TEXT_MESSAGE, params: { unsafeText: true } });
}

export const ECHO_MAX_CHARS = 64;

/**
 * An id (or any value from a request) quoted for an error message: at most `ECHO_MAX_CHARS`
 * characters, then an ellipsis, with unsafe characters shown as U+FFFD.
 */
export function echoId(value: string): string {
  // Two UTF-16 units a character at most: look no further than that into a long value.
  const head = value.slice(0, ECHO_MAX_CHARS * 2);
  const chars = Array.from(head);
  const cut = chars.length > ECHO_MAX_CHARS || head.length < value.length;
  const shown = cut ? `${chars.slice(0, ECHO_MAX_CHARS).join('')}…` : head;
  return `"${shown.replace(UNSAFE_ALL, '\uFFFD')}"`;
}
