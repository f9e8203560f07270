// The engine: every seat decision (admit, resume, deny, idle, release, kick, end) and the timers
// that release idle seats on time. It knows nothing of express or socket.io.
import { AuthErrorCode, DenyReason, echoId, EndReason, ErrorCode, type SeatDeniedPayload, type SeatGrantedPayload } from '../../shared';
import type { SeatServerConfig } from '../config';
import { type Actor, mayTouch, otherTenant, tenantScope } from './actor';
import type { Administration } from './administration';
import type { EventBus } from './event-bus';
import type { DomainEvent } from './hooks';
import { DENY_MESSAGE, endedEvent } from './messages';
import { ACTIVATION_CLAIM_MESSAGE } from './decisions/activation';
import { missingClaimMessage } from './decisions/seat-key';
import { Deadlines } from './deadlines';
import { every } from './periodic';
import { SeatError } from './seat-error';
import { OTHER_TENANT, type SeatStore } from './seat-store';
import type { StoreTrouble } from './token-auth';
import type { VerifiedToken } from './token-verifier';
import { claimantIds, type Denial, type EndedSession, type License, type QueuePlace, type Session } from './types';

export type AdmitResult =
  | { granted: SeatGrantedPayload; session: Session; license: License }
  | { denied: SeatDeniedPayload; license: License }
  | { queued: QueuePlace; license: License };

export type EngineOptions = Pick<SeatServerConfig, 'nodeId' | 'kickCooldownSec' | 'sweepIntervalMs'>;

export interface SeatEngineDeps {
  store: SeatStore;
  bus: EventBus;
  trouble: StoreTrouble;
  /** A kick is audited as the admin's. */
  admin: Pick<Administration, 'audit'>;
  options: EngineOptions;
  now: () => number;
}

export class SeatEngine {
  private readonly store: SeatStore;
  private readonly bus: EventBus;
  private readonly now: () => number;
  /** The idle seats' deadlines, each released by its license's pass (`expireDue`). */
  private readonly deadlines: Deadlines;
  private readonly expiring = new Map<string, { again: boolean; done: Promise<void> }>();
  private sweeping?: NodeJS.Timeout;
  private stopped = false;
  /** Sockets whose disconnect could not reach the store (an outage); node liveness retries them. */
  private readonly undetached = new Set<string>();
  readonly pendingDetaches: ReadonlySet<string> = this.undetached;

  constructor(private readonly deps: SeatEngineDeps) {
    this.store = deps.store;
    this.bus = deps.bus;
    this.now = deps.now;
    this.deadlines = new Deadlines(deps.now, (licenseId) => void this.expireDue(licenseId));
    // The timers follow the event stream, whoever idled or ended the session (node liveness and
    // administration publish theirs there too).
    this.bus.subscribe((e) => {
      if (e.type === 'session.idle') {
        if (e.session.expiresAt !== null) this.schedule(e.session.id, e.session.expiresAt, e.session.licenseId);
      } else if (e.type === 'session.started' || e.type === 'session.resumed' || e.type === 'session.ended') {
        this.unschedule(e.session.id);
      }
    });
  }

  /** Timers for the idle seats in the store, a sweep now, and one every SWEEP_INTERVAL_MS. */
  async start(): Promise<void> {
    for (const s of await this.store.listExpiring(Number.MAX_SAFE_INTEGER)) this.schedule(s.id, s.expiresAt, s.licenseId);
    await this.sweep();
    this.sweeping = every(this.deps.options.sweepIntervalMs, () => this.sweep(), this.bus.onError);
  }

  /** Stops the timers; a stopping node leaves its rows to node liveness (graceful) or to its next life. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.sweeping);
    this.deadlines.stop();
  }

  subscribe(listener: (e: DomainEvent) => void): () => void {
    return this.bus.subscribe(listener);
  }

  // ---- admission ----

  /**
   * `renewBy`: an HTTP lease's deadline (server/seats/leases.ts); a socket has none. `queue`: wait
   * in the license's queue rather than be denied when no seat fits (seat-queue.ts).
   */
  async admit(auth: VerifiedToken, socketId: string, renewBy?: number, queue?: boolean): Promise<AdmitResult> {
    const { license, claims, claimant } = auth;
    const decision = this.bus.decidesAdmissions ? await this.bus.admission({ license, claims, socketId }) : undefined;
    const now = this.now();
    if (decision && 'deny' in decision) {
      const denial: Denial = { licenseId: license.id, at: now, reason: DenyReason.DeniedByApp, ...claimantIds(claimant) };
      const seatsInUse = await this.store.recordDenial(denial);
      this.publish({ type: 'denied', license, denial, message: decision.deny, seatsInUse });
      return { denied: { reason: denial.reason, message: decision.deny, seatsInUse, seats: license.seats }, license };
    }

    // The store applies the seat key the license has in its transaction, whatever the token was checked against.
    const outcome = await this.deps.trouble.watch(
      this.store.admit({ licenseId: license.id, socketId, nodeId: this.deps.options.nodeId, claimant, now, renewBy, queue }),
    );
    if (outcome.kind === 'license_not_found') {
      throw new SeatError(AuthErrorCode.LicenseNotFound, `no license ${echoId(license.id)}`);
    }
    if (outcome.kind === 'missing_claim') {
      throw new SeatError(AuthErrorCode.MissingClaim, outcome.activations ? ACTIVATION_CLAIM_MESSAGE : missingClaimMessage(outcome));
    }
    this.publishEnded(outcome.expired);
    const current = outcome.license;
    if (outcome.kind === 'denied') {
      const reason = outcome.denial.reason;
      const message = reason === DenyReason.NoFreeSeats ? current.deniedMessage : DENY_MESSAGE[reason as keyof typeof DENY_MESSAGE];
      this.publish({ type: 'denied', license: current, denial: outcome.denial, message, seatsInUse: outcome.seatsInUse });
      const retry = outcome.retryAfterSec ? { retryAfterSec: outcome.retryAfterSec } : {};
      return { denied: { reason, message, seatsInUse: outcome.seatsInUse, seats: current.seats, ...retry }, license: current };
    }
    if (outcome.kind === 'queued') {
      this.publish({ type: 'queue.changed', license: current });
      return { queued: { position: outcome.position, queueLength: outcome.queueLength }, license: current };
    }
    const { session, seatsInUse, resumed } = outcome;
    this.publish({ type: resumed ? 'session.resumed' : 'session.started', license: current, session, seatsInUse });
    // A connect is activity: it ended the session's pending inactivity warning.
    if (outcome.warningCleared) this.publish({ type: 'session.warning-cleared', license: current, session, seatsInUse });
    return {
      granted: {
        sessionId: session.id,
        licenseId: current.id,
        resumed,
        seatsInUse,
        seats: current.seats,
        idleTimeoutSec: current.idleTimeoutSec,
        overage: outcome.overage,
      },
      session,
      license: current,
    };
  }

  /**
   * A socket went away. The session goes idle if it was the last one, and its seat is held.
   * `licenseId`: the license it was admitted to, where known (sockets of one license leaving
   * together then share a transaction).
   */
  async detach(socketId: string, licenseId?: string): Promise<void> {
    // A stopping node leaves its rows to releaseNode (graceful) or to its next life (crash).
    if (this.stopped) return;
    let outcome;
    try {
      outcome = await this.store.detach(socketId, this.now(), licenseId);
      this.undetached.delete(socketId);
    } catch (err) {
      // Left in the store, the row would hold the seat as long as this node lives.
      this.undetached.add(socketId);
      throw err;
    }
    if (!outcome) return;
    const idle = outcome.session.state === 'idle' && outcome.session.expiresAt !== null;
    this.publish({ type: idle ? 'session.idle' : 'session.detached', ...outcome });
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
    // One round trip on PostgreSQL for either admin: a tenant admin's is checked against its
    // tenant in the ending's own transaction, under the license's lock.
    const now = this.now();
    const cooldownUntil = now + this.deps.options.kickCooldownSec * 1000;
    const ended = await this.store.endSession(sessionId, EndReason.Kicked, now, cooldownUntil, tenantScope(actor));
    if (ended === OTHER_TENANT) throw otherTenant();
    if (!ended) throw new SeatError(ErrorCode.NotFound, `no live session ${echoId(sessionId)}`);
    this.publishEnded([ended], message);
    await this.deps.admin.audit(actor, ended.license, 'session.kick', {
      sessionId,
      userId: ended.session.userId,
      name: ended.session.name,
      message: message ?? null,
    });
    return ended;
  }

  /**
   * An admin deactivates a device: its activation goes (free for another device) and its live
   * sessions end with `deactivated`, every socket told. 404 when the device is not activated.
   */
  async deactivate(actor: Actor, licenseId: string, deviceId: string): Promise<EndedSession[]> {
    mayTouch(actor, licenseId, await this.store.getLicense(licenseId));
    const result = await this.store.deactivate(licenseId, deviceId, this.now());
    if (!result) throw new SeatError(ErrorCode.NotFound, `device ${echoId(deviceId)} is not activated on license ${echoId(licenseId)}`);
    this.publishEnded(result.ended);
    await this.deps.admin.audit(actor, result.license, 'activation.deactivate', { deviceId, endedSessions: result.ended.length });
    return result.ended;
  }

  // ---- timers ----

  /** Releases what fell due, should a long turn of the event loop have kept the timer from firing. */
  checkDeadlines(): void {
    this.store.pump?.();
    this.deadlines.check();
  }

  private schedule(sessionId: string, expiresAt: number, licenseId: string): void {
    this.deadlines.set(sessionId, licenseId, expiresAt);
  }

  private unschedule(sessionId: string): void {
    this.deadlines.delete(sessionId);
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
          this.bus.onError('expire', err);
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

  // ---- events ----

  private publishEnded(ended: EndedSession[], message?: string): void {
    for (const e of ended) this.publish(endedEvent(e, message));
  }

  private publish(event: DomainEvent): void {
    this.bus.publish(event);
    // A seat move may end a long turn of the event loop (a mass disconnect's closes, read in one
    // poll phase): the seats that fell due meanwhile are released now, not after it (deadlines.ts).
    this.deadlines.check();
  }
}
