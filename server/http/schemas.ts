// REST input schemas (zod): every body and query is parsed here before it reaches the engine.
import { z } from 'zod';
import { LicenseStatus, SeatKey, safeText } from '../../shared';
import { SESSION_SORTS } from '../seats/session-page';

/** Shown text: trimmed, 1 to `max` characters, no control or bidi-override characters (422). */
const text = (max: number) => safeText(z.string().trim().min(1).max(max));

export const CreateTenantBody = z.strictObject({ name: text(200) });

/** As a token's `grp` claim (shared/claims.ts): a group name no claim can carry would match nobody. */
const groupName = safeText(z.string().min(1).max(200));
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'a local time "HH:MM"');
/** ISO weekdays 1 (Monday) to 7, local times, an IANA zone (checked in administration). */
const reservationWindow = z.strictObject({
  days: z.array(z.number().int().min(1).max(7)).min(1).max(7).refine((d) => new Set(d).size === d.length, 'days must be distinct'),
  from: hhmm,
  to: hhmm,
  tz: z.string().min(1).max(100),
});

/**
 * A whole number whose bounds are the server's configuration (IDLE_TIMEOUT_*, INACTIVITY_TIMEOUT_*),
 * checked in administration (422 with them). Not zod's `.int()`, which bounds it by the safe
 * integers first: 2**60 would be told `<=9007199254740991` instead of the server's bounds. A
 * fraction is refused in `.int()`'s words (400).
 */
const serverBoundedInt = () => z.number().refine(Number.isInteger, { message: 'Invalid input: expected int, received number' }).meta({ type: 'integer' });

const licenseFields = {
  name: text(200),
  seats: z.number().int().min(0).max(1_000_000),
  seatCap: z.number().int().min(0).max(1_000_000).nullable(),
  seatKey: SeatKey,
  idleTimeoutSec: serverBoundedInt(),
  status: z.enum([LicenseStatus.Active, LicenseStatus.Suspended]),
  deniedMessage: text(500),
  /** Null: unlimited (docs/contract.md section 8). */
  maxActivations: z.number().int().min(1).max(1_000_000).nullable(),
  /** Null: off. Its bounds (INACTIVITY_TIMEOUT_MIN_SEC, _MAX_SEC) are the server's: checked in administration (422). */
  inactivityTimeoutSec: serverBoundedInt().nullable(),
  inactivityWarningSec: z.number().int().min(0).max(86_400),
  leaseIntervalSec: z.number().int().min(10).max(2_592_000),
  /** 0: off; at most 30 days. */
  offlineGraceSec: z.number().int().min(0).max(2_592_000),
  overage: z.number().min(1).max(2),
  queue: z.boolean(),
  /** Sums, zones and overlaps are checked in administration (decisions/pool-settings.ts), 422. */
  reservations: z.array(z.strictObject({ group: groupName, seats: z.number().int().min(1).max(1_000_000), window: reservationWindow.optional() })).max(50),
  groupLimits: z.array(z.strictObject({ group: groupName, max: z.number().int().min(0).max(1_000_000) })).max(100),
};

export const CreateLicenseBody = z.strictObject({
  // Not "." or "..": a URL parser collapses such a path segment (also as %2e), so no browser or
  // fetch could address the license (`/licenses/..` is `/`).
  id: z.string().regex(/^(?!\.\.?$)[A-Za-z0-9._-]{1,100}$/, '1 to 100 letters, digits, ".", "_" or "-", and not "." or ".."').optional(),
  tenantId: z.string().min(1).max(100).optional(),
  name: licenseFields.name.optional(),
  seats: licenseFields.seats,
  seatCap: licenseFields.seatCap.optional(),
  seatKey: licenseFields.seatKey.optional(),
  idleTimeoutSec: licenseFields.idleTimeoutSec.optional(),
  status: licenseFields.status.optional(),
  deniedMessage: licenseFields.deniedMessage.optional(),
  maxActivations: licenseFields.maxActivations.optional(),
  inactivityTimeoutSec: licenseFields.inactivityTimeoutSec.optional(),
  inactivityWarningSec: licenseFields.inactivityWarningSec.optional(),
  leaseIntervalSec: licenseFields.leaseIntervalSec.optional(),
  offlineGraceSec: licenseFields.offlineGraceSec.optional(),
  overage: licenseFields.overage.optional(),
  queue: licenseFields.queue.optional(),
  reservations: licenseFields.reservations.optional(),
  groupLimits: licenseFields.groupLimits.optional(),
});

export const PatchLicenseBody = z
  .strictObject({
    /**
     * The license's own id, as a license read back carries it: taken and left as it is. Another id
     * is refused (api-router.ts): tokens name the license by it, so it never changes.
     */
    id: z.string().max(200),
    /** The operator's alone: moves the license to that tenant (administration.ts, `moveLicense`). */
    tenantId: z.string().min(1).max(100),
    name: licenseFields.name,
    seats: licenseFields.seats,
    seatCap: licenseFields.seatCap,
    seatKey: licenseFields.seatKey,
    idleTimeoutSec: licenseFields.idleTimeoutSec,
    status: licenseFields.status,
    deniedMessage: licenseFields.deniedMessage,
    maxActivations: licenseFields.maxActivations,
    inactivityTimeoutSec: licenseFields.inactivityTimeoutSec,
    inactivityWarningSec: licenseFields.inactivityWarningSec,
    leaseIntervalSec: licenseFields.leaseIntervalSec,
    offlineGraceSec: licenseFields.offlineGraceSec,
    overage: licenseFields.overage,
    queue: licenseFields.queue,
    reservations: licenseFields.reservations,
    groupLimits: licenseFields.groupLimits,
  })
  // At least one field besides `id` (api-router.ts, licensePatch).
  .partial();

/** The kick's body, when it has one (none at all is fine too). */
export const KickBody = z.strictObject({ message: text(500).optional() });

/**
 * An integer in a query (`?limit=`, `?offset=`, `?before=`): decimal digits, a leading minus
 * allowed (a negative where none is allowed is then out of range, 422, as in a body). Anything
 * else is a wrong shape, 400: `0x10`, `1e2`, `1.0`, ` 1`, an empty value, the parameter twice.
 * A value too long to be a number is out of range too.
 */
export function queryInt(bounds: { min: number; max?: number }) {
  const read = (digits: string) => Math.max(-Number.MAX_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, Number(digits)));
  const number = z.number().int().min(bounds.min);
  return z
    .string()
    .regex(/^-?\d+$/, 'expected an integer in decimal digits, such as 10')
    .transform(read)
    .pipe(bounds.max === undefined ? number : number.max(bounds.max));
}

/** `?format=csv`: the same rows as CSV (docs/contract.md 8.6); anything else but json is a 400. */
const format = z.enum(['json', 'csv']).default('json');

/** Without paging parameters the list is every live session, oldest first, as it always was. */
export const SessionsQuery = z.object({
  format,
  q: z.string().max(200).optional(),
  user: z.string().max(200).optional(),
  app: z.string().max(200).optional(),
  state: z.enum(['active', 'idle']).optional(),
  sort: z.enum(SESSION_SORTS).optional(),
  order: z.enum(['asc', 'desc']).optional(),
  limit: queryInt({ min: 1, max: 1000 }).optional(),
  offset: queryInt({ min: 0, max: 1_000_000 }).optional(),
});

/** `DELETE /licenses/:id/activations?deviceId=`: the device to deactivate, any id a token's `dev` may hold. */
export const ActivationQuery = z.object({ deviceId: z.string().refine((id) => id.length > 0, 'give the device id') });

/** ISO 8601's basic format (`20261129T045018Z`), to be read as the extended one. */
const BASIC = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})?([.,]\d+)?(Z|[+-]\d{2}(?:\d{2})?)?)?$/;
const extendedDateTime = z.union([z.iso.datetime({ offset: true, local: true }), z.iso.datetime({ offset: true, local: true, precision: -1 })]);

/**
 * An instant in ISO 8601 (`?since=`, `?until=`), as epoch ms: a date (its midnight, UTC), or a
 * date and time, in the extended (`2026-11-29T08:00:00Z`) or the basic format (`20261129T080000Z`),
 * seconds and their fraction optional, the zone `Z` or an offset (`+01:00`, `+0100`, `+01`); a
 * time without a zone is UTC; an offset's `+` may come as a space (an unencoded `+` in a query).
 * Anything else, or a day that does not exist, is refused.
 */
export const isoInstant = z.string().transform((given, ctx) => {
  // A `+` written into a URL unencoded reaches the query as a space: `…T09:00 01:00` is `…T09:00+01:00`.
  const raw = given.replace(/^(\d{4}-?\d{2}-?\d{2}T[\d:.,]+) (\d{2}(?::?\d{2})?)$/, '$1+$2');
  const basic = BASIC.exec(raw);
  let text = basic ? `${basic[1]}-${basic[2]}-${basic[3]}${basic[4] ? `T${basic[4]}:${basic[5]}${basic[6] ? `:${basic[6]}` : ''}${basic[7] ?? ''}${basic[8] ?? ''}` : ''}` : raw;
  // A decimal comma, and offsets written `+0100` or `+01`, as zod's (and Date's) extended form has them.
  text = text.replace(/,(\d+)/, '.$1').replace(/(T[\d:.]+[+-]\d{2})(\d{2})$/, '$1:$2').replace(/(T[\d:.]+[+-]\d{2})$/, '$1:00');
  const date = z.iso.date().safeParse(text).success;
  if (!date && !extendedDateTime.safeParse(text).success) {
    ctx.addIssue({ code: 'custom', message: 'expected an ISO 8601 date or date-time, such as 2026-11-29 or 2026-11-29T08:00:00Z' });
    return z.NEVER;
  }
  return Date.parse(date || /(Z|[+-]\d{2}:\d{2})$/.test(text) ? text : `${text}Z`);
});

export const DenialsQuery = z.object({
  since: isoInstant.optional(),
  /** Exclusive: denials before this time. */
  until: isoInstant.optional(),
  limit: queryInt({ min: 1, max: 10_000 }).optional(),
  format,
});

export const HistoryQuery = z.object({
  bucket: z.enum(['hour', 'day']).default('hour'),
  since: isoInstant.optional(),
  /** Exclusive: the buckets that start before this time. */
  until: isoInstant.optional(),
  /** The zone whose midnights (and full hours) start the buckets; an unknown one is a 422 (api-router). */
  tz: z.string().min(1).max(64).default('UTC'),
  format,
});

/** POST /licenses/:id/secret: how long the old secret still verifies tokens (0: not at all; at most 30 days). */
export const SECRET_GRACE = { default: 86_400, max: 2_592_000 } as const;
export const RotateSecretBody = z.strictObject({ graceSec: z.number().int().min(0).max(SECRET_GRACE.max).optional() });

/** POST /tenants/:id/admin-token takes no settings: no body, or `{}`. */
export const RotateTokenBody = z.strictObject({});

/** GET /audit: filters and a page (`before`: an entry id; the reply's `nextBefore` asks for the next page). */
export const AuditQuery = z.object({
  licenseId: z.string().min(1).max(200).optional(),
  action: z.string().min(1).max(100).optional(),
  before: queryInt({ min: 1 }).optional(),
  limit: queryInt({ min: 1, max: 1000 }).default(500),
});
