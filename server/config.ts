// The server's configuration, parsed once from the environment into a frozen, typed object.
import { randomUUID } from 'node:crypto';
import proxyaddr from 'proxy-addr';
import { z } from 'zod';
import { MAX_ADMIN_TOKEN_LENGTH } from './seats/actor';

/**
 * A whole number written in decimal digits: `0x10`, `0b11`, `1e3` and `12.0`, which a plain number
 * coercion reads, are refused as the REST API's integers are.
 */
const digits = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'expected a whole number in decimal digits')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
const int = (def: number, min = 0) => digits(min).default(def);

/** The longest DENIAL_RETENTION_DAYS. */
export const MAX_RETENTION_DAYS = 3650;

/** The shortest ADMIN_TOKEN that starts without a warning. */
export const ADMIN_TOKEN_ADVISED_LENGTH = 16;

/** The warning a short ADMIN_TOKEN gets at start, or undefined. */
export function adminTokenWarning(c: Pick<SeatServerConfig, 'adminToken'>): string | undefined {
  const token = c.adminToken;
  if (token === undefined || token.length >= ADMIN_TOKEN_ADVISED_LENGTH) return undefined;
  return `ADMIN_TOKEN is ${token.length} characters long: anyone who guesses it is the operator; choose at least ${ADMIN_TOKEN_ADVISED_LENGTH} random characters`;
}

const EnvSchema = z.object({
  PORT: digits(0, 65_535).default(3000),
  HOST: z.string().optional(),
  TRUST_PROXY: z.string().optional(),
  METRICS_TOKEN: z.string().min(16, 'METRICS_TOKEN must be at least 16 characters').optional(),
  // Leeway for the clocks of the portals that sign client tokens, applied to their `iat` and `nbf`.
  TOKEN_CLOCK_SKEW_SEC: int(60),
  DATABASE_URL: z.string().min(1).default('./data/seats.db'),
  REDIS_URL: z.string().min(1).optional(),
  // Any length is taken (a shorter one than ADMIN_TOKEN_ADVISED_LENGTH is warned of at start, see
  // adminTokenWarning): a deployment that chose a short one still starts.
  ADMIN_TOKEN: z.string().max(MAX_ADMIN_TOKEN_LENGTH, `ADMIN_TOKEN must be at most ${MAX_ADMIN_TOKEN_LENGTH} characters`).optional(),
  IDLE_TIMEOUT_MIN_SEC: int(300),
  IDLE_TIMEOUT_MAX_SEC: int(3600),
  INACTIVITY_TIMEOUT_MIN_SEC: int(300),
  INACTIVITY_TIMEOUT_MAX_SEC: int(3600),
  ACTIVITY_FLUSH_MS: int(1000, 10),
  KICK_COOLDOWN_SEC: int(60),
  SEAT_REQUESTS_PER_HOUR: int(5, 1),
  // At most ten years: the history's hour buckets span the retention window (87,600 at ten years).
  DENIAL_RETENTION_DAYS: digits(1, MAX_RETENTION_DAYS).default(60),
  SWEEP_INTERVAL_MS: int(1000, 10),
  HEARTBEAT_INTERVAL_MS: int(2000, 10),
  NODE_TIMEOUT_MS: int(10_000, 20),
  NODE_ID: z.string().min(1).max(200).optional(),
  CONNECT_RATE_PER_SEC: int(200),
  CONNECT_BURST: int(1000, 1),
  MAX_PAYLOAD_BYTES: int(16_384, 1024),
  PG_POOL_SIZE: int(10, 1),
  PING_INTERVAL_MS: int(25_000, 100),
  PING_TIMEOUT_MS: int(20_000, 100),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DEMO: z.enum(['on', 'off', 'true', 'false', '1', '0']).optional(),
  WEBHOOK_ALLOW_PRIVATE: z.enum(['on', 'off', 'true', 'false', '1', '0']).default('off'),
  WEBHOOK_TIMEOUT_MS: int(10_000, 100),
  WEBHOOK_RETRY_BASE_MS: int(1000, 10),
  WEBHOOK_RETRY_MAX_MS: int(3_600_000, 10),
  WEBHOOK_GIVE_UP_SEC: int(86_400, 1),
  WEBHOOK_POLL_MS: int(500, 10),
  WEBHOOK_CLAIM_MS: int(30_000, 500),
  WEBHOOK_GAP_WAIT_MS: int(10_000, 0),
});

export interface SeatServerConfig {
  /** HTTP and socket port (PORT, 3000); 0 picks a free one. */
  readonly port: number;
  /** The address to listen on (HOST; unset: all interfaces). */
  readonly host: string | undefined;
  /**
   * Express's `trust proxy` (TRUST_PROXY; unset: false): `true`, a hop count, or addresses, CIDRs
   * and `loopback`/`linklocal`/`uniquelocal`. The client address of per-address limits (and
   * `req.ip`) is then read from X-Forwarded-For through the trusted proxies; untrusted, the header
   * is ignored.
   */
  readonly trustProxy: TrustProxy;
  /**
   * Bearer token for GET /metrics (METRICS_TOKEN). Unset: /metrics answers only requests from a
   * loopback address that came through no proxy, or carrying the operator's token.
   */
  readonly metricsToken: string | undefined;
  /** Leeway for a client token's `iat` and `nbf` against this server's clock (TOKEN_CLOCK_SKEW_SEC, 60). */
  readonly tokenClockSkewSec: number;
  /** SQLite file or `:memory:`, or a `postgres://` URL (DATABASE_URL, ./data/seats.db). */
  readonly databaseUrl: string;
  /** Redis for the socket.io adapter across nodes (REDIS_URL, unset: one node). */
  readonly redisUrl: string | undefined;
  /** The operator's token (ADMIN_TOKEN; generated, stored hashed and printed on first start). */
  readonly adminToken: string | undefined;
  /** Bounds of a license's idleTimeoutSec (IDLE_TIMEOUT_MIN_SEC 300, IDLE_TIMEOUT_MAX_SEC 3600). */
  readonly idleTimeoutMinSec: number;
  readonly idleTimeoutMaxSec: number;
  /** A new license's idle timeout: 300 s, the AIMMS WebUI policy, held within the bounds. */
  readonly defaultIdleTimeoutSec: number;
  /** Bounds of a license's inactivityTimeoutSec (INACTIVITY_TIMEOUT_MIN_SEC 300, INACTIVITY_TIMEOUT_MAX_SEC 3600). */
  readonly inactivityTimeoutMinSec: number;
  readonly inactivityTimeoutMaxSec: number;
  /**
   * How often a node writes the `session:activity` it heard to the store, one statement for every
   * session (ACTIVITY_FLUSH_MS, 1000). An inactivity release waits this long past its deadline,
   * so activity any node heard in time is on record first.
   */
  readonly activityFlushMs: number;
  /** Seat requests one user may make per license an hour (SEAT_REQUESTS_PER_HOUR, 5). */
  readonly seatRequestsPerHour: number;
  /** How long a kicked seat key is refused (KICK_COOLDOWN_SEC, 60). */
  readonly kickCooldownSec: number;
  /** Rolling retention of denials and seat history (DENIAL_RETENTION_DAYS, 60: the internal spec). */
  readonly denialRetentionDays: number;
  /** Backstop sweep of expired idle seats; timers do the precise work (SWEEP_INTERVAL_MS, 1000). */
  readonly sweepIntervalMs: number;
  /** How often a node writes its heartbeat and looks for dead nodes (HEARTBEAT_INTERVAL_MS, 2000). */
  readonly heartbeatIntervalMs: number;
  /** A node silent this long is dead and its sockets are let go (NODE_TIMEOUT_MS, 10000). */
  readonly nodeTimeoutMs: number;
  /** This node's id (NODE_ID; random per process when unset). */
  readonly nodeId: string;
  /** Whether a stable NODE_ID was given, so rows of this node's past life can be cleared on start. */
  readonly stableNodeId: boolean;
  /** Socket connects per second per client address (CONNECT_RATE_PER_SEC 200, 0 = no limit). */
  readonly connectRatePerSec: number;
  /** Burst of connects allowed per address before the rate applies (CONNECT_BURST 1000). */
  readonly connectBurst: number;
  /** Largest socket message or REST body accepted (MAX_PAYLOAD_BYTES, 16384). */
  readonly maxPayloadBytes: number;
  /** PostgreSQL connections per node (PG_POOL_SIZE, 10). */
  readonly pgPoolSize: number;
  /**
   * socket.io heartbeat (PING_INTERVAL_MS 25000, PING_TIMEOUT_MS 20000): a client whose network
   * drops without a close is let go after about their sum, and its seat then idles as usual.
   */
  readonly pingIntervalMs: number;
  readonly pingTimeoutMs: number;
  /** pino level (LOG_LEVEL, info). */
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Demo tenant, license and /demo page on an empty database (DEMO, on; `off` in production). */
  readonly demo: boolean;
  /** Webhook delivery (docs/contract.md "Webhooks"). */
  readonly webhooks: WebhookConfig;
}

export interface WebhookConfig {
  /** Accept URLs that resolve to loopback, private or link-local addresses (WEBHOOK_ALLOW_PRIVATE, off). */
  readonly allowPrivate: boolean;
  /** An attempt with no answer within this long failed (WEBHOOK_TIMEOUT_MS, 10000). */
  readonly timeoutMs: number;
  /** The first retry's delay, doubling after each failure (WEBHOOK_RETRY_BASE_MS, 1000) … */
  readonly retryBaseMs: number;
  /** … up to this (WEBHOOK_RETRY_MAX_MS, 3600000: hourly). */
  readonly retryMaxMs: number;
  /** A delivery still failing this long after its first attempt is `failed` (WEBHOOK_GIVE_UP_SEC, 86400). */
  readonly giveUpSec: number;
  /** How often a node looks for new events when idle (WEBHOOK_POLL_MS, 500). */
  readonly pollMs: number;
  /** A node's claim on a webhook lasts this long, renewed at a third of it; another node takes it over once lapsed (WEBHOOK_CLAIM_MS, 30000). */
  readonly claimMs: number;
  /** How long a hole in the outbox ids (a transaction not yet committed) is waited for (WEBHOOK_GAP_WAIT_MS, 10000). */
  readonly gapWaitMs: number;
}

/** What express's `trust proxy` setting takes (see `parseTrustProxy`). */
export type TrustProxy = boolean | number | string[];

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * TRUST_PROXY as express reads `trust proxy`: `true`/`false`, a hop count, or a comma-separated
 * list of addresses, CIDRs and the names `loopback`, `linklocal`, `uniquelocal` (checked here, so a
 * typo stops the start instead of trusting nobody).
 */
export function parseTrustProxy(value: string | undefined): TrustProxy {
  const v = value?.trim() ?? '';
  if (v === '' || v === 'false') return false;
  if (v === 'true') return true;
  if (/^\d+$/.test(v)) return Number(v);
  const list = v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  try {
    proxyaddr.compile(list);
  } catch (err) {
    throw new ConfigError(`TRUST_PROXY: ${(err as Error).message} (expected true, false, a hop count, or addresses and CIDRs)`);
  }
  return list;
}

/** A URL's password, hidden for messages and logs. */
export const redactUrl = (url: string) => url.replace(/\/\/[^@/]*@/, '//***@');

/**
 * DATABASE_URL: a SQLite file path (`sqlite:` before it is allowed), `:memory:`, or a `postgres://`
 * (`postgresql://`) URL, its scheme in any case. Any other scheme is refused: read as a file path
 * it would start a node on a SQLite file of its own (a cluster node on a typo would count seats
 * alone) named after the URL, password and all.
 */
export function parseDatabaseUrl(value: string): string {
  const url = value.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (url === ':memory:' || scheme === undefined || scheme === 'sqlite') return url;
  if ((scheme === 'postgres' || scheme === 'postgresql') && url.slice(scheme.length + 1).startsWith('//')) return `${scheme}${url.slice(scheme.length)}`;
  throw new ConfigError(
    `DATABASE_URL: ${JSON.stringify(redactUrl(url).slice(0, 200))} is neither a SQLite file path (or :memory:) nor a postgres:// URL` +
      (scheme === 'file' ? '; for a SQLite file give its path without file:' : ''),
  );
}

/** REDIS_URL: a `redis://` or `rediss://` URL that parses (a port in range, a host). */
export function parseRedisUrl(value: string): string {
  const url = value.trim();
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    // Reported below.
  }
  if (!parsed || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') || parsed.hostname === '') {
    throw new ConfigError(`REDIS_URL: ${JSON.stringify(redactUrl(url).slice(0, 200))} is not a redis:// (or rediss://) URL with a host and a port from 1 to 65535`);
  }
  return url;
}

export function parseConfig(
  env: Record<string, string | undefined> = process.env,
  overrides: Partial<SeatServerConfig> = {},
): SeatServerConfig {
  // An empty variable (`PORT=` in a compose file) is unset: its default applies.
  const given = Object.fromEntries(Object.entries(env).filter(([name, v]) => !(name in EnvSchema.shape) || (v !== undefined && v.trim() !== '')));
  const parsed = EnvSchema.safeParse(given);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  const min = overrides.idleTimeoutMinSec ?? e.IDLE_TIMEOUT_MIN_SEC;
  const max = overrides.idleTimeoutMaxSec ?? e.IDLE_TIMEOUT_MAX_SEC;
  if (min > max) throw new ConfigError(`IDLE_TIMEOUT_MIN_SEC (${min}) is above IDLE_TIMEOUT_MAX_SEC (${max})`);
  const inactivityMin = overrides.inactivityTimeoutMinSec ?? e.INACTIVITY_TIMEOUT_MIN_SEC;
  const inactivityMax = overrides.inactivityTimeoutMaxSec ?? e.INACTIVITY_TIMEOUT_MAX_SEC;
  if (inactivityMin > inactivityMax) {
    throw new ConfigError(`INACTIVITY_TIMEOUT_MIN_SEC (${inactivityMin}) is above INACTIVITY_TIMEOUT_MAX_SEC (${inactivityMax})`);
  }
  if (e.WEBHOOK_CLAIM_MS < 2 * e.WEBHOOK_TIMEOUT_MS) {
    // An attempt must end well inside the claim, or a node could still be sending when another takes over.
    throw new ConfigError(`WEBHOOK_CLAIM_MS (${e.WEBHOOK_CLAIM_MS}) must be at least twice WEBHOOK_TIMEOUT_MS (${e.WEBHOOK_TIMEOUT_MS})`);
  }
  const config: SeatServerConfig = {
    port: e.PORT,
    host: e.HOST?.trim() || undefined,
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    metricsToken: e.METRICS_TOKEN,
    tokenClockSkewSec: e.TOKEN_CLOCK_SKEW_SEC,
    databaseUrl: parseDatabaseUrl(e.DATABASE_URL),
    redisUrl: e.REDIS_URL === undefined ? undefined : parseRedisUrl(e.REDIS_URL),
    adminToken: e.ADMIN_TOKEN,
    idleTimeoutMinSec: min,
    idleTimeoutMaxSec: max,
    defaultIdleTimeoutSec: Math.min(max, Math.max(min, 300)),
    inactivityTimeoutMinSec: inactivityMin,
    inactivityTimeoutMaxSec: inactivityMax,
    activityFlushMs: e.ACTIVITY_FLUSH_MS,
    kickCooldownSec: e.KICK_COOLDOWN_SEC,
    seatRequestsPerHour: e.SEAT_REQUESTS_PER_HOUR,
    denialRetentionDays: e.DENIAL_RETENTION_DAYS,
    sweepIntervalMs: e.SWEEP_INTERVAL_MS,
    heartbeatIntervalMs: e.HEARTBEAT_INTERVAL_MS,
    nodeTimeoutMs: e.NODE_TIMEOUT_MS,
    nodeId: e.NODE_ID ?? randomUUID(),
    stableNodeId: e.NODE_ID !== undefined,
    connectRatePerSec: e.CONNECT_RATE_PER_SEC,
    connectBurst: e.CONNECT_BURST,
    maxPayloadBytes: e.MAX_PAYLOAD_BYTES,
    pgPoolSize: e.PG_POOL_SIZE,
    pingIntervalMs: e.PING_INTERVAL_MS,
    pingTimeoutMs: e.PING_TIMEOUT_MS,
    logLevel: e.LOG_LEVEL,
    demo: e.DEMO === undefined ? true : ['on', 'true', '1'].includes(e.DEMO),
    webhooks: {
      allowPrivate: ['on', 'true', '1'].includes(e.WEBHOOK_ALLOW_PRIVATE),
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      retryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
      retryMaxMs: e.WEBHOOK_RETRY_MAX_MS,
      giveUpSec: e.WEBHOOK_GIVE_UP_SEC,
      pollMs: e.WEBHOOK_POLL_MS,
      claimMs: e.WEBHOOK_CLAIM_MS,
      gapWaitMs: e.WEBHOOK_GAP_WAIT_MS,
    },
    ...overrides,
  };
  checkPairs(config);
  return Object.freeze(config);
}

/** Settings that must agree with each other, as finally set (environment and overrides). */
function checkPairs(c: SeatServerConfig): void {
  // Silent for less than two beats is no sign of death: a busy loop or one lost write would do it.
  if (c.nodeTimeoutMs < 2 * c.heartbeatIntervalMs) {
    throw new ConfigError(`NODE_TIMEOUT_MS (${c.nodeTimeoutMs}) must be at least twice HEARTBEAT_INTERVAL_MS (${c.heartbeatIntervalMs}), or live nodes would be taken for dead`);
  }
  if (c.webhooks.retryBaseMs > c.webhooks.retryMaxMs) {
    throw new ConfigError(`WEBHOOK_RETRY_BASE_MS (${c.webhooks.retryBaseMs}) is above WEBHOOK_RETRY_MAX_MS (${c.webhooks.retryMaxMs})`);
  }
}
