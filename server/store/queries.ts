// The statements of the hot paths (admit, resume, detach, release), prepared once per store: see
// prepared.ts. Everything else in the store builds its queries per call.
import { type ExpressionBuilder, type Insertable, type Kysely, sql, type Transaction } from 'kysely';
import { SessionState } from '../../shared';
import { prepare } from './prepared';
import type { ConnectionsTable, Database, QueueEntriesTable, SeatEventsTable, SessionsTable } from './schema';

/** Every column of an insert as a placeholder of the same name (a Proxy has no keys to spread). */
function row<T extends object>(p: T, columns: ReadonlyArray<keyof T>): T {
  return Object.fromEntries(columns.map((c) => [c, p[c]])) as T;
}

const SESSION_COLUMNS = [
  'id', 'license_id', 'seat_key_value', 'session_ref', 'user_id', 'device_id', 'instance_id',
  'app', 'name', 'weight', 'state', 'started_at', 'idle_since', 'expires_at', 'last_activity_at', 'warned_at', 'receipt_until', 'grp',
] as const satisfies ReadonlyArray<keyof SessionsTable>;
const CONNECTION_COLUMNS = ['socket_id', 'session_id', 'license_id', 'node_id', 'app', 'connected_at', 'renew_by'] as const satisfies ReadonlyArray<
  keyof ConnectionsTable
>;
const EVENT_COLUMNS = ['license_id', 'session_id', 'type', 'reason', 'weight', 'seats_in_use', 'at'] as const satisfies ReadonlyArray<
  keyof SeatEventsTable
>;
const QUEUE_ENTRY_COLUMNS = ['license_id', 'socket_id', 'node_id', 'seat_key_value', 'claimant', 'enqueued_at'] as const satisfies ReadonlyArray<
  keyof QueueEntriesTable
>;

/** The id of the waiting entry's seat key's session, if one exists (looked up by `sessions_seat_key`). */
function ownSession(eb: ExpressionBuilder<Database & { e: Database['queue_entries'] }, 'e'>) {
  return eb.selectFrom('sessions as s').select('s.id').whereRef('s.license_id', '=', 'e.license_id').whereRef('s.seat_key_value', '=', 'e.seat_key_value');
}

/**
 * The license's waiting entries after `afterId`, in order, each with its seat key's session id
 * (`own_id`). The session is a scalar subquery per entry, not a join: PostgreSQL planned the join,
 * on tables not analyzed yet, as a scan of all the license's sessions for each entry.
 */
function waitingAfter(db: Kysely<Database>, p: { licenseId: string; afterId: number }) {
  return db
    .selectFrom('queue_entries as e')
    .select((eb) => ['e.id', 'e.socket_id', 'e.node_id', 'e.seat_key_value', 'e.claimant', 'e.enqueued_at', ownSession(eb).as('own_id')])
    .where('e.license_id', '=', p.licenseId)
    .where('e.left_at', 'is', null)
    .where('e.id', '>', p.afterId)
    .orderBy('e.id');
}

/**
 * Sessions among `ids` still active with no connection left go idle until `expiresAt`, or until
 * their newest signed receipt expires when that is later (offline grace: a client working
 * offline on its receipt keeps its seat, so nobody else can take it meanwhile); returns them.
 * Prepared for one session (a socket closing); built per call for a restart's thousands.
 */
export function idleSessions(db: Kysely<Database> | Transaction<Database>, ids: string[], now: number, expiresAt: number) {
  return db
    .updateTable('sessions')
    .set((eb) => ({
      state: SessionState.Idle,
      idle_since: now,
      // A null receipt_until compares as unknown: the idle deadline.
      expires_at: eb.case().when('receipt_until', '>', expiresAt).then(eb.ref('receipt_until')).else(expiresAt).end(),
    }))
    .where('id', 'in', ids)
    // The state as an expression, not the column: with more than one id SQLite otherwise reads
    // `state = 'active'` through sessions_expiry (its planner, without statistics, takes an
    // equality on an index's first column for about ten rows) and walks every active session of
    // the store instead of looking the ids up. A mass close of 10,000 sockets idled its seats in
    // groups of a few, each group walking thousands of sessions (test/store/idle-plan.test.ts).
    .where(sql<string>`coalesce(state, '')`, '=', SessionState.Active)
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('connections').select('socket_id').whereRef('connections.session_id', '=', 'sessions.id'))),
    )
    .returningAll();
}

export function hotQueries(db: Kysely<Database>) {
  return {
    license: prepare((p: { id: string }) => db.selectFrom('licenses').selectAll().where('id', '=', p.id)),
    /** What an admission decides on: the seat key's session on the license, live or idle (at most one: `sessions_seat_key`). */
    seatKeySessions: prepare((p: { licenseId: string; seatKeyValue: string }) =>
      db.selectFrom('sessions').selectAll().where('license_id', '=', p.licenseId).where('seat_key_value', '=', p.seatKeyValue),
    ),
    /**
     * The license's other idle sessions past their deadline, which no timer released yet (found
     * through sessions_expiry; usually none): read by an admission only when they matter.
     */
    dueSessions: prepare((p: { licenseId: string; seatKeyValue: string; now: number }) =>
      db
        .selectFrom('sessions')
        .selectAll()
        .where('license_id', '=', p.licenseId)
        .where('state', '=', SessionState.Idle)
        .where('expires_at', '<=', p.now)
        .where('seat_key_value', '!=', p.seatKeyValue),
    ),
    sessionById: prepare((p: { id: string }) => db.selectFrom('sessions').selectAll().where('id', '=', p.id)),
    /** Seats held per group of the license's live sessions (through the partial index on `grp`). */
    heldByGroup: prepare((p: { licenseId: string }) =>
      db
        .selectFrom('sessions')
        .select((eb) => ['grp', eb.fn.sum<number | string>('weight').as('held')])
        .where('license_id', '=', p.licenseId)
        .where('grp', 'is not', null)
        .groupBy('grp'),
    ),
    licenseOfSession: prepare((p: { id: string }) => db.selectFrom('sessions').select('license_id').where('id', '=', p.id)),
    /**
     * A connection joins the session: it is active, a connect is activity (any pending inactivity
     * warning is over; an admission decided late, as after a database outage, moves no newer
     * activity back), and the newest receipt's expiry moves to `receiptUntil` when that is later.
     */
    resumeSession: prepare((p: { id: string; now: number; receiptUntil: number | null }) =>
      db
        .updateTable('sessions')
        .set((eb) => {
          /** The column, or `value` where that is later (or the column is empty). */
          const later = (column: 'last_activity_at' | 'receipt_until', value: number | null) =>
            eb.case().when(eb.or([eb(column, 'is', null), eb(column, '<', value)])).then(value).else(eb.ref(column)).end();
          return {
            state: SessionState.Active,
            idle_since: null,
            expires_at: null,
            last_activity_at: later('last_activity_at', p.now),
            warned_at: null,
            receipt_until: later('receipt_until', p.receiptUntil),
          };
        })
        .where('id', '=', p.id)
        .returning(['warned_at', 'receipt_until', 'last_activity_at']),
    ),
    insertSession: prepare((p: Insertable<SessionsTable>) => db.insertInto('sessions').values(row(p, SESSION_COLUMNS))),
    deleteSession: prepare((p: { id: string }) => db.deleteFrom('sessions').where('id', '=', p.id)),
    cooldownUntil: prepare((p: { licenseId: string; seatKeyValue: string; now: number }) =>
      db
        .selectFrom('kick_cooldowns')
        .select('until')
        .where('license_id', '=', p.licenseId)
        .where('seat_key_value', '=', p.seatKeyValue)
        .where('until', '>', p.now),
    ),
    seatsInUse: prepare((p: { licenseId: string }) => db.selectFrom('licenses').select('seats_in_use').where('id', '=', p.licenseId)),
    /** The one writer of the license's seat counter; returns the count it leaves. */
    addSeats: prepare((p: { licenseId: string; delta: number }) =>
      db
        .updateTable('licenses')
        .set((eb) => ({ seats_in_use: eb('seats_in_use', '+', p.delta) }))
        .where('id', '=', p.licenseId)
        .returning('seats_in_use'),
    ),
    insertConnection: prepare((p: Insertable<ConnectionsTable>) => db.insertInto('connections').values(row(p, CONNECTION_COLUMNS))),
    licenseOfSocket: prepare((p: { socketId: string }) => db.selectFrom('connections').select('license_id').where('socket_id', '=', p.socketId)),
    deleteSocket: prepare((p: { socketId: string }) =>
      db.deleteFrom('connections').where('socket_id', '=', p.socketId).returning('session_id'),
    ),
    deleteSessionSockets: prepare((p: { sessionId: string }) => db.deleteFrom('connections').where('session_id', '=', p.sessionId)),
    appsOfSession: prepare((p: { sessionId: string }) =>
      db.selectFrom('connections').select(['app', 'renew_by']).where('session_id', '=', p.sessionId),
    ),
    insertEvent: prepare((p: Insertable<SeatEventsTable>) => db.insertInto('seat_events').values(row(p, EVENT_COLUMNS))),
    /**
     * A claimant joins the queue again: it takes back the oldest place its seat key left behind
     * (kept for a reconnect; through queue_entries_left). Returns its id.
     */
    rejoinQueue: prepare((p: { licenseId: string; seatKeyValue: string; socketId: string; nodeId: string }) =>
      db
        .updateTable('queue_entries')
        .set({ socket_id: p.socketId, node_id: p.nodeId, left_at: null })
        .where('id', '=', (eb) =>
          eb
            .selectFrom('queue_entries')
            .select((e) => e.fn.min('id').as('id'))
            .where('license_id', '=', p.licenseId)
            .where('seat_key_value', '=', p.seatKeyValue)
            .where('left_at', 'is not', null),
        )
        .returning('id'),
    ),
    insertQueueEntry: prepare((p: Omit<Insertable<QueueEntriesTable>, 'id' | 'left_at'>) =>
      db.insertInto('queue_entries').values({ ...row(p, QUEUE_ENTRY_COLUMNS), left_at: null }),
    ),
    /** How many wait on the license, up to and including entry `throughId` (a scan of queue_entries_waiting alone). */
    waitingThrough: prepare((p: { licenseId: string; throughId: number }) =>
      db
        .selectFrom('queue_entries')
        .select((e) => e.fn.countAll<number | string>().as('n'))
        .where('license_id', '=', p.licenseId)
        .where('left_at', 'is', null)
        .where('id', '<=', p.throughId),
    ),
    /**
     * The license's next `limit` waiting entries after `afterId`, in order, each with its seat
     * key's session if one exists (`own_id`): a release serves the queue a page at a time.
     */
    waitingPage: prepare((p: { licenseId: string; afterId: number; limit: number }) => waitingAfter(db, p).limit(p.limit)),
    /** All the license's waiting entries after `afterId` whose seat key holds a session (another tab got in). */
    waitingWithSession: prepare((p: { licenseId: string; afterId: number }) =>
      // Not `exists`: PostgreSQL turns that into the join waitingAfter avoids.
      waitingAfter(db, p).where((eb) => eb(ownSession(eb), 'is not', null)),
    ),
    /** A waiting entry leaves the queue for a seat, only while its socket is still there. */
    takeQueueEntry: prepare((p: { id: number }) => db.deleteFrom('queue_entries').where('id', '=', p.id).where('left_at', 'is', null)),
    /** How many wait on the license. */
    waitingCount: prepare((p: { licenseId: string }) =>
      db
        .selectFrom('queue_entries')
        .select((e) => e.fn.countAll<number | string>().as('n'))
        .where('license_id', '=', p.licenseId)
        .where('left_at', 'is', null),
    ),
    expiredOfLicense: prepare((p: { licenseId: string; now: number }) =>
      db
        .selectFrom('sessions')
        .selectAll()
        .where('license_id', '=', p.licenseId)
        .where('state', '=', SessionState.Idle)
        .where('expires_at', '<=', p.now),
    ),
    /** The license's activated devices, and whether `deviceId` is one of them (usually a handful of rows). */
    activationsOf: prepare((p: { licenseId: string; deviceId: string }) =>
      db
        .selectFrom('activations')
        .select((eb) => [
          eb.fn.countAll<number | string>().as('n'),
          eb.fn.max<number | string | null>(eb.case().when('device_id', '=', p.deviceId).then(1).else(0).end()).as('mine'),
        ])
        .where('license_id', '=', p.licenseId),
    ),
    /** Activates the device on its first grant; on every later grant or resume, moves its last seen time. */
    touchActivation: prepare((p: { licenseId: string; deviceId: string; now: number }) =>
      db
        .insertInto('activations')
        .values({ license_id: p.licenseId, device_id: p.deviceId, activated_at: p.now, last_seen_at: p.now })
        .onConflict((oc) => oc.columns(['license_id', 'device_id']).doUpdateSet({ last_seen_at: p.now })),
    ),
    idleSession: prepare((p: { id: string; now: number; expiresAt: number }) => idleSessions(db, [p.id], p.now, p.expiresAt)),
  };
}

export type HotQueries = ReturnType<typeof hotQueries>;
