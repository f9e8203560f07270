// The SeatStore over Kysely, put together from its parts: the seat ledger, licenses, history,
// audit and nodes share every query; the dialect (sqlite-store.ts, postgres-store.ts) owns only
// how a license is locked, how a unique violation looks and how a transaction runs.
import { type Kysely, Migrator, sql } from 'kysely';
import type { EndReason } from '../../shared';
import { migrations } from '../../migrations';
import type { LeaseClaim, LeaseRecord } from '../seats/leases';
import type { AuditQuery, HeardThrough, NewTenant, OTHER_TENANT, SeatStore } from '../seats/seat-store';
import type { AdmitRequest, AuditEntry, Denial, EndedSession, LicensePatch, NewLicenseRow, QueueGrant, QueueRefusal, Tenant } from '../seats/types';
import { Activations } from './activations';
import { Activity } from './activity';
import { grantCollector, QueueStore, type QueueServed } from './queue';
import { SeatRequestStore } from './seat-requests';
import { listQueues } from './queue-list';
import { Audit } from './audit';
import { History } from './history';
import { Leases } from './leases';
import { Licenses } from './licenses';
import { Nodes } from './nodes';
import { OperatorStore } from './operator-store';
import { hotQueries } from './queries';
import { ReceiptHolds } from './receipts';
import type { Database } from './schema';
import { SeatLedger } from './seat-ledger';
import { newestSessionsOf, sessionsByStart } from './session-reads';
import type { StoreContext, StoreDialect } from './store-dialect';
import { Webhooks } from './webhooks';

/** The message of a failed migration (start.ts names DATABASE_URL for it). */
export const MIGRATION_FAILED = 'database migration failed';

/** What `migrate` found: the migrations a newer version ran that this one does not know (none, usually). */
export interface Migrated {
  newer: string[];
}

export class KyselySeatStore implements SeatStore {
  private readonly ledger: SeatLedger;
  private readonly licenses: Licenses;
  private readonly records: History;
  private readonly audit: Audit;
  private readonly nodes: Nodes;
  private readonly activations: Activations;
  private readonly leases: Leases;
  private readonly receipts: ReceiptHolds;
  private readonly operator: OperatorStore;
  private readonly activity: Activity;
  private readonly queue: QueueStore;
  private readonly requests: SeatRequestStore;
  private readonly queueListeners: Array<(grants: QueueGrant[]) => void> = [];
  private readonly refusalListeners: Array<(refusals: QueueRefusal[]) => void> = [];
  readonly webhooks: Webhooks;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: StoreDialect,
  ) {
    const context: StoreContext = { db, q: hotQueries(db), dialect: this.handingOnQueueGrants(dialect) };
    this.ledger = new SeatLedger(context);
    this.licenses = new Licenses(context);
    this.records = new History(context);
    this.audit = new Audit(context);
    this.nodes = new Nodes(context);
    this.activations = new Activations(context);
    this.leases = new Leases(context);
    this.receipts = new ReceiptHolds(context);
    this.operator = new OperatorStore(context);
    this.activity = new Activity(context);
    this.queue = new QueueStore(context);
    this.requests = new SeatRequestStore(context);
    this.webhooks = new Webhooks(context);
  }

  /**
   * The dialect, with each transaction's queue grants and refusals handed to the listeners once it
   * committed (after the caller has had its result, so a release is told before the grant it made
   * room for).
   */
  private handingOnQueueGrants(dialect: StoreDialect): StoreDialect {
    const listeners = this.queueListeners;
    const refused = this.refusalListeners;
    return {
      lockLicense: (trx, id) => dialect.lockLicense(trx, id),
      lockSessions: dialect.lockSessions && ((trx, ids) => dialect.lockSessions!(trx, ids)),
      openTransactions: dialect.openTransactions && ((db) => dialect.openTransactions!(db)),
      isUniqueViolation: (err) => dialect.isUniqueViolation(err),
      close: () => dialect.close(),
      oneTrip: dialect.oneTrip,
      liveness: dialect.liveness,
      inProcess: dialect.inProcess,
      hurry: dialect.hurry && (() => dialect.hurry!()),
      async transaction(fn, opts) {
        let served: QueueServed = { grants: [], refusals: [] };
        const result = await dialect.transaction(async (trx) => {
          served = grantCollector.begin(trx);
          try {
            return await fn(trx);
          } finally {
            grantCollector.end(trx);
          }
        }, opts);
        const { grants, refusals } = served;
        if (grants.length > 0) setImmediate(() => listeners.forEach((l) => l(grants)));
        if (refusals.length > 0) setImmediate(() => refused.forEach((l) => l(refusals)));
        return result;
      },
    };
  }

  async migrate(): Promise<Migrated> {
    const migrator = new Migrator({ db: this.db, provider: { getMigrations: async () => migrations } });
    // A node of the version before, started during a rolling upgrade (or a rollback) on a database
    // a newer node migrated: with every migration of its own run, it runs on it (migrations only
    // add: the newer ones keep what the version before uses). Kysely refuses any database with a
    // migration it was not given.
    const newer = await this.newerMigrations();
    if (newer.length > 0) {
      const missing = (await migrator.getMigrations()).filter((m) => m.executedAt === undefined).map((m) => m.name);
      if (missing.length === 0) return { newer };
      throw new Error(MIGRATION_FAILED, { cause: new Error(`the database was migrated by a newer version (${newer.join(', ')}) but lacks this version's ${missing.join(', ')}`) });
    }
    const { error } = await migrator.migrateToLatest();
    if (error) throw new Error(MIGRATION_FAILED, { cause: error });
    return { newer: [] };
  }

  /** The migrations the database ran that are newer than this version's last (none before the first migration). */
  private async newerMigrations(): Promise<string[]> {
    const last = Object.keys(migrations).sort().at(-1)!;
    let ran: string[];
    try {
      ran = (await sql<{ name: string }>`select name from kysely_migration`.execute(this.db)).rows.map((r) => r.name);
    } catch {
      // No migration table yet: a new database.
      return [];
    }
    return ran.filter((name) => !(name in migrations) && name > last).sort();
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  /** Settles at once the calls the database has answered (see `SeatStore.pump`). */
  pump(): void {
    this.dialect.pump?.();
  }

  async close(): Promise<void> {
    await this.dialect.close();
    await this.db.destroy();
  }

  // Each call goes to the part that holds it (see SeatStore for what each does).

  createTenant(tenant: Tenant, adminTokenHash: string) { return this.licenses.createTenant(tenant, adminTokenHash); }
  findTenantByTokenHash(hash: string) { return this.licenses.findTenantByTokenHash(hash); }
  getTenant(id: string) { return this.licenses.getTenant(id); }
  putSettingIfAbsent(key: string, value: string) { return this.licenses.putSettingIfAbsent(key, value); }
  getSetting(key: string) { return this.licenses.getSetting(key); }
  createLicense(license: NewLicenseRow, deletedSince?: number, tenant?: NewTenant) { return this.licenses.createLicense(license, deletedSince, tenant); }
  getLicense(id: string) { return this.licenses.getLicense(id); }
  listLicenses(tenantId?: string) { return this.licenses.listLicenses(tenantId); }
  updateLicense(id: string, patch: LicensePatch, now: number) { return this.licenses.updateLicense(id, patch, now); }
  moveLicense(id: string, tenantId: string, now: number) { return this.licenses.moveLicense(id, tenantId, now); }

  admit(req: AdmitRequest) { return this.ledger.admit(req); }
  detach(socketId: string, now: number, licenseId?: string) { return this.ledger.detach(socketId, now, licenseId); }
  endSession(sessionId: string, reason: EndReason, now: number, cooldownUntil?: number): Promise<EndedSession | undefined>;
  endSession(sessionId: string, reason: EndReason, now: number, cooldownUntil: number | undefined, tenantId: string | undefined): Promise<EndedSession | undefined | typeof OTHER_TENANT>;
  endSession(sessionId: string, reason: EndReason, now: number, cooldownUntil?: number, tenantId?: string) {
    return this.ledger.endSession(sessionId, reason, now, cooldownUntil, tenantId);
  }
  expireLicense(licenseId: string, now: number) { return this.ledger.expireLicense(licenseId, now); }
  listExpiring(before: number) { return this.ledger.listExpiring(before); }
  getSession(id: string) { return this.ledger.getSession(id); }
  endedAmong(sessionIds: string[]) { return this.ledger.endedAmong(sessionIds); }
  listSessions(licenseId: string) { return this.ledger.listSessions(licenseId); }
  listSessionsOf(licenseIds: readonly string[]) { return this.ledger.listSessionsOf(licenseIds); }
  listNewestSessionsOf(licenseIds: readonly string[], perLicense: number) { return newestSessionsOf(this.db, licenseIds, perLicense); }
  pageSessionsByStart(licenseId: string, query: Parameters<typeof sessionsByStart>[2]) { return sessionsByStart(this.db, licenseId, query); }

  recordDenial(denial: Denial) { return this.records.recordDenial(denial); }
  listDenials(licenseId: string, opts?: { since?: number; until?: number; limit?: number }) { return this.records.listDenials(licenseId, opts); }
  countDenials(since: number) { return this.records.countDenials(since); }
  listLatestDenials(licenseIds: readonly string[], perLicense: number) { return this.records.listLatestDenials(licenseIds, perLicense); }
  history(licenseId: string, bounds: readonly number[]) { return this.records.history(licenseId, bounds); }
  /** The seat history, and the seat requests with it (the same retention). */
  async pruneHistory(before: number) {
    const pruned = await this.records.pruneHistory(before);
    await this.requests.pruneRequests(before);
    return pruned;
  }

  listActivations(licenseId: string) { return this.activations.listActivations(licenseId); }
  countActivations(licenseIds: readonly string[]) { return this.activations.countActivations(licenseIds); }
  deactivate(licenseId: string, deviceId: string, now: number) { return this.activations.deactivate(licenseId, deviceId, now); }

  onQueueGrants(listener: (grants: QueueGrant[]) => void) { this.queueListeners.push(listener); }
  onQueueRefusals(listener: (refusals: QueueRefusal[]) => void) { this.refusalListeners.push(listener); }
  leaveQueue(socketId: string, now: number) { return this.queue.leaveQueue(socketId, now); }
  purgeQueue(now: number) { return this.queue.purgeQueue(now); }
  serveQueue(licenseId: string, now: number) { return this.queue.serve(licenseId, now); }
  queuedLicenses() { return this.queue.queuedLicenses(); }
  queuePlaces(licenseId: string) { return this.queue.places(licenseId); }
  grantedSockets(socketIds: readonly string[], grantedBy: number) { return this.queue.grantedSockets(socketIds, grantedBy); }
  unqueuedSockets(socketIds: readonly string[]) { return this.queue.unqueuedSockets(socketIds); }
  mergeKeptPlaces() { return this.queue.mergeKeptPlaces(); }
  listQueues(licenseIds: readonly string[], limit: number) { return listQueues(this.db, licenseIds, limit); }

  recordRequest(req: Parameters<SeatStore['recordRequest']>[0], perHour: number) { return this.requests.recordRequest(req, perHour); }
  listRequests(licenseId: string, limit?: number) { return this.requests.listRequests(licenseId, limit); }
  countRequests(licenseId: string, since: number) { return this.requests.countRequests(licenseId, since); }

  recordActivity(sessionIds: readonly string[], at: number) { return this.activity.recordActivity(sessionIds, at); }
  inactivityDue(now: number) { return this.activity.inactivityDue(now); }
  markWarned(sessionId: string, lastActivityAt: number, now: number) { return this.activity.markWarned(sessionId, lastActivityAt, now); }
  releaseInactive(licenseId: string, now: number, flushMs: number, heard?: HeardThrough) { return this.activity.releaseInactive(licenseId, now, flushMs, heard); }

  recordLease(lease: LeaseRecord) { return this.leases.recordLease(lease); }
  renewLease(leaseId: string, claim: LeaseClaim, now: number) { return this.leases.renewLease(leaseId, claim, now); }
  releaseLease(leaseId: string, claim: LeaseClaim, now: number) { return this.leases.releaseLease(leaseId, claim, now); }
  lapseLeases(now: number) { return this.leases.lapseLeases(now); }
  pruneLeases(before: number) { return this.leases.pruneLeases(before); }

  addAudit(entry: Omit<AuditEntry, 'id'>) { return this.audit.addAudit(entry); }
  listAudit(opts: AuditQuery) { return this.audit.listAudit(opts); }

  listTenants(tenantId?: string) { return this.operator.listTenants(tenantId); }
  rotateTenantToken(tenantId: string, adminTokenHash: string) { return this.operator.rotateTenantToken(tenantId, adminTokenHash); }
  rotateSecret(licenseId: string, secret: string, previousUntil: number, now: number) { return this.operator.rotateSecret(licenseId, secret, previousUntil, now); }
  deleteLicense(licenseId: string, now: number) { return this.operator.deleteLicense(licenseId, now); }

  heartbeat(nodeId: string, now: number, activityThrough?: number) { return this.nodes.heartbeat(nodeId, now, activityThrough); }
  reapNodes(opts: Parameters<SeatStore['reapNodes']>[0]) { return this.nodes.reapNodes(opts); }
  releaseNode(nodeId: string, now: number, opts?: Parameters<SeatStore['releaseNode']>[2]) { return this.nodes.releaseNode(nodeId, now, opts); }

  extendReceipt(sessionId: string, now: number) { return this.receipts.extendReceipt(sessionId, now); }
}
