// The engine: every seat decision (admit, resume, deny, idle, release, kick, end) and the
// license administration that can end sessions. It knows nothing of express or socket.io.
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import {
  AuthErrorCode,
  DEFAULT_DENIED_MESSAGE,
  DenyReason,
  echoId,
  EndReason,
  ErrorCode,
  LicenseStatus,
  type SeatDeniedPayload,
  type SeatGrantedPayload,
  type SeatKey,
} from '../../shared';
import type { SeatServerConfig } from '../config';
import { EventBus } from './event-bus';
import type { DomainEvent, SeatHooks } from './hooks';
import { DENY_MESSAGE, END_MESSAGE } from './messages';
import { missingClaimMessage } from './decisions/seat-key';
import { SeatError } from './seat-error';
import { type SeatStore, StoreConflictError } from './seat-store';
import { StoreTrouble, TokenAuth } from './token-auth';
import type { VerifiedToken } from './token-verifier';
import type { AuditEntry, EndedSession, License, LicensePatch, Session, Tenant } from './types';

export type Actor = { kind: 'operator' } | { kind: 'tenant'; tenantId: string; tenantName: string };

export type AdmitResult =
  | { granted: SeatGrantedPayload; session: Session; license: License }
  | { denied: SeatDeniedPayload; license: License };

export interface EngineOptions {
  store: SeatStore;
  config: SeatServerConfig;
  hooks?: SeatHooks;
  /** The engine's clock; tests may pass their own. */
  now?: () => number;
  onHookError?: (hook: string, err: unknown) => void;
}

export interface NewLicense {
  id?: string;
  name?: string;
  seats: number;
  seatCap?: number | null;
  seatKey?: SeatKey;
  idleTimeoutSec?: number;
  status?: LicenseStatus;
  deniedMessage?: string;
  tenantId?: string;
}

const OPERATOR_TOKEN_SETTING = 'operator_token_sha256';
const OPERATOR_TENANT_ID = 'operator';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export class SeatEngine {
  readonly store: SeatStore;
  readonly config: SeatServerConfig;
  private readonly bus: EventBus;
  private readonly trouble: StoreTrouble;
  private readonly auth: TokenAuth;
  private readonly now: () => number;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly expiring = new Map<string, { again: boolean; done: Promise<void> }>();
  private readonly intervals: NodeJS.Timeout[] = [];
  private readonly onHookError: (hook: string, err: unknown) => void;
  private operatorTokenHash: string | undefined;
  private stopped = false;
  /** Until then this node declares no other node dead: they too need a beat after a store outage. */
  private reapNotBefore = 0;
  private lastBeatFailed = false;
  /** Sockets whose disconnect could not reach the store (an outage); retried with the heartbeat. */
  private readonly pendingDetach = new Set<string>();
  private localSessions?: {
    list: () => Iterable<string>;
    onEnded: (ended: { sessionId: string; reason: EndReason; message: string }) => void;
    onDeclaredDead?: () => void;
  };

  constructor(opts: EngineOptions) {
    this.store = opts.store;
    this.config = opts.config;
    this.now = opts.now ?? Date.now;
    this.onHookError = opts.onHookError ?? (() => {});
    this.bus = new EventBus(opts.hooks, this.onHookError);
    this.trouble = new StoreTrouble(this.now);
    this.auth = new TokenAuth({ store: this.store, options: this.config, trouble: this.trouble, now: this.now });
  }

  // ---- life cycle ----

  /**
   * Brings the node up: operator token, this node's heartbeat, release of connections left by
   * dead nodes (or by this node's past life), timers for idle seats, and the periodic work.
   * Returns the operator token when it was generated now (to print once).
   */
  async start(): Promise<{ generatedAdminToken?: string }> {
    const result: { generatedAdminToken?: string } = {};
    if (this.config.adminToken) {
      this.operatorTokenHash = hashToken(this.config.adminToken);
    } else {
      const token = `op_${randomBytes(24).toString('base64url')}`;
      this.operatorTokenHash = await this.store.putSettingIfAbsent(OPERATOR_TOKEN_SETTING, hashToken(token));
      if (this.operatorTokenHash === hashToken(token)) result.generatedAdminToken = token;
    }

    const now = this.now();
    if (this.config.stableNodeId) this.publishReleased(await this.store.releaseNode(this.config.nodeId, now));
    await this.store.heartbeat(this.config.nodeId, now);
    // Without Redis there is one node: every connection row in the store is from a past life.
    await this.reap(!this.config.redisUrl);
    for (const s of await this.store.listExpiring(Number.MAX_SAFE_INTEGER)) this.schedule(s.id, s.expiresAt, s.licenseId);
    await this.sweep();
    await this.prune();

    const every = (ms: number, fn: () => Promise<unknown>) => {
      const t = setInterval(() => void fn().catch((err) => this.onHookError('periodic', err)), ms);
      t.unref();
      this.intervals.push(t);
    };
    every(this.config.sweepIntervalMs, () => this.sweep());
    every(this.config.heartbeatIntervalMs, async () => {
      try {
        // Our row gone: another node took this one for dead and let go of its sockets' rows.
        // Those sockets must reconnect (and resume) to be counted again.
        if (!(await this.trouble.watch(this.store.heartbeat(this.config.nodeId, this.now())))) this.localSessions?.onDeclaredDead?.();
      } catch (err) {
        this.lastBeatFailed = true;
        throw err;
      }
      // Back from a store outage: the other nodes could not beat either, so give them a full
      // node timeout to do so before taking any of them for dead.
      if (this.lastBeatFailed) this.reapNotBefore = this.now() + this.config.nodeTimeoutMs;
      this.lastBeatFailed = false;
      for (const socketId of [...this.pendingDetach]) await this.detach(socketId);
      if (this.now() >= this.reapNotBefore) await this.reap(false);
      await this.reconcileLocal();
    });
    every(3_600_000, () => this.prune());
    return result;
  }

  /** Stops timers. With `release`, this node's sockets are let go so their sessions go idle. */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    this.stopped = true;
    for (const t of this.intervals) clearInterval(t);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    if (opts.release) this.publishReleased(await this.store.releaseNode(this.config.nodeId, this.now()));
  }

  /**
   * The transport's own sockets' sessions. With many nodes, an ending decided on another node
   * reaches them through Redis; one that Redis lost (an outage) is found here on the next beat.
   */
  watchLocalSessions(
    list: () => Iterable<string>,
    onEnded: (ended: { sessionId: string; reason: EndReason; message: string }) => void,
    onDeclaredDead?: () => void,
  ): void {
    this.localSessions = { list, onEnded, onDeclaredDead };
  }

  private async reconcileLocal(): Promise<void> {
    if (!this.localSessions || !this.config.redisUrl) return;
    const ids = [...new Set(this.localSessions.list())];
    for (let i = 0; i < ids.length; i += 500) {
      for (const e of await this.store.endedAmong(ids.slice(i, i + 500))) {
        this.localSessions.onEnded({ ...e, message: END_MESSAGE[e.reason] });
      }
    }
  }

  subscribe(listener: (e: DomainEvent) => void): () => void {
    return this.bus.subscribe(listener);
  }

  // ---- admission ----

  authenticate(token: unknown): Promise<VerifiedToken> {
    return this.auth.authenticate(token);
  }

  async admit(auth: VerifiedToken, socketId: string): Promise<AdmitResult> {
    const { license, claims, claimant } = auth;
    const decision = await this.bus.admission({ license, claims, socketId });
    const now = this.now();
    if (decision && 'deny' in decision) {
      const denial = {
        licenseId: license.id,
        at: now,
        reason: DenyReason.DeniedByApp,
        sessionRef: claimant.sessionRef,
        userId: claimant.userId,
        deviceId: claimant.deviceId,
        instanceId: claimant.instanceId,
      };
      const seatsInUse = await this.store.recordDenial(denial);
      this.publish({ type: 'denied', license, denial, message: decision.deny, seatsInUse });
      return { denied: { reason: denial.reason, message: decision.deny, seatsInUse, seats: license.seats }, license };
    }

    // The store applies the seat key the license has in its transaction, whatever the token was checked against.
    const outcome = await this.trouble.watch(
      this.store.admit({ licenseId: license.id, socketId, nodeId: this.config.nodeId, claimant, now }),
    );
    if (outcome.kind === 'license_not_found') {
      throw new SeatError(AuthErrorCode.LicenseNotFound, `no license ${echoId(license.id)}`);
    }
    if (outcome.kind === 'missing_claim') throw new SeatError(AuthErrorCode.MissingClaim, missingClaimMessage(outcome));
    this.publishEnded(outcome.expired);
    const current = outcome.license;
    if (outcome.kind === 'denied') {
      const reason = outcome.denial.reason;
      const message = reason === DenyReason.NoFreeSeats ? current.deniedMessage : DENY_MESSAGE[reason as keyof typeof DENY_MESSAGE];
      this.publish({ type: 'denied', license: current, denial: outcome.denial, message, seatsInUse: outcome.seatsInUse });
      return { denied: { reason, message, seatsInUse: outcome.seatsInUse, seats: current.seats }, license: current };
    }
    const { session, seatsInUse, resumed } = outcome;
    this.unschedule(session.id);
    this.publish({ type: resumed ? 'session.resumed' : 'session.started', license: current, session, seatsInUse });
    return {
      granted: {
        sessionId: session.id,
        licenseId: current.id,
        resumed,
        seatsInUse,
        seats: current.seats,
        idleTimeoutSec: current.idleTimeoutSec,
      },
      session,
      license: current,
    };
  }

  /** A socket went away. The session goes idle if it was the last one, and its seat is held. */
  async detach(socketId: string): Promise<void> {
    // A stopping node leaves its rows to releaseNode (graceful) or to its next life (crash).
    if (this.stopped) return;
    let outcome;
    try {
      outcome = await this.store.detach(socketId, this.now());
      this.pendingDetach.delete(socketId);
    } catch (err) {
      // Left in the store, the row would hold the seat as long as this node lives.
      this.pendingDetach.add(socketId);
      throw err;
    }
    if (!outcome) return;
    if (outcome.session.state === 'idle' && outcome.session.expiresAt !== null) {
      this.schedule(outcome.session.id, outcome.session.expiresAt, outcome.session.licenseId);
      this.publish({ type: 'session.idle', ...outcome });
    } else {
      this.publish({ type: 'session.detached', ...outcome });
    }
  }

  // ---- ending seats ----

  /** Ends a live session now: the app's own logic (`ended_by_app`) or any other reason. */
  async endSession(sessionId: string, reason: EndReason = EndReason.EndedByApp, message?: string): Promise<EndedSession | undefined> {
    const ended = await this.store.endSession(sessionId, reason, this.now());
    if (ended) this.publishEnded([ended], message);
    return ended;
  }

  /** An admin frees a seat: the session ends with `kicked` and its seat key cools down. */
  async kick(actor: Actor, sessionId: string, message?: string): Promise<EndedSession> {
    const session = await this.store.getSession(sessionId);
    if (!session) throw new SeatError(ErrorCode.NotFound, `no live session ${echoId(sessionId)}`);
    await this.licenseFor(actor, session.licenseId);
    const now = this.now();
    const ended = await this.store.endSession(sessionId, EndReason.Kicked, now, now + this.config.kickCooldownSec * 1000);
    if (!ended) throw new SeatError(ErrorCode.NotFound, `no live session ${echoId(sessionId)}`);
    this.publishEnded([ended], message);
    await this.audit(actor, ended.license, 'session.kick', {
      sessionId,
      userId: ended.session.userId,
      name: ended.session.name,
      message: message ?? null,
    });
    return ended;
  }

  // ---- administration ----

  async authenticateAdmin(token: unknown): Promise<Actor> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 512) {
      throw new SeatError(ErrorCode.Unauthorized, 'an admin token is required');
    }
    const hash = hashToken(token);
    if (this.operatorTokenHash && timingSafeEqual(Buffer.from(hash), Buffer.from(this.operatorTokenHash))) {
      return { kind: 'operator' };
    }
    const tenant = await this.store.findTenantByTokenHash(hash);
    if (!tenant) throw new SeatError(ErrorCode.Unauthorized, 'the admin token is not valid');
    return { kind: 'tenant', tenantId: tenant.id, tenantName: tenant.name };
  }

  async createTenant(actor: Actor, name: string): Promise<Tenant & { adminToken: string }> {
    if (actor.kind !== 'operator') throw new SeatError(ErrorCode.Forbidden, 'only the operator creates tenants');
    const adminToken = `tat_${randomBytes(24).toString('base64url')}`;
    const tenant = await this.store.createTenant({ id: randomUUID(), name, createdAt: this.now() }, hashToken(adminToken));
    await this.audit(actor, null, 'tenant.create', { tenantId: tenant.id, name }, tenant.id);
    return { ...tenant, adminToken };
  }

  async createLicense(actor: Actor, input: NewLicense): Promise<License> {
    let tenantId: string;
    if (actor.kind === 'tenant') {
      if (input.tenantId !== undefined && input.tenantId !== actor.tenantId) {
        throw new SeatError(ErrorCode.Forbidden, 'a tenant admin creates licenses for its own tenant only');
      }
      tenantId = actor.tenantId;
    } else {
      if (input.tenantId === undefined) tenantId = (await this.operatorTenant()).id;
      else if (await this.store.getTenant(input.tenantId)) tenantId = input.tenantId;
      else throw new SeatError(ErrorCode.NotFound, `no tenant ${echoId(input.tenantId)}`);
    }
    const now = this.now();
    const license: License = {
      id: input.id ?? `lic_${randomBytes(9).toString('base64url')}`,
      tenantId,
      name: input.name ?? input.id ?? 'License',
      seats: input.seats,
      seatCap: input.seatCap ?? null,
      seatKey: input.seatKey ?? ['session'],
      idleTimeoutSec: input.idleTimeoutSec ?? this.config.defaultIdleTimeoutSec,
      status: input.status ?? LicenseStatus.Active,
      deniedMessage: input.deniedMessage ?? DEFAULT_DENIED_MESSAGE,
      secret: randomBytes(32).toString('base64url'),
      seatsInUse: 0,
      createdAt: now,
      updatedAt: now,
    };
    this.checkLimits(license);
    try {
      await this.store.createLicense(license);
    } catch (err) {
      if (err instanceof StoreConflictError) throw new SeatError(ErrorCode.Conflict, `a license ${echoId(license.id)} exists`, { cause: err });
      throw err;
    }
    this.publish({ type: 'license.changed', license, seatsInUse: 0 });
    await this.audit(actor, license, 'license.create', { seats: license.seats, seatKey: license.seatKey });
    return license;
  }

  async updateLicense(actor: Actor, id: string, patch: LicensePatch): Promise<License> {
    const current = await this.licenseFor(actor, id);
    this.checkLimits({ ...current, ...patch });
    const result = await this.store.updateLicense(id, patch, this.now());
    if (!result) throw new SeatError(ErrorCode.NotFound, `no license ${echoId(id)}`);
    this.auth.forget(id);
    this.publishEnded(result.ended);
    this.publish({ type: 'license.changed', license: result.license, seatsInUse: result.license.seatsInUse });
    await this.audit(actor, result.license, 'license.update', { ...patch, endedSessions: result.ended.length });
    return result.license;
  }

  /**
   * The tenant of licenses the operator creates without naming one: made on first use, with an
   * admin token nobody holds (the operator manages it; a tenant token can be issued by creating a tenant).
   */
  private async operatorTenant(): Promise<Tenant> {
    const existing = await this.store.getTenant(OPERATOR_TENANT_ID);
    if (existing) return existing;
    const tenant = { id: OPERATOR_TENANT_ID, name: 'Operator', createdAt: this.now() };
    try {
      return await this.store.createTenant(tenant, hashToken(randomBytes(32).toString('hex')));
    } catch (err) {
      // Another node made it at the same moment.
      const made = await this.store.getTenant(OPERATOR_TENANT_ID);
      if (made) return made;
      throw err;
    }
  }

  /** The license if the actor may see it: 404 when there is none, 403 when it is another tenant's. */
  async licenseFor(actor: Actor, id: string): Promise<License> {
    const license = await this.store.getLicense(id);
    if (!license) throw new SeatError(ErrorCode.NotFound, `no license ${echoId(id)}`);
    if (actor.kind === 'tenant' && license.tenantId !== actor.tenantId) {
      throw new SeatError(ErrorCode.Forbidden, 'this license belongs to another tenant');
    }
    return license;
  }

  async listLicenses(actor: Actor): Promise<License[]> {
    return this.store.listLicenses(actor.kind === 'tenant' ? actor.tenantId : undefined);
  }

  private checkLimits(l: Pick<License, 'seats' | 'seatCap' | 'idleTimeoutSec'>): void {
    const { idleTimeoutMinSec: min, idleTimeoutMaxSec: max } = this.config;
    if (l.idleTimeoutSec < min || l.idleTimeoutSec > max) {
      throw new SeatError(ErrorCode.OutOfRange, `idleTimeoutSec must be between ${min} and ${max} seconds`, {
        details: { field: 'idleTimeoutSec', min, max },
      });
    }
    if (l.seatCap !== null && l.seats > l.seatCap) {
      throw new SeatError(ErrorCode.OutOfRange, `seats (${l.seats}) is above the plan's seatCap (${l.seatCap})`, {
        details: { field: 'seats', max: l.seatCap },
      });
    }
  }

  private async audit(
    actor: Actor,
    license: License | null,
    action: string,
    detail: Record<string, unknown>,
    tenantId: string | null = license?.tenantId ?? null,
  ): Promise<AuditEntry> {
    const entry = await this.store.addAudit({
      at: this.now(),
      tenantId,
      licenseId: license?.id ?? null,
      actor: actor.kind === 'operator' ? 'operator' : `tenant-admin:${actor.tenantName}`,
      action,
      detail,
    });
    this.publish({ type: 'audit', entry });
    return entry;
  }

  // ---- timers and periodic work ----

  private schedule(sessionId: string, expiresAt: number, licenseId: string): void {
    if (this.stopped) return;
    this.unschedule(sessionId);
    const fire = () => {
      this.timers.delete(sessionId);
      // setTimeout may fire a hair before the deadline; the release is conditional on it.
      const early = expiresAt - this.now();
      if (early > 0) return this.schedule(sessionId, expiresAt, licenseId);
      this.expireDue(licenseId);
    };
    const t = setTimeout(fire, Math.max(0, expiresAt - this.now()));
    t.unref();
    this.timers.set(sessionId, t);
  }

  private unschedule(sessionId: string): void {
    const t = this.timers.get(sessionId);
    if (t) clearTimeout(t);
    this.timers.delete(sessionId);
  }

  /**
   * Releases every idle seat of the license past its deadline in one transaction. Timers of many
   * seats falling due together (a mass disconnect an idle timeout ago) share one pass: a call
   * while a pass runs asks for one more pass after it.
   */
  private expireDue(licenseId: string): Promise<void> {
    const running = this.expiring.get(licenseId);
    if (running) {
      running.again = true;
      return running.done;
    }
    const entry = { again: false, done: Promise.resolve() };
    this.expiring.set(licenseId, entry);
    entry.done = (async () => {
      do {
        entry.again = false;
        try {
          this.publishEnded(await this.store.expireLicense(licenseId, this.now()));
        } catch (err) {
          this.onHookError('expire', err);
        }
      } while (entry.again && !this.stopped);
      this.expiring.delete(licenseId);
    })();
    return entry.done;
  }

  /** Backstop for timers lost to a restart or held by a dead node. */
  private async sweep(): Promise<void> {
    const due = await this.store.listExpiring(this.now());
    await Promise.all([...new Set(due.map((s) => s.licenseId))].map((id) => this.expireDue(id)));
  }

  private async reap(allOthers: boolean): Promise<void> {
    const now = this.now();
    const released = await this.store.reapNodes({
      deadBefore: now - this.config.nodeTimeoutMs,
      now,
      keep: this.config.nodeId,
      allOthers,
    });
    this.publishReleased(released);
  }

  private async prune(): Promise<void> {
    await this.store.pruneHistory(this.now() - this.config.denialRetentionDays * 86_400_000);
  }

  // ---- events ----

  private publishReleased(outcomes: Awaited<ReturnType<SeatStore['releaseNode']>>): void {
    for (const o of outcomes) {
      if (o.session.expiresAt !== null) this.schedule(o.session.id, o.session.expiresAt, o.session.licenseId);
      this.publish({ type: 'session.idle', ...o });
    }
  }

  private publishEnded(ended: EndedSession[], message?: string): void {
    for (const e of ended) {
      this.unschedule(e.session.id);
      this.publish({
        type: 'session.ended',
        license: e.license,
        session: e.session,
        reason: e.reason,
        message: message ?? END_MESSAGE[e.reason],
        seatsInUse: e.seatsInUse,
      });
    }
  }

  private publish(event: DomainEvent): void {
    this.bus.publish(event);
  }
}
