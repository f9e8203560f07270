// The SeatStore over Kysely. SQLite and PostgreSQL share every query; they differ only in how a
// transaction is made exclusive per license (SQLite's single writer, PostgreSQL's row lock).
import { randomUUID } from 'node:crypto';
import { type Kysely, Migrator, type Selectable, type Transaction, sql } from 'kysely';
import {
  type DenyReason,
  type EndReason,
  EndReason as End,
  type LicenseStatus,
  SeatEventType,
  type SeatKey,
  SessionState,
} from '../../shared';
import { type SeatStore, StoreConflictError } from '../seats/seat-store';
import type {
  AdmitOutcome,
  AdmitRequest,
  AuditEntry,
  Denial,
  DetachOutcome,
  EndedSession,
  HistoryBucket,
  License,
  LicensePatch,
  NewLicenseRow,
  Session,
  Tenant,
} from '../seats/types';
import { migrations } from '../../migrations';
import { decideAdmission } from '../seats/decisions/admission';
import { mayEndSessions, sessionsToEnd } from '../seats/decisions/license-change';
import { seatKeyValue } from '../seats/decisions/seat-key';
import { type HotQueries, hotQueries, idleSessions } from './queries';
import type { Database, LicensesTable, SessionsTable } from './schema';

type Db = Kysely<Database> | Transaction<Database>;

export abstract class KyselySeatStore implements SeatStore {
  protected readonly db: Kysely<Database>;
  /** The hot paths' statements, compiled once. */
  protected readonly q: HotQueries;

  constructor(db: Kysely<Database>) {
    this.db = db;
    this.q = hotQueries(db);
  }

  /** Reads the license row so that no other transaction changes the license's seats until commit. */
  protected abstract lockLicense(trx: Transaction<Database>, id: string): Promise<Selectable<LicensesTable> | undefined>;

  /** Whether an error is a unique-constraint violation in this dialect. */
  protected abstract isUniqueViolation(err: unknown): boolean;

  /** Runs `fn` as one transaction: all of it commits, or none of it. */
  protected transaction<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(fn);
  }

  async migrate(): Promise<void> {
    const migrator = new Migrator({ db: this.db, provider: { getMigrations: async () => migrations } });
    const { error } = await migrator.migrateToLatest();
    if (error) throw new Error('database migration failed', { cause: error });
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  // ---- tenants and settings ----

  async createTenant(tenant: Tenant, adminTokenHash: string): Promise<Tenant> {
    await this.db
      .insertInto('tenants')
      .values({ id: tenant.id, name: tenant.name, admin_token_hash: adminTokenHash, created_at: tenant.createdAt })
      .execute();
    return tenant;
  }

  async findTenantByTokenHash(hash: string): Promise<Tenant | undefined> {
    const row = await this.db.selectFrom('tenants').selectAll().where('admin_token_hash', '=', hash).executeTakeFirst();
    return row && { id: row.id, name: row.name, createdAt: Number(row.created_at) };
  }

  async getTenant(id: string): Promise<Tenant | undefined> {
    const row = await this.db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
    return row && { id: row.id, name: row.name, createdAt: Number(row.created_at) };
  }

  async putSettingIfAbsent(key: string, value: string): Promise<string> {
    await this.db
      .insertInto('settings')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    return (await this.getSetting(key)) ?? value;
  }

  async getSetting(key: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
    return row?.value;
  }

  // ---- licenses ----

  async createLicense(license: NewLicenseRow): Promise<License> {
    try {
      await this.db.insertInto('licenses').values(licenseRow(license)).execute();
    } catch (err) {
      if (this.isUniqueViolation(err)) throw new StoreConflictError(`license ${license.id} exists`, { cause: err });
      throw err;
    }
    return { ...license, seatsInUse: 0 };
  }

  async getLicense(id: string): Promise<License | undefined> {
    const [row] = (await this.q.license(this.db, { id })).rows;
    return row && toLicense(row);
  }

  async listLicenses(tenantId?: string): Promise<License[]> {
    const rows = await this.db
      .selectFrom('licenses')
      .selectAll()
      .$if(tenantId !== undefined, (q) => q.where('tenant_id', '=', tenantId!))
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toLicense);
  }

  async updateLicense(
    id: string,
    patch: LicensePatch,
    now: number,
  ): Promise<{ license: License; ended: EndedSession[] } | undefined> {
    return this.transaction(async (trx) => {
      const row = await this.lockLicense(trx, id);
      if (!row) return undefined;
      let license: License = { ...toLicense(row), ...patch, updatedAt: now };
      await trx.updateTable('licenses').set(licenseRow(license)).where('id', '=', id).execute();

      const ended: EndedSession[] = [];
      if (!mayEndSessions(license)) return { license, ended };
      const live = await this.sessionsOf(trx, id, 'newest-first');
      for (const { session, reason } of sessionsToEnd(license, live)) {
        const seatsInUse = await this.releaseSession(trx, session, reason, now);
        if (seatsInUse === undefined) continue;
        license = { ...license, seatsInUse };
        ended.push({ license, session, reason, seatsInUse });
      }
      return { license, ended };
    });
  }

  // ---- seats ----

  async admit(req: AdmitRequest): Promise<AdmitOutcome> {
    const { licenseId, claimant, now } = req;
    return this.transaction(async (trx): Promise<AdmitOutcome> => {
      const row = await this.lockLicense(trx, licenseId);
      if (!row) return { kind: 'license_not_found' };
      let license = toLicense(row);
      // The seat key in force is the locked row's, whatever the token was checked against.
      const key = seatKeyValue(license.seatKey, claimant);
      if ('missing' in key) return { kind: 'missing_claim', license, missing: key.missing, claim: key.claim };
      const seatKey = { licenseId, seatKeyValue: key.value };

      const { rows } = await this.q.admissionSessions(trx, { ...seatKey, now });
      const sessions = rows.map((r) => ({ row: r, id: r.id, weight: Number(r.weight), state: r.state as SessionState, expiresAt: r.expires_at === null ? null : Number(r.expires_at) }));
      const own = sessions.find((s) => s.row.seat_key_value === key.value);
      const [cooldown] = (await this.q.cooldownUntil(trx, { ...seatKey, now })).rows;
      const decision = decideAdmission({
        license,
        claimant,
        own,
        stale: sessions.filter((s) => s !== own),
        cooldownUntil: cooldown ? Number(cooldown.until) : null,
        now,
      });

      const expired: EndedSession[] = [];
      for (const { row: stale } of decision.release) {
        // Idle: no connection rows.
        const session = toSession(stale, []);
        const seatsInUse = await this.releaseSession(trx, session, End.IdleTimeout, now);
        if (seatsInUse === undefined) continue;
        license = { ...license, seatsInUse };
        expired.push({ license, session, reason: End.IdleTimeout, seatsInUse });
      }

      if (decision.kind === 'deny') {
        const denial: Denial = {
          licenseId,
          at: now,
          reason: decision.reason,
          sessionRef: claimant.sessionRef,
          userId: claimant.userId,
          deviceId: claimant.deviceId,
          instanceId: claimant.instanceId,
        };
        await this.insertDenial(trx, denial, claimant.weight, license.seatsInUse);
        return { kind: 'denied', license, denial, seatsInUse: license.seatsInUse, expired };
      }

      if (decision.kind === 'resume') {
        const existing = decision.session.row;
        await this.q.resumeSession(trx, { id: existing.id });
        await this.insertConnection(trx, req, existing.id);
        await this.insertEvent(trx, licenseId, existing.id, SeatEventType.Resumed, null, existing.weight, license.seatsInUse, now);
        // The row as just updated, with every connection of the session now (this one included).
        const { rows: conns } = await this.q.appsOfSession(trx, { sessionId: existing.id });
        const session = toSession({ ...existing, state: SessionState.Active, idle_since: null, expires_at: null }, conns);
        return { kind: 'granted', resumed: true, license, session, seatsInUse: license.seatsInUse, expired };
      }

      const session: Session = {
        id: randomUUID(),
        licenseId,
        seatKeyValue: key.value,
        sessionRef: claimant.sessionRef,
        userId: claimant.userId,
        deviceId: claimant.deviceId,
        instanceId: claimant.instanceId,
        app: claimant.app,
        name: claimant.name,
        weight: claimant.weight,
        state: SessionState.Active,
        startedAt: now,
        idleSince: null,
        expiresAt: null,
        sockets: 1,
        apps: claimant.app ? [claimant.app] : [],
      };
      await this.q.insertSession(trx, {
        id: session.id,
        license_id: licenseId,
        seat_key_value: session.seatKeyValue,
        session_ref: session.sessionRef,
        user_id: session.userId,
        device_id: session.deviceId,
        instance_id: session.instanceId,
        app: session.app,
        name: session.name,
        weight: session.weight,
        state: session.state,
        started_at: now,
        idle_since: null,
        expires_at: null,
      });
      const seatsInUse = await this.addSeats(trx, licenseId, claimant.weight);
      await this.insertConnection(trx, req, session.id);
      await this.insertEvent(trx, licenseId, session.id, SeatEventType.Granted, null, claimant.weight, seatsInUse, now);
      return { kind: 'granted', resumed: false, license: { ...license, seatsInUse }, session, seatsInUse, expired };
    });
  }

  async recordDenial(denial: Denial): Promise<number> {
    return this.transaction(async (trx) => {
      const [row] = (await this.q.seatsInUse(trx, { licenseId: denial.licenseId })).rows;
      const seatsInUse = Number(row?.seats_in_use ?? 0);
      await this.insertDenial(trx, denial, 1, seatsInUse);
      return seatsInUse;
    });
  }

  async detach(socketId: string, now: number): Promise<DetachOutcome | undefined> {
    const [conn] = (await this.q.licenseOfSocket(this.db, { socketId })).rows;
    if (!conn) return undefined;
    return this.transaction(async (trx) => {
      const row = await this.lockLicense(trx, conn.license_id);
      const [gone] = (await this.q.deleteSocket(trx, { socketId })).rows;
      if (!row || !gone) return undefined;
      const [outcome] = await this.idleOrphans(trx, toLicense(row), [gone.session_id], now);
      if (outcome) return outcome;
      const session = await this.loadSession(trx, gone.session_id);
      if (!session) return undefined;
      const license = toLicense(row);
      return { license, session, seatsInUse: license.seatsInUse };
    });
  }

  async endSession(
    sessionId: string,
    reason: EndReason,
    now: number,
    cooldownUntil?: number,
  ): Promise<EndedSession | undefined> {
    const [found] = (await this.q.licenseOfSession(this.db, { id: sessionId })).rows;
    if (!found) return undefined;
    return this.transaction(async (trx) => {
      const row = await this.lockLicense(trx, found.license_id);
      const session = await this.loadSession(trx, sessionId);
      if (!row || !session) return undefined;
      const seatsInUse = await this.releaseSession(trx, session, reason, now);
      if (seatsInUse === undefined) return undefined;
      const license = { ...toLicense(row), seatsInUse };
      if (cooldownUntil !== undefined && cooldownUntil > now) {
        await trx
          .insertInto('kick_cooldowns')
          .values({ license_id: license.id, seat_key_value: session.seatKeyValue, until: cooldownUntil })
          .onConflict((oc) => oc.columns(['license_id', 'seat_key_value']).doUpdateSet({ until: cooldownUntil }))
          .execute();
      }
      return { license, session, reason, seatsInUse };
    });
  }

  async expireSession(sessionId: string, now: number): Promise<EndedSession | undefined> {
    const [found] = (await this.q.licenseOfSession(this.db, { id: sessionId })).rows;
    if (!found) return undefined;
    return this.transaction(async (trx) => {
      const row = await this.lockLicense(trx, found.license_id);
      if (!row) return undefined;
      const [ended] = await this.releaseExpired(trx, toLicense(row), now, sessionId);
      return ended;
    });
  }

  async expireLicense(licenseId: string, now: number): Promise<EndedSession[]> {
    return this.transaction(async (trx) => {
      const row = await this.lockLicense(trx, licenseId);
      return row ? this.releaseExpired(trx, toLicense(row), now) : [];
    });
  }

  async listExpiring(before: number): Promise<Array<{ id: string; licenseId: string; expiresAt: number }>> {
    const rows = await this.db
      .selectFrom('sessions')
      .select(['id', 'license_id', 'expires_at'])
      .where('state', '=', SessionState.Idle)
      .where('expires_at', '<=', before)
      .orderBy('expires_at')
      .execute();
    return rows.map((r) => ({ id: r.id, licenseId: r.license_id, expiresAt: Number(r.expires_at) }));
  }

  async getSession(id: string): Promise<Session | undefined> {
    return this.loadSession(this.db, id);
  }

  async endedAmong(sessionIds: string[]): Promise<Array<{ sessionId: string; reason: EndReason }>> {
    if (sessionIds.length === 0) return [];
    const live = await this.db.selectFrom('sessions').select('id').where('id', 'in', sessionIds).execute();
    const liveIds = new Set(live.map((r) => r.id));
    const gone = sessionIds.filter((id) => !liveIds.has(id));
    if (gone.length === 0) return [];
    const released = await this.db
      .selectFrom('seat_events')
      .select(['session_id', 'reason'])
      .where('session_id', 'in', gone)
      .where('type', '=', SeatEventType.Released)
      .execute();
    const reasons = new Map(released.map((r) => [r.session_id, r.reason as EndReason]));
    // Not known any more: say so, rather than guess (a guessed `kicked` would blame an admin).
    return gone.map((sessionId) => ({ sessionId, reason: reasons.get(sessionId) ?? End.Ended }));
  }

  async listSessions(licenseId: string): Promise<Session[]> {
    return this.sessionsOf(this.db, licenseId, 'oldest-first');
  }

  async listDenials(licenseId: string, opts: { since?: number; limit?: number } = {}): Promise<Denial[]> {
    const rows = await this.db
      .selectFrom('denials')
      .selectAll()
      .where('license_id', '=', licenseId)
      .$if(opts.since !== undefined, (q) => q.where('at', '>=', opts.since!))
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .limit(opts.limit ?? 1000)
      .execute();
    return rows.map((r) => ({
      licenseId: r.license_id,
      at: Number(r.at),
      reason: r.reason as DenyReason,
      sessionRef: r.session_ref,
      userId: r.user_id,
      deviceId: r.device_id,
      instanceId: r.instance_id,
    }));
  }

  async history(licenseId: string, since: number, until: number, bucketMs: number): Promise<HistoryBucket[]> {
    const bucket = sql<number>`(${sql.ref('at')} - ${since}) / ${bucketMs}`;
    const denials = await this.db
      .selectFrom('denials')
      .select([bucket.as('b'), (eb) => eb.fn.countAll<number>().as('n')])
      .where('license_id', '=', licenseId)
      .where('at', '>=', since)
      .where('at', '<', until)
      .groupBy(sql`1`)
      .execute();
    const moves = await this.db
      .selectFrom('seat_events')
      .select([bucket.as('b'), (eb) => eb.fn.max('seats_in_use').as('peak'), (eb) => eb.fn.max('id').as('last')])
      .where('license_id', '=', licenseId)
      .where('at', '>=', since)
      .where('at', '<', until)
      .groupBy(sql`1`)
      .execute();
    const lastIds = moves.map((m) => Number(m.last));
    const lasts = lastIds.length
      ? await this.db.selectFrom('seat_events').select(['id', 'seats_in_use']).where('id', 'in', lastIds).execute()
      : [];
    const before = await this.db
      .selectFrom('seat_events')
      .select('seats_in_use')
      .where('license_id', '=', licenseId)
      .where('at', '<', since)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();

    const lastById = new Map(lasts.map((l) => [Number(l.id), Number(l.seats_in_use)]));
    const denialsBy = new Map(denials.map((d) => [Math.floor(Number(d.b)), Number(d.n)]));
    const movesBy = new Map(
      moves.map((m) => [Math.floor(Number(m.b)), { peak: Number(m.peak), last: lastById.get(Number(m.last)) ?? 0 }]),
    );
    const buckets: HistoryBucket[] = [];
    // A bucket where nothing moved still holds the seats left by the last event before it.
    let carried = before ? Number(before.seats_in_use) : 0;
    const count = Math.max(0, Math.ceil((until - since) / bucketMs));
    for (let i = 0; i < count; i++) {
      const moved = movesBy.get(i);
      buckets.push({
        at: since + i * bucketMs,
        denials: denialsBy.get(i) ?? 0,
        peakSeatsInUse: Math.max(carried, moved?.peak ?? 0),
      });
      if (moved) carried = moved.last;
    }
    return buckets;
  }

  async pruneHistory(before: number): Promise<number> {
    const a = await this.db.deleteFrom('denials').where('at', '<', before).executeTakeFirst();
    const b = await this.db.deleteFrom('seat_events').where('at', '<', before).executeTakeFirst();
    await this.db.deleteFrom('kick_cooldowns').where('until', '<', before).execute();
    return Number(a.numDeletedRows) + Number(b.numDeletedRows);
  }

  // ---- audit ----

  async addAudit(entry: Omit<AuditEntry, 'id'>): Promise<AuditEntry> {
    const row = await this.db
      .insertInto('audit_log')
      .values({
        tenant_id: entry.tenantId,
        license_id: entry.licenseId,
        actor: entry.actor,
        action: entry.action,
        detail: JSON.stringify(entry.detail),
        at: entry.at,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { ...entry, id: Number(row.id) };
  }

  async listAudit(opts: { tenantId?: string; licenseId?: string; limit?: number }): Promise<AuditEntry[]> {
    const rows = await this.db
      .selectFrom('audit_log')
      .selectAll()
      .$if(opts.tenantId !== undefined, (q) => q.where('tenant_id', '=', opts.tenantId!))
      .$if(opts.licenseId !== undefined, (q) => q.where('license_id', '=', opts.licenseId!))
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .limit(opts.limit ?? 200)
      .execute();
    return rows.map((r) => ({
      id: Number(r.id),
      at: Number(r.at),
      tenantId: r.tenant_id,
      licenseId: r.license_id,
      actor: r.actor,
      action: r.action,
      detail: JSON.parse(r.detail) as Record<string, unknown>,
    }));
  }

  // ---- nodes ----

  async heartbeat(nodeId: string, now: number): Promise<boolean> {
    const beat = await this.db.updateTable('nodes').set({ heartbeat_at: now }).where('id', '=', nodeId).executeTakeFirst();
    if (Number(beat.numUpdatedRows) > 0) return true;
    await this.db
      .insertInto('nodes')
      .values({ id: nodeId, started_at: now, heartbeat_at: now })
      .onConflict((oc) => oc.column('id').doUpdateSet({ heartbeat_at: now }))
      .execute();
    return false;
  }

  async reapNodes(opts: { deadBefore: number; now: number; keep: string; allOthers?: boolean }): Promise<DetachOutcome[]> {
    const dead = await this.db
      .selectFrom('nodes')
      .select('id')
      .where('id', '!=', opts.keep)
      .$if(!opts.allOthers, (q) => q.where('heartbeat_at', '<', opts.deadBefore))
      .execute();
    // Connection rows of nodes that never wrote a heartbeat row (or whose row is gone) are orphans too.
    const known = await this.db.selectFrom('nodes').select('id').where('heartbeat_at', '>=', opts.deadBefore).execute();
    const alive = new Set(opts.allOthers ? [opts.keep] : [opts.keep, ...known.map((n) => n.id)]);
    const nodeIds = await this.db.selectFrom('connections').select('node_id').distinct().execute();
    const targets = new Set([...dead.map((d) => d.id), ...nodeIds.map((n) => n.node_id).filter((n) => !alive.has(n))]);
    const outcomes: DetachOutcome[] = [];
    for (const nodeId of targets) outcomes.push(...(await this.releaseNode(nodeId, opts.now)));
    return outcomes;
  }

  async releaseNode(nodeId: string, now: number): Promise<DetachOutcome[]> {
    const licenses = await this.db
      .selectFrom('connections')
      .select('license_id')
      .distinct()
      .where('node_id', '=', nodeId)
      .execute();
    const outcomes: DetachOutcome[] = [];
    for (const { license_id } of licenses) {
      const released = await this.transaction(async (trx) => {
        const row = await this.lockLicense(trx, license_id);
        const gone = await trx
          .deleteFrom('connections')
          .where('node_id', '=', nodeId)
          .where('license_id', '=', license_id)
          .returning('session_id')
          .execute();
        if (!row) return [];
        return this.idleOrphans(trx, toLicense(row), [...new Set(gone.map((g) => g.session_id))], now);
      });
      outcomes.push(...released);
    }
    await this.db.deleteFrom('nodes').where('id', '=', nodeId).execute();
    return outcomes;
  }

  // ---- inside transactions ----

  /** Sessions among `sessionIds` left with no connection go idle, with a durable deadline. */
  private async idleOrphans(trx: Db, license: License, sessionIds: string[], now: number): Promise<DetachOutcome[]> {
    const outcomes: DetachOutcome[] = [];
    if (sessionIds.length === 0) return outcomes;
    const expiresAt = now + license.idleTimeoutSec * 1000;
    // Going idle changes no seat count.
    const { seatsInUse } = license;
    // Set-based, in chunks: a restart or a dead node idles thousands of sessions at once.
    for (let i = 0; i < sessionIds.length; i += 500) {
      const chunk = sessionIds.slice(i, i + 500);
      const idled =
        chunk.length === 1
          ? (await this.q.idleSession(trx, { id: chunk[0]!, now, expiresAt })).rows
          : await idleSessions(trx, chunk, now, expiresAt).execute();
      if (idled.length === 0) continue;
      await trx
        .insertInto('seat_events')
        .values(
          idled.map((r) => ({
            license_id: license.id,
            session_id: r.id,
            type: SeatEventType.Idle,
            reason: null,
            weight: r.weight,
            seats_in_use: seatsInUse,
            at: now,
          })),
        )
        .execute();
      for (const row of idled) outcomes.push({ license, session: toSession(row, []), seatsInUse });
    }
    return outcomes;
  }

  /** Releases idle sessions of the license past their deadline (or just `onlyId`). */
  private async releaseExpired(trx: Db, license: License, now: number, onlyId?: string): Promise<EndedSession[]> {
    const { rows } =
      onlyId === undefined
        ? await this.q.expiredOfLicense(trx, { licenseId: license.id, now })
        : await this.q.expiredSession(trx, { licenseId: license.id, now, id: onlyId });
    const ended: EndedSession[] = [];
    let current = license;
    for (const { id } of rows) {
      const session = await this.loadSession(trx, id);
      if (!session) continue;
      const seatsInUse = await this.releaseSession(trx, session, End.IdleTimeout, now);
      if (seatsInUse === undefined) continue;
      current = { ...current, seatsInUse };
      ended.push({ license: current, session, reason: End.IdleTimeout, seatsInUse });
    }
    return ended;
  }

  /**
   * Deletes the session and its connections and gives back its seats; returns the seats the
   * license holds after it, or undefined when the session was already gone.
   */
  private async releaseSession(trx: Db, session: Session, reason: EndReason, now: number): Promise<number | undefined> {
    await this.q.deleteSessionSockets(trx, { sessionId: session.id });
    const gone = await this.q.deleteSession(trx, { id: session.id });
    if (Number(gone.numAffectedRows ?? 0) === 0) return undefined;
    const seatsInUse = await this.addSeats(trx, session.licenseId, -session.weight);
    await this.insertEvent(trx, session.licenseId, session.id, SeatEventType.Released, reason, session.weight, seatsInUse, now);
    return seatsInUse;
  }

  private async insertConnection(trx: Db, req: AdmitRequest, sessionId: string) {
    await this.q.insertConnection(trx, {
      socket_id: req.socketId,
      session_id: sessionId,
      license_id: req.licenseId,
      node_id: req.nodeId,
      app: req.claimant.app,
      connected_at: req.now,
    });
  }

  private async insertDenial(trx: Db, denial: Denial, weight: number, seatsInUse: number) {
    await trx
      .insertInto('denials')
      .values({
        license_id: denial.licenseId,
        at: denial.at,
        reason: denial.reason,
        session_ref: denial.sessionRef,
        user_id: denial.userId,
        device_id: denial.deviceId,
        instance_id: denial.instanceId,
      })
      .execute();
    await this.insertEvent(trx, denial.licenseId, null, SeatEventType.Denied, denial.reason, weight, seatsInUse, denial.at);
  }

  private async insertEvent(
    trx: Db,
    licenseId: string,
    sessionId: string | null,
    type: SeatEventType,
    reason: string | null,
    weight: number,
    seatsInUse: number,
    at: number,
  ) {
    await this.q.insertEvent(trx, { license_id: licenseId, session_id: sessionId, type, reason, weight, seats_in_use: seatsInUse, at });
  }

  /**
   * The one writer of the license row's seat counter, on every session insert and delete (under
   * the license's lock). Returns the count it leaves: nothing reads it again after.
   */
  private async addSeats(trx: Db, licenseId: string, delta: number): Promise<number> {
    const [row] = (await this.q.addSeats(trx, { licenseId, delta })).rows;
    if (!row) throw new Error(`no license ${licenseId} to count seats on`);
    return Number(row.seats_in_use);
  }

  private async loadSession(trx: Db, id: string): Promise<Session | undefined> {
    const [row] = (await this.q.sessionById(trx, { id })).rows;
    if (!row) return undefined;
    const { rows: conns } = await this.q.appsOfSession(trx, { sessionId: id });
    return toSession(row, conns);
  }

  private async sessionsOf(trx: Db, licenseId: string, order: 'oldest-first' | 'newest-first'): Promise<Session[]> {
    const dir = order === 'oldest-first' ? 'asc' : 'desc';
    const rows = await trx
      .selectFrom('sessions')
      .selectAll()
      .where('license_id', '=', licenseId)
      .orderBy('started_at', dir)
      .orderBy('id', dir)
      .execute();
    const conns = await trx
      .selectFrom('connections')
      .select(['session_id', 'app'])
      .where('license_id', '=', licenseId)
      .execute();
    const bySession = new Map<string, Array<{ app: string | null }>>();
    for (const c of conns) {
      const list = bySession.get(c.session_id) ?? [];
      list.push(c);
      bySession.set(c.session_id, list);
    }
    return rows.map((r) => toSession(r, bySession.get(r.id) ?? []));
  }
}

function toLicense(row: Selectable<LicensesTable>): License {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    seats: Number(row.seats),
    seatCap: row.seat_cap === null ? null : Number(row.seat_cap),
    seatKey: JSON.parse(row.seat_key) as SeatKey,
    idleTimeoutSec: Number(row.idle_timeout_sec),
    status: row.status as LicenseStatus,
    deniedMessage: row.denied_message,
    secret: row.secret,
    seatsInUse: Number(row.seats_in_use),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** The row's fields an admin may set; `seats_in_use` is written by `addSeats` alone. */
function licenseRow(l: NewLicenseRow): Omit<LicensesTable, 'seats_in_use'> {
  return {
    id: l.id,
    tenant_id: l.tenantId,
    name: l.name,
    seats: l.seats,
    seat_cap: l.seatCap,
    seat_key: JSON.stringify(l.seatKey),
    idle_timeout_sec: l.idleTimeoutSec,
    status: l.status,
    denied_message: l.deniedMessage,
    secret: l.secret,
    created_at: l.createdAt,
    updated_at: l.updatedAt,
  };
}

function toSession(row: Selectable<SessionsTable>, conns: Array<{ app: string | null }>): Session {
  const apps = new Set<string>();
  if (row.app) apps.add(row.app);
  for (const c of conns) if (c.app) apps.add(c.app);
  return {
    id: row.id,
    licenseId: row.license_id,
    seatKeyValue: row.seat_key_value,
    sessionRef: row.session_ref,
    userId: row.user_id,
    deviceId: row.device_id,
    instanceId: row.instance_id,
    app: row.app,
    name: row.name,
    weight: Number(row.weight),
    state: row.state as Session['state'],
    startedAt: Number(row.started_at),
    idleSince: row.idle_since === null ? null : Number(row.idle_since),
    expiresAt: row.expires_at === null ? null : Number(row.expires_at),
    sockets: conns.length,
    apps: [...apps],
  };
}
