// HTTP leases (docs/contract.md 8.4): seats for apps without a socket. A lease is one more
// connection of a session, admitted by the engine exactly as a socket is (seat keys, weight,
// activations, denials, hooks, events), whose connection row carries a deadline instead of a node:
// a renewal moves it, a release lets go of it, and a lease not renewed in time lapses (its session
// idles for the idle timeout, as after a closed tab). Every node sweeps for lapsed leases.
import { randomUUID } from 'node:crypto';
import { AuthErrorCode, echoId, type EndReason, ErrorCode, type LeaseView, type SeatDeniedPayload } from '../../shared';
import type { SeatServerConfig } from '../config';
import type { EventBus } from './event-bus';
import { END_MESSAGE, endedEvent } from './messages';
import { every } from './periodic';
import type { SeatEngine } from './seat-engine';
import { SeatError } from './seat-error';
import type { SeatStore } from './seat-store';
import type { StoreTrouble, TokenAuth } from './token-auth';
import type { Claimant, DetachOutcome, EndedSession, License, Session } from './types';

// ---- the store's side (server/store/leases.ts) ----

/** Who asks for a lease: the token's license and claimant, and the node that answers. */
export interface LeaseClaim {
  licenseId: string;
  claimant: Claimant;
  nodeId: string;
}

export interface LeaseRecord {
  id: string;
  licenseId: string;
  sessionId: string;
  seatKeyValue: string;
  createdAt: number;
  renewBy: number;
}

type LeaseRefusal = { kind: 'not_found' } | { kind: 'forbidden'; why: string };

export type LeaseRenewOutcome =
  | LeaseRefusal
  /** The lease's session is gone: released for `reason` (`ended` when that aged out of the history). */
  | { kind: 'ended'; reason: EndReason }
  | {
      kind: 'renewed';
      /** The lease had lapsed and joined its still-held session again. */
      resumed: boolean;
      license: License;
      session: Session;
      seatsInUse: number;
      renewBy: number;
      /** An inactivity warning was pending: this renewal, being activity, ended it. */
      warningCleared: boolean;
    };

export type LeaseReleaseOutcome =
  | LeaseRefusal
  /** `ended`: it was the session's last connection; `detached`: others remain; neither: the session was gone already. */
  | { kind: 'released'; ended?: EndedSession; detached?: DetachOutcome };

// ---- the transports' side ----

/** A lease as POST and PUT answer it: the wire's `LeaseView`, with `renewBy` as epoch ms. */
export type LeaseGrant = Omit<LeaseView, 'renewBy'> & { renewBy: number };

export type AcquireResult = { granted: LeaseGrant } | { denied: SeatDeniedPayload };
export type RenewResult = { renewed: LeaseGrant } | { ended: { reason: EndReason; message: string } };

export type LeaseOptions = Pick<SeatServerConfig, 'nodeId' | 'sweepIntervalMs' | 'denialRetentionDays'>;

export interface SeatLeasesDeps {
  store: Pick<SeatStore, 'recordLease' | 'renewLease' | 'releaseLease' | 'lapseLeases' | 'pruneLeases' | 'getLicense'>;
  engine: Pick<SeatEngine, 'admit' | 'detach'>;
  auth: Pick<TokenAuth, 'authenticate'>;
  bus: EventBus;
  trouble: StoreTrouble;
  options: LeaseOptions;
  now: () => number;
  /** Signed seat receipts (offline grace): when given, grants and renewals carry `receipt`. */
  receipts?: { forSession(session: Session, license: License): Promise<string | undefined> };
}

/** How often lease rows whose seats' history is gone are forgotten. */
const PRUNE_EVERY_MS = 3_600_000;

export class SeatLeases {
  private sweeping?: NodeJS.Timeout;
  private prunedAt = 0;

  constructor(private readonly deps: SeatLeasesDeps) {}

  /** A lapse sweep now, and one every SWEEP_INTERVAL_MS. */
  async start(): Promise<void> {
    await this.lapse();
    this.sweeping = every(this.deps.options.sweepIntervalMs, () => this.lapse(), this.deps.bus.onError, 'lease-lapse');
  }

  stop(): void {
    clearInterval(this.sweeping);
  }

  /** POST /leases: a seat through the engine's admission, under the connection id `lease:<id>`. */
  async acquire(token: unknown): Promise<AcquireResult> {
    const auth = await this.deps.auth.authenticate(token);
    const id = randomUUID();
    const connectionId = `lease:${id}`;
    const renewBy = this.deps.now() + auth.license.leaseIntervalSec * 1000;
    const result = await this.deps.engine.admit(auth, connectionId, renewBy);
    if ('denied' in result) return { denied: result.denied };
    // A lease never waits in a queue (it is admitted with no queue).
    if ('queued' in result) throw new Error('a lease was queued');
    const { session, license } = result;
    try {
      await this.deps.trouble.watch(
        this.deps.store.recordLease({ id, licenseId: license.id, sessionId: session.id, seatKeyValue: session.seatKeyValue, createdAt: this.deps.now(), renewBy }),
      );
    } catch (err) {
      // Nobody will learn the lease's id: let go of its connection rather than hold the seat to its deadline.
      await this.deps.engine.detach(connectionId, license.id).catch(() => {});
      throw err;
    }
    const { resumed, seatsInUse, overage } = result.granted;
    return { granted: await this.grant(id, license, session, { resumed, seatsInUse, renewBy, overage }) };
  }

  /** PUT /leases/:id: the deadline moves (404 unknown, 403 not the token's, `ended` once its seat is gone). */
  async renew(token: unknown, leaseId: string): Promise<RenewResult> {
    const claim = await this.claim(token);
    const outcome = await this.deps.trouble.watch(this.deps.store.renewLease(leaseId, claim, this.deps.now()));
    if (outcome.kind === 'not_found') await this.licenseStillThere(claim.licenseId);
    if (outcome.kind === 'not_found' || outcome.kind === 'forbidden') throw refusal(outcome, leaseId);
    if (outcome.kind === 'ended') return { ended: { reason: outcome.reason, message: END_MESSAGE[outcome.reason] } };
    const { license, session, seatsInUse, resumed, renewBy } = outcome;
    // Back from a lapse: the engine's idle timer stops and the dashboard sees it active again.
    if (resumed) this.deps.bus.publish({ type: 'session.resumed', license, session, seatsInUse });
    // A renewal is activity: the session's sockets hear that a pending inactivity warning is over.
    if (outcome.warningCleared) this.deps.bus.publish({ type: 'session.warning-cleared', license, session, seatsInUse });
    return { renewed: await this.grant(leaseId, license, session, { resumed, seatsInUse, renewBy }) };
  }

  /** DELETE /leases/:id: the lease goes; the seat with it when it was the session's last connection. */
  async release(token: unknown, leaseId: string): Promise<void> {
    const claim = await this.claim(token);
    const outcome = await this.deps.trouble.watch(this.deps.store.releaseLease(leaseId, claim, this.deps.now()));
    if (outcome.kind === 'not_found') await this.licenseStillThere(claim.licenseId);
    if (outcome.kind === 'not_found' || outcome.kind === 'forbidden') throw refusal(outcome, leaseId);
    if (outcome.ended) this.deps.bus.publish(endedEvent(outcome.ended));
    if (outcome.detached) this.deps.bus.publish({ type: 'session.detached', ...outcome.detached });
  }

  /** Lets go of leases past their deadline; their sessions idle (the engine's timers follow the events). */
  async lapse(): Promise<void> {
    const now = this.deps.now();
    for (const o of await this.deps.trouble.watch(this.deps.store.lapseLeases(now))) {
      const idle = o.session.state === 'idle' && o.session.expiresAt !== null;
      this.deps.bus.publish({ type: idle ? 'session.idle' : 'session.detached', ...o });
    }
    if (now - this.prunedAt >= PRUNE_EVERY_MS) {
      this.prunedAt = now;
      // A renewal past this answers 404 rather than 410: the release's reason is gone from the history too.
      await this.deps.store.pruneLeases(now - this.deps.options.denialRetentionDays * 86_400_000);
    }
  }

  /**
   * A lease not found where the token's license was found: the license may have been deleted
   * between the two (its leases go with it), or on another node whose word this node's copy of
   * it (kept a second) has not heard. Told as a token for a deleted license is, 401
   * `license_not_found`, not as a lease id that never was.
   */
  private async licenseStillThere(licenseId: string): Promise<void> {
    if (await this.deps.trouble.watch(this.deps.store.getLicense(licenseId))) return;
    throw new SeatError(AuthErrorCode.LicenseNotFound, `no license ${echoId(licenseId)}`);
  }

  private async claim(token: unknown): Promise<LeaseClaim> {
    const { license, claimant } = await this.deps.auth.authenticate(token);
    return { licenseId: license.id, claimant, nodeId: this.deps.options.nodeId };
  }

  private async grant(
    leaseId: string,
    license: License,
    session: Session,
    at: { resumed: boolean; seatsInUse: number; renewBy: number; overage?: boolean },
  ): Promise<LeaseGrant> {
    const receipt = await this.deps.receipts?.forSession(session, license);
    return {
      leaseId,
      sessionId: session.id,
      licenseId: license.id,
      resumed: at.resumed,
      seatsInUse: at.seatsInUse,
      seats: license.seats,
      overage: at.overage ?? false,
      renewBy: at.renewBy,
      leaseIntervalSec: license.leaseIntervalSec,
      idleTimeoutSec: license.idleTimeoutSec,
      ...(receipt ? { receipt } : {}),
    };
  }
}

function refusal(outcome: LeaseRefusal, leaseId: string): SeatError {
  if (outcome.kind === 'not_found') return new SeatError(ErrorCode.NotFound, `no lease ${echoId(leaseId)}`);
  return new SeatError(ErrorCode.Forbidden, outcome.why);
}
