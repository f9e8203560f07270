// The checker's own reading of the database: raw SQL over its own connection, written apart
// from the server's store (nothing here imports server/ or shared/), so a bug in the store's
// reading of its tables cannot hide a bug in its writing of them.
import Database from 'better-sqlite3';
import pg from 'pg';

export interface LicenseRow {
  id: string;
  seats: number;
  seatsInUse: number;
  status: string;
  /** Seats may be held up to floor(seats × overage). */
  overage: number;
  queue: boolean;
  /** Parsed from the JSON column; `window` only when the reservation has one. */
  reservations: Array<{ group: string; seats: number; window?: unknown }>;
  groupLimits: Array<{ group: string; max: number }>;
  inactivityTimeoutSec: number | null;
  inactivityWarningSec: number;
}

export interface SessionRow {
  id: string;
  licenseId: string;
  weight: number;
  state: string;
  expiresAt: number | null;
  group: string | null;
  startedAt: number;
  lastActivityAt: number | null;
  /** When an inactivity warning went out, while it is pending. */
  warnedAt: number | null;
}

export interface ConnectionRow {
  socketId: string;
  sessionId: string;
  nodeId: string;
  /** An HTTP lease's deadline; null for a socket. */
  renewBy: number | null;
}

export interface QueueRow {
  socketId: string;
  licenseId: string;
  leftAt: number | null;
}

/** One consistent view of the seat tables, read in a single transaction. */
export interface Snapshot {
  /** When the read began (wall clock, milliseconds). */
  at: number;
  licenses: LicenseRow[];
  sessions: SessionRow[];
  connections: ConnectionRow[];
  queue: QueueRow[];
  /** The ids of the nodes with a heartbeat row: a node taken for dead has none until it beats again. */
  nodes: string[];
}

export interface Released {
  id: number;
  licenseId: string;
  sessionId: string;
  reason: string;
  at: number;
}

/** A seat history row of the types the soak's webhooks hear. */
export interface SeatEventRow {
  id: number;
  type: string;
  licenseId: string;
  sessionId: string | null;
  reason: string | null;
  at: number;
}

/** A `license.update` audit entry: what a webhook hears as `license.changed`. */
export interface LicenseChangeRow {
  id: number;
  licenseId: string;
  at: number;
}

export interface Truth {
  snapshot(): Promise<Snapshot>;
  /** Released-seat events recorded at or after `since`. */
  releasedSince(since: number): Promise<Released[]>;
  /** Denial rows recorded up to `until`, counted by `denialKey`. */
  denialCounts(until: number): Promise<Map<string, number>>;
  /** The seat history of one session (granted, resumed, idle, released), oldest first: for traces. */
  sessionEvents(sessionId: string): Promise<Array<{ type: string; reason: string | null; at: number; seatsInUse: number }>>;
  /** Seat history rows with an id above `afterId` of the types a webhook hears as session and denial events, by id. */
  seatEvents(afterId: number): Promise<SeatEventRow[]>;
  /** How many seat history ids above `afterId`, up to the highest, have no row (taken by a transaction that rolled back). */
  historyHoles(afterId: number): Promise<number>;
  /** `license.update` audit entries with an id above `afterId`, by id. */
  licenseChanges(afterId: number): Promise<LicenseChangeRow[]>;
  close(): Promise<void>;
}

/** What a denial is matched on: license, reason and the claimant's identifying claims. */
export function denialKey(d: { licenseId: string; reason: string; sessionRef?: string | null; userId?: string | null; deviceId?: string | null; instanceId?: string | null }): string {
  return [d.licenseId, d.reason, d.sessionRef ?? '', d.userId ?? '', d.deviceId ?? '', d.instanceId ?? ''].join('|');
}

const SQL = {
  licenses: 'select id, seats, seats_in_use, status, overage, queue, reservations, group_limits, inactivity_timeout_sec, inactivity_warning_sec from licenses',
  sessions: 'select id, license_id, weight, state, expires_at, grp, started_at, last_activity_at, warned_at from sessions',
  connections: 'select socket_id, session_id, node_id, renew_by from connections',
  queue: 'select socket_id, license_id, left_at from queue_entries',
  nodes: 'select id from nodes',
  released: "select id, license_id, session_id, reason, at from seat_events where type = 'released' and at >= $1",
  sessionEvents: 'select type, reason, at, seats_in_use from seat_events where session_id = $1 order by id',
  seatEvents:
    "select id, type, license_id, session_id, reason, at from seat_events where id > $1 and type in ('granted', 'resumed', 'idle', 'released', 'denied') order by id",
  historyHoles: 'select coalesce(max(id), $1) - $1 - count(*) as holes from seat_events where id > $1',
  licenseChanges:
    "select id, license_id, at from audit_log where id > $1 and action = 'license.update' and license_id is not null and tenant_id is not null order by id",
  denials:
    'select license_id, reason, session_ref, user_id, device_id, instance_id, count(*) as n from denials where at <= $1 group by license_id, reason, session_ref, user_id, device_id, instance_id',
};

type Row = Record<string, unknown>;
const num = (v: unknown) => Number(v);
const numOrNull = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : (v ?? []));
const toLicense = (r: Row): LicenseRow => ({
  id: String(r.id),
  seats: num(r.seats),
  seatsInUse: num(r.seats_in_use),
  status: String(r.status),
  overage: num(r.overage),
  queue: Boolean(num(r.queue)),
  reservations: json(r.reservations),
  groupLimits: json(r.group_limits),
  inactivityTimeoutSec: numOrNull(r.inactivity_timeout_sec),
  inactivityWarningSec: num(r.inactivity_warning_sec),
});
const toSession = (r: Row): SessionRow => ({
  id: String(r.id),
  licenseId: String(r.license_id),
  weight: num(r.weight),
  state: String(r.state),
  expiresAt: r.expires_at === null ? null : num(r.expires_at),
  group: r.grp === null ? null : String(r.grp),
  startedAt: num(r.started_at),
  lastActivityAt: numOrNull(r.last_activity_at),
  warnedAt: numOrNull(r.warned_at),
});
const toConnection = (r: Row): ConnectionRow => ({ socketId: String(r.socket_id), sessionId: String(r.session_id), nodeId: String(r.node_id), renewBy: numOrNull(r.renew_by) });
const toQueue = (r: Row): QueueRow => ({ socketId: String(r.socket_id), licenseId: String(r.license_id), leftAt: numOrNull(r.left_at) });
const toEvent = (r: Row) => ({ type: String(r.type), reason: r.reason === null ? null : String(r.reason), at: num(r.at), seatsInUse: num(r.seats_in_use) });
const toSeatEvent = (r: Row): SeatEventRow => ({
  id: num(r.id),
  type: String(r.type),
  licenseId: String(r.license_id),
  sessionId: r.session_id === null ? null : String(r.session_id),
  reason: r.reason === null ? null : String(r.reason),
  at: num(r.at),
});
const toChange = (r: Row): LicenseChangeRow => ({ id: num(r.id), licenseId: String(r.license_id), at: num(r.at) });
const toReleased = (r: Row): Released => ({ id: num(r.id), licenseId: String(r.license_id), sessionId: String(r.session_id), reason: String(r.reason), at: num(r.at) });
function countDenials(rows: Row[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of rows) {
    const key = denialKey({
      licenseId: String(r.license_id),
      reason: String(r.reason),
      sessionRef: r.session_ref as string | null,
      userId: r.user_id as string | null,
      deviceId: r.device_id as string | null,
      instanceId: r.instance_id as string | null,
    });
    counts.set(key, (counts.get(key) ?? 0) + num(r.n));
  }
  return counts;
}

/** PostgreSQL: each snapshot is one REPEATABLE READ transaction. Reconnects after an outage. */
export function postgresTruth(url: string): Truth {
  let client: pg.Client | undefined;
  const connected = async () => {
    if (client) return client;
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000, query_timeout: 5000 });
    c.on('error', () => {
      if (client === c) client = undefined;
    });
    try {
      await c.connect();
    } catch (err) {
      await c.end().catch(() => {});
      throw err;
    }
    client = c;
    return c;
  };
  // One call at a time on the client: calls that overlapped were queued by pg itself, which pg 8
  // deprecates (and a snapshot's transaction would take in another call's query).
  let last: Promise<unknown> = Promise.resolve();
  const run = <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const next = last.then(() => runNow(fn));
    last = next.catch(() => {});
    return next;
  };
  const runNow = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = await connected();
    try {
      return await fn(c);
    } catch (err) {
      // A broken connection is dropped so the next call reconnects.
      if (client === c) client = undefined;
      await c.end().catch(() => {});
      throw err;
    }
  };
  return {
    snapshot: () =>
      run(async (c) => {
        const at = Date.now();
        await c.query('begin isolation level repeatable read read only');
        try {
          const licenses = (await c.query(SQL.licenses)).rows.map(toLicense);
          const sessions = (await c.query(SQL.sessions)).rows.map(toSession);
          const connections = (await c.query(SQL.connections)).rows.map(toConnection);
          const queue = (await c.query(SQL.queue)).rows.map(toQueue);
          const nodes = (await c.query(SQL.nodes)).rows.map((r: Row) => String(r.id));
          return { at, licenses, sessions, connections, queue, nodes };
        } finally {
          await c.query('rollback').catch(() => {});
        }
      }),
    releasedSince: (since) => run(async (c) => (await c.query(SQL.released, [since])).rows.map(toReleased)),
    denialCounts: (until) => run(async (c) => countDenials((await c.query(SQL.denials, [until])).rows)),
    sessionEvents: (id) => run(async (c) => (await c.query(SQL.sessionEvents, [id])).rows.map(toEvent)),
    seatEvents: (afterId) => run(async (c) => (await c.query(SQL.seatEvents, [afterId])).rows.map(toSeatEvent)),
    licenseChanges: (afterId) => run(async (c) => (await c.query(SQL.licenseChanges, [afterId])).rows.map(toChange)),
    historyHoles: (afterId) => run(async (c) => num((await c.query(SQL.historyHoles, [afterId])).rows[0].holes)),
    close: async () => {
      await client?.end().catch(() => {});
      client = undefined;
    },
  };
}

/** SQLite: a read-only connection of its own; WAL lets it read while the server writes. */
export function sqliteTruth(file: string): Truth {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  const q = (sql: string) => db.prepare(sql.replace('$1', '?'));
  const licenses = q(SQL.licenses);
  const sessions = q(SQL.sessions);
  const connections = q(SQL.connections);
  const queue = q(SQL.queue);
  const nodes = q(SQL.nodes);
  const released = q(SQL.released);
  const denials = q(SQL.denials);
  const sessionEvents = q(SQL.sessionEvents);
  const seatEvents = q(SQL.seatEvents);
  const licenseChanges = q(SQL.licenseChanges);
  const historyHoles = db.prepare(SQL.historyHoles.replaceAll('$1', '?'));
  // A read transaction: the reads see one version of the database.
  const snap = db.transaction(() => ({
    licenses: (licenses.all() as Row[]).map(toLicense),
    sessions: (sessions.all() as Row[]).map(toSession),
    connections: (connections.all() as Row[]).map(toConnection),
    queue: (queue.all() as Row[]).map(toQueue),
    nodes: (nodes.all() as Row[]).map((r) => String(r.id)),
  }));
  return {
    snapshot: async () => ({ at: Date.now(), ...snap() }),
    releasedSince: async (since) => (released.all(since) as Row[]).map(toReleased),
    denialCounts: async (until) => countDenials(denials.all(until) as Row[]),
    sessionEvents: async (id) => (sessionEvents.all(id) as Row[]).map(toEvent),
    seatEvents: async (afterId) => (seatEvents.all(afterId) as Row[]).map(toSeatEvent),
    licenseChanges: async (afterId) => (licenseChanges.all(afterId) as Row[]).map(toChange),
    historyHoles: async (afterId) => num((historyHoles.get(afterId, afterId, afterId) as Row).holes),
    close: async () => {
      db.close();
    },
  };
}
