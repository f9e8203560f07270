// Administration: tenants, licenses and who may touch them (the operator, a tenant's admin), the
// operator's token, the audit log, and how long denials and seat history are kept.
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { DEFAULT_DENIED_MESSAGE, echoId, EndReason, ErrorCode, LicenseStatus, type SeatKey } from '../../shared';
import type { SeatServerConfig } from '../config';
import { type Actor, MAX_ADMIN_TOKEN_LENGTH, mayTouch } from './actor';
import type { EventBus } from './event-bus';
import { END_MESSAGE, endedEvent } from './messages';
import { every } from './periodic';
import { boundsPhrase, SeatError } from './seat-error';
import { type NewTenant, type SeatStore, StoreConflictError } from './seat-store';
import type { TokenAuth } from './token-auth';
import { mayEndSessions, sessionsToEnd, whyNotEmpty } from './decisions/license-change';
import { poolProblem, reservedSeats, seatCount } from './decisions/pool-settings';
import type { GroupLimit, Reservation } from './decisions/seat-pool';
import { type AuditEntry, type EndedSession, type License, type LicensePatch, POLICY_DEFAULTS, type Session, type Tenant } from './types';

export interface NewLicense {
  id?: string;
  name?: string;
  seats: number;
  seatCap?: number | null;
  seatKey?: SeatKey;
  idleTimeoutSec?: number;
  status?: LicenseStatus;
  deniedMessage?: string;
  maxActivations?: number | null;
  inactivityTimeoutSec?: number | null;
  inactivityWarningSec?: number;
  leaseIntervalSec?: number;
  offlineGraceSec?: number;
  overage?: number;
  queue?: boolean;
  reservations?: Reservation[];
  groupLimits?: GroupLimit[];
  tenantId?: string;
}

export type AdministrationOptions = Pick<
  SeatServerConfig,
  | 'adminToken'
  | 'idleTimeoutMinSec'
  | 'idleTimeoutMaxSec'
  | 'defaultIdleTimeoutSec'
  | 'denialRetentionDays'
  | 'inactivityTimeoutMinSec'
  | 'inactivityTimeoutMaxSec'
>;

export interface AdministrationDeps {
  store: SeatStore;
  bus: EventBus;
  /** A changed license is forgotten by the token cache. */
  auth: Pick<TokenAuth, 'forget'>;
  options: AdministrationOptions;
  now: () => number;
  /** Told a generated operator token the moment its hash is stored. */
  onGeneratedToken?: (token: string) => void;
}

const OPERATOR_TOKEN_SETTING = 'operator_token_sha256';
const OPERATOR_TENANT_ID = 'operator';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A license moves to another tenant by the operator's hand alone (a PATCH, or its preview). */
function onlyOperatorMoves(actor: Actor): void {
  if (actor.kind !== 'operator') throw new SeatError(ErrorCode.Forbidden, 'only the operator moves a license to another tenant');
}

export class Administration {
  private operatorTokenHash: string | undefined;
  private pruning?: NodeJS.Timeout;

  constructor(private readonly deps: AdministrationDeps) {}

  /**
   * The operator's token (ADMIN_TOKEN, or one generated on the first start of an empty database,
   * returned then to print once), and the hourly pruning of history past its retention.
   */
  async start(): Promise<{ generatedAdminToken?: string }> {
    const { store, options } = this.deps;
    const result: { generatedAdminToken?: string } = {};
    if (options.adminToken) {
      this.operatorTokenHash = hashToken(options.adminToken);
    } else {
      const token = `op_${randomBytes(24).toString('base64url')}`;
      this.operatorTokenHash = await store.putSettingIfAbsent(OPERATOR_TOKEN_SETTING, hashToken(token));
      if (this.operatorTokenHash === hashToken(token)) {
        result.generatedAdminToken = token;
        this.deps.onGeneratedToken?.(token);
      }
    }
    await this.prune();
    this.pruning = every(3_600_000, () => this.prune(), this.deps.bus.onError);
    return result;
  }

  stop(): void {
    clearInterval(this.pruning);
  }

  async authenticateAdmin(token: unknown): Promise<Actor> {
    if (typeof token !== 'string' || token.length === 0) throw new SeatError(ErrorCode.Unauthorized, 'an admin token is required');
    if (token.length > MAX_ADMIN_TOKEN_LENGTH) {
      throw new SeatError(ErrorCode.Unauthorized, `the admin token is ${token.length} characters long; admin tokens are at most ${MAX_ADMIN_TOKEN_LENGTH}`);
    }
    const hash = hashToken(token);
    if (this.operatorTokenHash && timingSafeEqual(Buffer.from(hash), Buffer.from(this.operatorTokenHash))) {
      return { kind: 'operator' };
    }
    const tenant = await this.deps.store.findTenantByTokenHash(hash);
    if (!tenant) throw new SeatError(ErrorCode.Unauthorized, 'the admin token is not valid');
    return { kind: 'tenant', tenantId: tenant.id, tenantName: tenant.name };
  }

  async createTenant(actor: Actor, name: string): Promise<Tenant & { adminToken: string }> {
    if (actor.kind !== 'operator') throw new SeatError(ErrorCode.Forbidden, 'only the operator creates tenants');
    const adminToken = `tat_${randomBytes(24).toString('base64url')}`;
    const tenant = await this.deps.store.createTenant({ id: randomUUID(), name, createdAt: this.deps.now() }, hashToken(adminToken));
    await this.audit(actor, null, 'tenant.create', { tenantId: tenant.id, name }, tenant.id);
    return { ...tenant, adminToken };
  }

  async createLicense(actor: Actor, input: NewLicense): Promise<License> {
    const { store, options } = this.deps;
    let tenantId: string;
    const now = this.deps.now();
    // The operator's own licenses' tenant, made with the first of them (in its transaction).
    let operatorTenant: NewTenant | undefined;
    if (actor.kind === 'tenant') {
      if (input.tenantId !== undefined && input.tenantId !== actor.tenantId) {
        throw new SeatError(ErrorCode.Forbidden, 'a tenant admin creates licenses for its own tenant only');
      }
      tenantId = actor.tenantId;
    } else if (input.tenantId === undefined) {
      tenantId = OPERATOR_TENANT_ID;
      // With an admin token nobody holds: the operator manages it (a tenant token is had by creating a tenant).
      operatorTenant = { tenant: { id: OPERATOR_TENANT_ID, name: 'Operator', createdAt: now }, adminTokenHash: hashToken(randomBytes(32).toString('hex')) };
    } else if (await store.getTenant(input.tenantId)) {
      tenantId = input.tenantId;
    } else {
      throw new SeatError(ErrorCode.NotFound, `no tenant ${echoId(input.tenantId)}`);
    }
    const license: License = {
      id: input.id ?? `lic_${randomBytes(9).toString('base64url')}`,
      tenantId,
      name: input.name ?? input.id ?? 'License',
      seats: input.seats,
      seatCap: input.seatCap ?? null,
      seatKey: input.seatKey ?? ['session'],
      idleTimeoutSec: input.idleTimeoutSec ?? options.defaultIdleTimeoutSec,
      status: input.status ?? LicenseStatus.Active,
      deniedMessage: input.deniedMessage ?? DEFAULT_DENIED_MESSAGE,
      maxActivations: input.maxActivations ?? POLICY_DEFAULTS.maxActivations,
      inactivityTimeoutSec: input.inactivityTimeoutSec ?? POLICY_DEFAULTS.inactivityTimeoutSec,
      inactivityWarningSec: input.inactivityWarningSec ?? POLICY_DEFAULTS.inactivityWarningSec,
      leaseIntervalSec: input.leaseIntervalSec ?? POLICY_DEFAULTS.leaseIntervalSec,
      offlineGraceSec: input.offlineGraceSec ?? POLICY_DEFAULTS.offlineGraceSec,
      overage: input.overage ?? POLICY_DEFAULTS.overage,
      queue: input.queue ?? POLICY_DEFAULTS.queue,
      reservations: input.reservations ?? [],
      groupLimits: input.groupLimits ?? [],
      secret: randomBytes(32).toString('base64url'),
      seatsInUse: 0,
      createdAt: now,
      updatedAt: now,
    };
    this.checkLimits(license);
    try {
      await store.createLicense(license, now - options.denialRetentionDays * 86_400_000, operatorTenant);
    } catch (err) {
      if (err instanceof StoreConflictError) {
        const why = err.reason === 'deleted' ? 'was a deleted license, whose history is kept for DENIAL_RETENTION_DAYS: choose another id' : 'exists';
        throw new SeatError(ErrorCode.Conflict, `a license ${echoId(license.id)} ${why}`, { cause: err });
      }
      throw err;
    }
    this.deps.bus.publish({ type: 'license.changed', license, seatsInUse: 0 });
    await this.audit(actor, license, 'license.create', { seats: license.seats, seatKey: license.seatKey });
    return license;
  }

  /** Changes a license. Sessions it no longer admits (suspended, seats lowered) end in the same transaction. */
  async updateLicense(actor: Actor, id: string, patchWithTenant: LicensePatch & { tenantId?: string }): Promise<License> {
    const { store, bus, auth } = this.deps;
    const { tenantId, ...patch } = patchWithTenant;
    const current = mayTouch(actor, id, await store.getLicense(id));
    this.checkLimits({ ...current, ...patch }, patch);
    const moving = tenantId !== undefined && tenantId !== current.tenantId;
    if (moving) await this.moveLicense(actor, current, tenantId);
    // Only the move: nothing more to change.
    if (Object.keys(patch).length === 0) return (await store.getLicense(id)) ?? current;
    const result = await store.updateLicense(id, patch, this.deps.now());
    if (!result) throw new SeatError(ErrorCode.NotFound, `no license ${echoId(id)}`);
    auth.forget(id);
    for (const e of result.ended) bus.publish(endedEvent(e));
    bus.publish({ type: 'license.changed', license: result.license, seatsInUse: result.license.seatsInUse });
    // `before`: what the patched fields were, so the audit log can say "from … to …".
    const before = Object.fromEntries(Object.keys(patch).map((k) => [k, current[k as keyof LicensePatch] ?? null]));
    await this.audit(actor, result.license, 'license.update', { ...patch, before, endedSessions: result.ended.length });
    return result.license;
  }

  /**
   * Moves a license to another tenant: the operator only (a tenant admin naming another tenant is
   * 403), to a tenant that exists (404), while the license holds no session and nobody waits in
   * its queue (409, saying what to end first). The old tenant's dashboards drop its card and its
   * log says where it went (`license.move`); the new tenant's log has it as an update of
   * `tenantId` (`license.update`, which its webhooks hear as `license.changed`).
   */
  private async moveLicense(actor: Actor, current: License, to: string): Promise<void> {
    const { store, bus, auth } = this.deps;
    onlyOperatorMoves(actor);
    if (!(await store.getTenant(to))) throw new SeatError(ErrorCode.NotFound, `no tenant ${echoId(to)}`);
    const moved = await store.moveLicense(current.id, to, this.deps.now());
    if (!moved) throw new SeatError(ErrorCode.NotFound, `no license ${echoId(current.id)}`);
    if ('conflict' in moved) throw new SeatError(ErrorCode.Conflict, `license ${echoId(current.id)} cannot move to tenant ${echoId(to)} now: ${moved.conflict}`);
    auth.forget(current.id);
    const { license, from } = moved;
    if (from === to) return;
    await this.audit(actor, { ...license, tenantId: from }, 'license.move', { from, to }, from);
    bus.publish({ type: 'license.changed', license, seatsInUse: license.seatsInUse });
    await this.audit(actor, license, 'license.update', { tenantId: to, before: { tenantId: from }, endedSessions: 0 });
  }

  /** Gives the tenant a new admin token (the operator only); the old one fails at once. Returned once. */
  async rotateTenantToken(actor: Actor, tenantId: string): Promise<string> {
    if (actor.kind !== 'operator') throw new SeatError(ErrorCode.Forbidden, "only the operator rotates a tenant's admin token");
    const adminToken = `tat_${randomBytes(24).toString('base64url')}`;
    if (!(await this.deps.store.rotateTenantToken(tenantId, hashToken(adminToken)))) throw new SeatError(ErrorCode.NotFound, `no tenant ${echoId(tenantId)}`);
    await this.audit(actor, null, 'tenant.token-rotate', { tenantId }, tenantId);
    return adminToken;
  }

  /**
   * Gives the license a new secret, returned once; tokens signed with the old one still verify
   * for `graceSec` (0: not at all), so portals can roll over.
   */
  async rotateLicenseSecret(actor: Actor, id: string, graceSec: number): Promise<{ license: License; previousSecretValidUntil: number }> {
    mayTouch(actor, id, await this.deps.store.getLicense(id));
    const now = this.deps.now();
    const until = now + graceSec * 1000;
    const license = await this.deps.store.rotateSecret(id, randomBytes(32).toString('base64url'), until, now);
    if (!license) throw new SeatError(ErrorCode.NotFound, `no license ${echoId(id)}`);
    this.deps.auth.forget(id);
    await this.audit(actor, license, 'license.secret-rotate', { graceSec, previousSecretValidUntil: new Date(until).toISOString() });
    return { license, previousSecretValidUntil: until };
  }

  /** Deletes a license: its sessions end (`license_deleted`, every socket told) in the same transaction. */
  async deleteLicense(actor: Actor, id: string): Promise<{ license: License; ended: EndedSession[] }> {
    const { store, bus, auth } = this.deps;
    mayTouch(actor, id, await store.getLicense(id));
    const result = await store.deleteLicense(id, this.deps.now());
    if (!result) throw new SeatError(ErrorCode.NotFound, `no license ${echoId(id)}`);
    auth.forget(id);
    for (const e of result.ended) bus.publish(endedEvent(e));
    // Its queue went with it: the waiting sockets are told too (they hold no session to end).
    bus.publish({ type: 'queue.closed', license: result.license, reason: EndReason.LicenseDeleted, message: END_MESSAGE.license_deleted });
    // Its name and settings, so the log still says what was deleted; the dashboards drop its card on this entry.
    const { name, seats, seatKey, tenantId } = result.license;
    await this.audit(actor, result.license, 'license.delete', { name, seats, seatKey, tenantId, endedSessions: result.ended.length });
    return result;
  }

  /**
   * Which sessions the patch would end, and why, if it were applied now; changes nothing. The
   * PATCH runs the same decision (decisions/license-change.ts) on the same rows, under the lock.
   */
  async preview(actor: Actor, id: string, patchWithTenant: LicensePatch & { tenantId?: string }): Promise<Array<{ session: Session; reason: EndReason }>> {
    const { store } = this.deps;
    const { tenantId, ...patch } = patchWithTenant;
    const current = mayTouch(actor, id, await store.getLicense(id));
    // A move ends no session: it is the operator's alone, to a tenant that exists, and refused
    // while any session is held or anyone waits: answered as the PATCH would. A new seat key ends
    // none either (the sessions take it).
    const moving = tenantId !== undefined && tenantId !== current.tenantId;
    if (moving) {
      onlyOperatorMoves(actor);
      if (!(await store.getTenant(tenantId))) throw new SeatError(ErrorCode.NotFound, `no tenant ${echoId(tenantId)}`);
    }
    const changed = { ...current, ...patch };
    this.checkLimits(changed, patch);
    // The sessions are read where the answer needs them: a move's check, or a change that may end some.
    const live = moving || mayEndSessions(changed) ? await store.listSessions(id) : [];
    if (moving) {
      const busy = whyNotEmpty(live.length, live.length === 0 && (await store.queuePlaces(id)).length > 0, 'move it');
      if (busy) throw new SeatError(ErrorCode.Conflict, `license ${echoId(id)} cannot move to tenant ${echoId(tenantId)} now: ${busy}`);
    }
    if (!mayEndSessions(changed)) return [];
    return sessionsToEnd(changed, live);
  }

  async audit(
    actor: Actor,
    license: License | null,
    action: string,
    detail: Record<string, unknown>,
    tenantId: string | null = license?.tenantId ?? null,
  ): Promise<AuditEntry> {
    const entry = await this.deps.store.addAudit({
      at: this.deps.now(),
      tenantId,
      licenseId: license?.id ?? null,
      actor: actor.kind === 'operator' ? 'operator' : `tenant-admin:${actor.tenantName}`,
      action,
      detail,
    });
    this.deps.bus.publish({ type: 'audit', entry });
    return entry;
  }

  /**
   * `sent`: a change's fields (none: a new license, all checked). The timeouts' bounds
   * (IDLE_TIMEOUT_*, INACTIVITY_TIMEOUT_*) hold for the values sent: a license made before the
   * operator narrowed them keeps its timeout, and can still be renamed, suspended or resized.
   */
  private checkLimits(l: Pick<License, 'seats' | 'seatCap' | 'idleTimeoutSec' | 'inactivityTimeoutSec' | 'reservations' | 'groupLimits'>, sent?: LicensePatch): void {
    const problem = poolProblem(l);
    if (problem?.field === 'reservations' && sent && sent.seats !== undefined && sent.reservations === undefined) {
      // Named as sent, as a lowered seatCap is: seats alone went below what the reservations hold.
      const reserved = reservedSeats(l);
      throw new SeatError(ErrorCode.OutOfRange, `seats (${l.seats}) is below the ${seatCount(reserved)} the reservations hold; lower the reservations first, or with it`, {
        details: { field: 'seats', min: reserved },
      });
    }
    if (problem) throw new SeatError(ErrorCode.OutOfRange, problem.message, { details: { field: problem.field } });
    const { idleTimeoutMinSec, idleTimeoutMaxSec, inactivityTimeoutMinSec, inactivityTimeoutMaxSec } = this.deps.options;
    const within = (field: 'idleTimeoutSec' | 'inactivityTimeoutSec', min: number, max: number) => {
      const value = l[field];
      if (value === null || (sent && sent[field] === undefined) || (value >= min && value <= max)) return;
      throw new SeatError(ErrorCode.OutOfRange, `${field} ${boundsPhrase(field, min, max)}`, { details: { field, min, max } });
    };
    within('idleTimeoutSec', idleTimeoutMinSec, idleTimeoutMaxSec);
    within('inactivityTimeoutSec', inactivityTimeoutMinSec, inactivityTimeoutMaxSec);
    if (l.seatCap !== null && l.seats > l.seatCap) {
      // Named as sent: a lowered seatCap is the field at fault, unless seats came with it.
      if (sent && sent.seatCap !== undefined && sent.seats === undefined) {
        throw new SeatError(ErrorCode.OutOfRange, `seatCap (${l.seatCap}) is below the license's seats (${l.seats}); lower seats first, or with it`, {
          details: { field: 'seatCap', min: l.seats },
        });
      }
      throw new SeatError(ErrorCode.OutOfRange, `seats (${l.seats}) is above the plan's seatCap (${l.seatCap})`, {
        details: { field: 'seats', max: l.seatCap },
      });
    }
  }

  private async prune(): Promise<void> {
    await this.deps.store.pruneHistory(this.deps.now() - this.deps.options.denialRetentionDays * 86_400_000);
  }
}
