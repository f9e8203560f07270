// The one error type the engine throws: a code from shared/ and a message fit to show a user.
import type { AuthErrorCode, ErrorCode } from '../../shared';

export class SeatError extends Error {
  override name = 'SeatError';
  constructor(
    readonly code: ErrorCode | AuthErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options);
    this.details = options?.details;
  }
  readonly details: Record<string, unknown> | undefined;
}

/**
 * How a number outside its bounds is said, wherever it is checked (the input checks of
 * server/http/parse.ts, the server's own bounds in administration): `must be between 1 and 32`,
 * `… seconds` for a field counted in seconds (named `…Sec`).
 */
export const boundsPhrase = (field: string, min: number, max: number): string => `must be between ${min} and ${max}${/Sec$/.test(field) ? ' seconds' : ''}`;
