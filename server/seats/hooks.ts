// Typed hooks for code that embeds the server, and the domain events the transports listen to.
// Both come from the same stream: every engine decision is one DomainEvent.
import type { TokenClaims } from '../../shared';
import type { AuditEntry, Denial, EndedSession, License, SeatRequest, Session } from './types';

export interface AdmissionPayload {
  license: License;
  claims: TokenClaims;
  socketId: string;
}
export interface SessionPayload {
  license: License;
  session: Session;
  seatsInUse: number;
}
export interface SessionEndedPayload extends SessionPayload {
  reason: EndedSession['reason'];
  message: string;
}
export interface DeniedPayload {
  license: License;
  denial: Denial;
  message: string;
  seatsInUse: number;
}

/** What `onAdmission` may answer: nothing admits as usual, `{ deny }` refuses with that message. */
export type AdmissionDecision = void | undefined | { deny: string };

export interface HookPayloads {
  onAdmission: AdmissionPayload;
  onSessionStarted: SessionPayload;
  onSessionResumed: SessionPayload;
  onSessionIdle: SessionPayload;
  onSessionEnded: SessionEndedPayload;
  onDenied: DeniedPayload;
}

/** Optional async hooks. A hook that throws is logged and otherwise ignored, except onAdmission, whose throw denies. */
export interface SeatHooks {
  onAdmission?(payload: AdmissionPayload): Promise<AdmissionDecision> | AdmissionDecision;
  onSessionStarted?(payload: SessionPayload): Promise<void> | void;
  onSessionResumed?(payload: SessionPayload): Promise<void> | void;
  onSessionIdle?(payload: SessionPayload): Promise<void> | void;
  onSessionEnded?(payload: SessionEndedPayload): Promise<void> | void;
  onDenied?(payload: DeniedPayload): Promise<void> | void;
}

export type DomainEvent =
  | ({ type: 'session.started' } & SessionPayload)
  | ({ type: 'session.resumed' } & SessionPayload)
  /** A socket left a session that still has others. */
  | ({ type: 'session.detached' } & SessionPayload)
  | ({ type: 'session.idle' } & SessionPayload)
  /** An inactivity warning went out: the seat goes at `releasesAt` (epoch ms) unless activity arrives. */
  | ({ type: 'session.warning'; releasesAt: number; message: string } & SessionPayload)
  /** Activity (or a connect) ended the session's pending inactivity warning. */
  | ({ type: 'session.warning-cleared' } & SessionPayload)
  /**
   * A queued socket was granted a seat by the transaction that freed it, on whatever node: the
   * node that holds the socket tells it (`seat:granted`).
   */
  | ({ type: 'queue.granted'; socketId: string; nodeId: string; resumed: boolean; overage: boolean } & SessionPayload)
  /**
   * A queued socket's turn came, but its device would go beyond the license's activations: it left
   * the queue denied (the `denied` event records it as any denial); the node that holds it tells it.
   */
  | ({ type: 'queue.refused'; socketId: string; nodeId: string } & DeniedPayload)
  /**
   * The queue's backstop found a socket this node holds as queued with neither a place nor a seat:
   * its turn refused it (`license` as now), or its license was deleted (`license` null), and that
   * word, sent through Redis by the node that served the queue, never came. This node tells it.
   */
  | { type: 'queue.unplaced'; socketId: string; licenseId: string; license: License | null }
  /** The queue's backstop: this node's queued sockets of these licenses are told where they stand, should a move's word have been lost. */
  | { type: 'queue.recheck'; licenseIds: string[] }
  /** Someone joined, left or was served from the license's queue: positions may have moved. */
  | { type: 'queue.changed'; license: License }
  /**
   * The license was deleted, and its queue with it: every node tells its waiting sockets
   * `session:ended` (`license_deleted`) and lets them go.
   */
  | { type: 'queue.closed'; license: License; reason: EndedSession['reason']; message: string }
  /** A user asked for a seat of the license (POST /seat-requests). */
  | { type: 'seat.requested'; license: License; request: SeatRequest }
  | ({ type: 'session.ended' } & SessionEndedPayload)
  | ({ type: 'denied' } & DeniedPayload)
  | { type: 'license.changed'; license: License; seatsInUse: number }
  | { type: 'audit'; entry: AuditEntry }
  /**
   * A session with sockets on this node ended on another node, and Redis did not bring the news
   * (found on a heartbeat). Its `session.ended` was published on the node that ended it.
   */
  | { type: 'session.ended-elsewhere'; sessionId: string; reason: EndedSession['reason']; message: string }
  /** Another node took this one for dead and let go of its sockets' rows: their seats are idle. */
  | { type: 'node.declared-dead' };

export const HOOK_OF_EVENT = {
  'session.started': 'onSessionStarted',
  'session.resumed': 'onSessionResumed',
  'session.idle': 'onSessionIdle',
  'session.ended': 'onSessionEnded',
  denied: 'onDenied',
} as const satisfies Partial<Record<DomainEvent['type'], Exclude<keyof SeatHooks, 'onAdmission'>>>;
