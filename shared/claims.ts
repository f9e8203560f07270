// The client token's claims (docs/contract.md section 3) as a zod schema: the server parses every
// token with it, and portals may use it to check what they sign.
import { z } from 'zod';
import { SeatKeyPart } from './codes';
import { safeText } from './text';

// Ids are shown on the dashboard and in reports as well: no control or bidi-override characters.
const id = safeText(z.string().min(1).max(200));

export const TokenClaims = z.object({
  lic: id,
  sid: id.optional(),
  sub: id.optional(),
  dev: id.optional(),
  ins: id.optional(),
  /** The claimant's group, for reservations and group limits (docs/contract.md). */
  grp: id.optional(),
  // Shown on the dashboard: no control or bidi-override characters (shared/text.ts).
  app: safeText(z.string().max(200)).optional(),
  name: safeText(z.string().max(200)).optional(),
  // The range first, so 1e308 is told the 10000 limit rather than the largest safe integer.
  weight: z.number().min(1).max(10_000).int().optional(),
  exp: z.number(),
});
export type TokenClaims = z.infer<typeof TokenClaims>;

/** Which claim carries each seat-key part. */
export const SEAT_KEY_CLAIM = {
  [SeatKeyPart.Session]: 'sid',
  [SeatKeyPart.User]: 'sub',
  [SeatKeyPart.Device]: 'dev',
  [SeatKeyPart.Instance]: 'ins',
} as const satisfies Record<SeatKeyPart, keyof TokenClaims>;

export const SeatKey = z
  .array(z.enum([SeatKeyPart.Session, SeatKeyPart.User, SeatKeyPart.Device, SeatKeyPart.Instance]))
  .min(1)
  .max(4)
  .refine((parts) => new Set(parts).size === parts.length, 'seatKey parts must be distinct');
export type SeatKey = z.infer<typeof SeatKey>;
