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
