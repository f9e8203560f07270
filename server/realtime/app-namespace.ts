// The app namespace `/`: authenticates each socket's token, asks the engine for a seat, and
// relays session endings (and this node being taken for dead) to the sockets they concern.
import type { IncomingMessage } from 'node:http';
import type { Namespace, Socket } from 'socket.io';
import proxyaddr from 'proxy-addr';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import {
  AuthErrorCode,
  type AuthErrorData,
  type ClientToServerEvents,
  type EndSessionAck,
  ErrorCode,
  type InterServerEvents,
  type QueueGrantMessage,
  type SeatGrantedPayload,
  type SeatWarningClearedPayload,
  type SeatWarningPayload,
  type ServerToClientEvents,
  type SessionEndedPayload,
  type SocketData,
  WarningReason,
} from '../../shared';
import type { EventBus } from '../seats/event-bus';
import type { Inactivity } from '../seats/inactivity';
import type { SeatQueue } from '../seats/seat-queue';
import type { License, Session } from '../seats/types';
import { QueueRelay } from './queue-relay';
import { RecentEndings } from './recent-endings';
import type { SeatEngine } from '../seats/seat-engine';
import { SeatError } from '../seats/seat-error';
import type { TokenAuth } from '../seats/token-auth';
import type { VerifiedToken } from '../seats/token-verifier';
import type { SeatServerConfig } from '../config';
import type { Logger } from '../logger';
import type { ReceiptRelay } from './receipt-relay';
import { checkAtTeardown } from './teardown-checks';

type AppNamespace = Namespace<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
type AppSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

export const sessionRoom = (sessionId: string) => `session:${sessionId}`;

/** A socket.io `connect_error` that carries a reason code in `message` and `{ reason, message }` in `data`. */
function authError(reason: AuthErrorCode, message: string): Error & { data: AuthErrorData } {
  return Object.assign(new Error(reason), { data: { reason, message } });
}

/**
 * The client's address: the socket's own, or, when `trust` trusts it (express's compiled `trust
 * proxy`), the one X-Forwarded-For names through the trusted proxies, as express's `req.ip`.
 */
export function clientAddress(socket: Pick<Socket, 'handshake'>, trust?: (addr: string, hop: number) => boolean): string {
  const { address, headers } = socket.handshake;
  if (!trust || !address) return address || 'unknown';
  // proxy-addr reads only the headers and the socket's address of the request it is given.
  return proxyaddr({ headers, socket: { remoteAddress: address } } as unknown as IncomingMessage, trust);
}

/** The sessions this node's sockets hold (node liveness checks them for endings Redis lost). */
export function localSessionIds(nsp: AppNamespace): string[] {
  return [...nsp.sockets.values()].flatMap((s) => (s.data.sessionId ? [s.data.sessionId] : []));
}

export interface AppNamespaceParts {
  engine: Pick<SeatEngine, 'admit' | 'detach' | 'endSession' | 'checkDeadlines'>;
  auth: Pick<TokenAuth, 'authenticate'>;
  events: Pick<EventBus, 'subscribe'>;
  /** Where `session:activity` goes: written for all sessions at once, every ACTIVITY_FLUSH_MS. */
  activity: Pick<Inactivity, 'heard' | 'granted'>;
  /** The license queues: leaving one, and where everyone stands. */
  queue: Pick<SeatQueue, 'leave' | 'places' | 'waiting' | 'watchLocal'>;
}

/** How long an ending found by a beat waits for its own word through Redis (see `session.ended-elsewhere`). */
const ENDED_ELSEWHERE_GRACE_MS = 1000;

/** `{}` (a plain object with no keys of its own). */
const isEmptyObject = (a: unknown): boolean => typeof a === 'object' && a !== null && Object.getPrototypeOf(a) === Object.prototype && Object.keys(a).length === 0;

/** How long a socket told its session ended waits for the answer to its own `session:end` before it is let go. */
const ANSWER_WAIT_MS = 5000;

/** A socket's `session:activity` counts at most once a second; the rest of a flood is ignored. */
const ACTIVITY_EVERY_MS = 1000;

export type AppNamespaceOptions = Pick<SeatServerConfig, 'connectRatePerSec' | 'connectBurst'> & {
  /** Other nodes share the sessions (Redis): they hear of endings decided here. */
  cluster: boolean;
  /** This node's id (NODE_ID). */
  nodeId: string;
  /** Express's `trust proxy fn`: which hops may name the client in X-Forwarded-For. */
  trustProxy?: (addr: string, hop: number) => boolean;
  /** Offline grace: the grant's receipt, and fresh ones while the seat is held (receipt-relay.ts). */
  receipts?: Pick<ReceiptRelay, 'granted'>;
};

export function attachAppNamespace(nsp: AppNamespace, { engine, auth: tokens, events, activity, queue }: AppNamespaceParts, log: Logger, opts: AppNamespaceOptions): void {
  const { connectRatePerSec, connectBurst } = opts;
  const limiter =
    connectRatePerSec > 0
      ? new RateLimiterMemory({ points: connectBurst, duration: Math.max(1, Math.ceil(connectBurst / connectRatePerSec)) })
      : undefined;
  const verified = new WeakMap<AppSocket, { auth: VerifiedToken; queue: boolean }>();
  const endings = new RecentEndings();
  /**
   * Sockets whose own `session:end` is still on its way to an answer. Another socket's `session:end`
   * (or a kick) may end the session first: such a socket is let go once it has its answer, so
   * every `session:end` gets its ack, as an ending that was already done answers `ok`.
   */
  const ending = new WeakMap<AppSocket, Promise<void>>();
  const lost = (socketId: string) => engine.detach(socketId);
  const checkDeadlines = () => engine.checkDeadlines();
  const relay = new QueueRelay(nsp, { queue, grant: grantQueued, lost, nodeId: opts.nodeId }, log, opts.cluster);

  nsp.use(async (socket, next) => {
    try {
      if (limiter) {
        try {
          await limiter.consume(clientAddress(socket, opts.trustProxy));
        } catch {
          return next(authError(AuthErrorCode.RateLimited, 'too many connects from this address; retry shortly'));
        }
      }
      const handshake = socket.handshake.auth as { token?: unknown; queue?: unknown } | undefined;
      const auth = await tokens.authenticate(handshake?.token);
      const wait = handshake?.queue;
      if (wait !== undefined && typeof wait !== 'boolean') return next(authError(AuthErrorCode.BadRequest, '"queue" must be true or false'));
      // Asking to wait on a license without a queue is an ordinary connect: granted when a seat
      // fits, denied when none does (the store reads `queue` on the locked license row).
      verified.set(socket, { auth, queue: wait === true });
      socket.data.licenseId = auth.license.id;
      socket.data.tenantId = auth.license.tenantId;
      next();
    } catch (err) {
      if (err instanceof SeatError) return next(authError(err.code as AuthErrorCode, err.message));
      log.error({ err }, 'socket authentication failed');
      next(authError(AuthErrorCode.Unavailable, 'the seat service is unavailable; retry shortly'));
    }
  });

  nsp.on('connection', (socket) => {
    const { auth, queue: wait } = verified.get(socket)!;
    verified.delete(socket);
    // A disconnect can arrive while the admission is still in the store: detach after it lands.
    const admission = admit(socket, auth, wait);

    socket.on('disconnect', () => {
      void admission.then(async (outcome) => {
        try {
          // A queued socket leaves the queue; one the queue granted meanwhile (its word on the way) lets go of its seat.
          if (outcome === 'queued' && !socket.data.sessionId) await queue.leave(socket.id);
          if (outcome !== 'refused') await engine.detach(socket.id, auth.license.id);
        } catch (err) {
          log.error({ err }, 'detach failed');
        }
      });
      // A mass disconnect goes on closing connections after the last detach: seats fall due
      // meanwhile, and the store's answers come (each leaving socket gives them a turn).
      checkDeadlines();
      checkAtTeardown(socket, checkDeadlines);
    });

    // `session:end` takes no payload, only an ack (socket.io passes the ack last). One sent with a
    // payload is refused and changes nothing: it may mean to end another session than its own. A
    // null or an empty object (`{}`, which wrappers that always send an object send) is none.
    socket.on('session:end', (...args: unknown[]) => {
      const ack = args.at(-1);
      const reply: (result: EndSessionAck) => void = typeof ack === 'function' ? (ack as (result: EndSessionAck) => void) : () => {};
      const payload = (typeof ack === 'function' ? args.slice(0, -1) : args).filter((a) => a !== undefined && a !== null && !isEmptyObject(a));
      if (payload.length > 0) {
        const error = { code: ErrorCode.BadRequest, message: 'session:end takes no payload: emit("session:end", ack) ends this socket\'s own session' };
        if (typeof ack === 'function') reply({ ok: false, error });
        else socket.emit('seat:error', error);
        return;
      }
      const answered = admission.then(async () => {
        const sessionId = socket.data.sessionId;
        if (!sessionId) return reply({ ok: false, error: { code: ErrorCode.Conflict, message: 'this socket holds no seat' } });
        try {
          await engine.endSession(sessionId);
          reply({ ok: true });
        } catch (err) {
          log.error({ err }, 'session:end failed');
          reply({ ok: false, error: { code: ErrorCode.Unavailable, message: 'the session could not be ended; retry' } });
        }
      });
      const before = ending.get(socket);
      const all = before ? Promise.all([before, answered]).then(() => {}) : answered;
      ending.set(socket, all);
      void all.then(() => {
        if (ending.get(socket) === all) ending.delete(socket);
      });
    });

    let lastActivity = 0;
    socket.on('session:activity', () => {
      const sessionId = socket.data.sessionId;
      const now = Date.now();
      if (!sessionId || now - lastActivity < ACTIVITY_EVERY_MS) return;
      lastActivity = now;
      activity.heard(sessionId);
    });

    socket.onAny((event: string) => {
      if (event === 'session:end' || event === 'session:activity') return;
      socket.emit('seat:error', { code: ErrorCode.UnknownEvent, message: `unknown event "${String(event).slice(0, 100)}"` });
    });
  });

  async function admit(socket: AppSocket, auth: VerifiedToken, wait: boolean): Promise<'granted' | 'queued' | 'refused'> {
    try {
      const result = await engine.admit(auth, socket.id, undefined, wait);
      if ('denied' in result) {
        socket.emit('seat:denied', result.denied);
        socket.disconnect(true);
        return 'refused';
      }
      if ('queued' in result) {
        relay.queued(socket, result.queued);
        return 'queued';
      }
      // Only a license with offline grace has a receipt to sign (receipts.ts); the rest skip the relay's promises.
      const withReceipt = opts.receipts && result.license.offlineGraceSec > 0;
      holdSeat(socket, result.session.id, withReceipt ? await opts.receipts!.granted(socket, result) : result.granted);
      if (result.license.inactivityTimeoutSec !== null) activity.granted(result.session.id, result.session.lastActivityAt);
      return 'granted';
    } catch (err) {
      // The license was deleted, or its seat key changed, on another node since this node's copy
      // of it was read (it lasts a second): the handshake's refusal, told now.
      if (err instanceof SeatError && (err.code === AuthErrorCode.LicenseNotFound || err.code === AuthErrorCode.MissingClaim)) {
        socket.emit('seat:error', { code: err.code, message: err.message });
      } else {
        log.error({ err }, 'admission failed');
        socket.emit('seat:error', { code: ErrorCode.Unavailable, message: 'the seat service is unavailable; retry shortly' });
      }
      socket.disconnect(true);
      return 'refused';
    }
  }

  /** Tells a granted socket, and joins it to its session's room. */
  function holdSeat(socket: AppSocket, sessionId: string, granted: SeatGrantedPayload): void {
    socket.data.sessionId = sessionId;
    relay.holding(socket);
    socket.emit('seat:granted', granted);
    // The session ended while this admission was on its way back (its store write resumed the
    // session just before the ending's): the ending's room emit could not reach this socket yet.
    const gone = endings.get(sessionId);
    if (gone) {
      socket.emit('session:ended', gone);
      socket.disconnect(true);
    } else {
      socket.join(sessionRoom(sessionId));
    }
  }

  /** A queued socket of this node was granted a seat by a release (on any node). */
  async function grantQueued(socket: AppSocket, message: QueueGrantMessage): Promise<void> {
    if (socket.data.sessionId) return;
    const context = message.context as { session: Session; license: License } | undefined;
    const granted = opts.receipts && context ? await opts.receipts.granted(socket, { granted: message.granted, ...context }) : message.granted;
    holdSeat(socket, message.sessionId, granted);
  }

  /**
   * Tells this node's sockets of the session that it ended, then lets them go. Remembered a while,
   * so a socket whose admission resumed the session just before it ended learns of it at join
   * (see `admit`): each node does this for its own sockets, so no ending can slip between a room
   * emit and a room disconnect that travel apart.
   */
  function tellEnded(sessionId: string, payload: SessionEndedPayload): void {
    endings.set(sessionId, payload);
    const room = sessionRoom(sessionId);
    nsp.local.to(room).emit('session:ended', payload);
    // After the current tick, so an ack of `session:end` still reaches the socket first; a socket
    // whose own `session:end` is still on its way, once it has its answer.
    setImmediate(() => {
      for (const id of nsp.adapter.rooms.get(room) ?? []) {
        const socket = nsp.sockets.get(id);
        if (!socket) continue;
        const pending = ending.get(socket);
        if (!pending) socket.disconnect(true);
        // Not held longer than that: a store that hangs does not keep an ended session's socket.
        else void Promise.race([pending, new Promise((r) => setTimeout(r, ANSWER_WAIT_MS).unref())]).then(() => setImmediate(() => socket.disconnect(true)));
      }
    });
  }

  /** Tells this node's sockets of the session of an inactivity warning, or of its end. */
  function tellWarning(sessionId: string, warning: SeatWarningPayload | SeatWarningClearedPayload): void {
    const to = nsp.local.to(sessionRoom(sessionId));
    if ('releasesAt' in warning) to.emit('seat:warning', warning);
    else to.emit('seat:warning-cleared', warning);
  }

  events.subscribe((event) => {
    relay.on(event);
    switch (event.type) {
      // Decided on one node, told on every node that has sockets of the session.
      case 'session.warning': {
        const payload = { reason: WarningReason.Inactive, releasesAt: new Date(event.releasesAt).toISOString(), message: event.message };
        tellWarning(event.session.id, payload);
        if (opts.cluster) nsp.serverSideEmit('seat:warning', event.session.id, payload);
        break;
      }
      case 'session.warning-cleared': {
        const payload = { reason: WarningReason.Inactive };
        tellWarning(event.session.id, payload);
        if (opts.cluster) nsp.serverSideEmit('seat:warning-cleared', event.session.id, payload);
        break;
      }
      case 'session.ended': {
        const payload = { reason: event.reason, message: event.message };
        tellEnded(event.session.id, payload);
        // The other nodes tell theirs. One that Redis fails to reach finds out on its next beat.
        if (opts.cluster) nsp.serverSideEmit('session:ended', event.session.id, payload);
        break;
      }
      // Ended on another node while Redis could not tell this one (found by node liveness). A beat
      // can find it between the ending's commit and its own word through Redis, which carries the
      // message given (a kick's "night shift"); that word wins when it comes within the grace.
      case 'session.ended-elsewhere': {
        const { sessionId, reason, message } = event;
        setTimeout(() => endings.get(sessionId) || tellEnded(sessionId, { reason, message }), ENDED_ELSEWHERE_GRACE_MS).unref();
        break;
      }
      // This node was taken for dead and its sockets' rows let go: their seats are idle now.
      // Closing the transport (not a socket.io disconnect, which clients take as final) makes
      // them reconnect and resume before the idle timeout ends.
      case 'node.declared-dead':
        for (const s of nsp.sockets.values()) s.conn.close();
        break;
      default:
    }
  });
  nsp.on('session:ended', (sessionId: string, payload: SessionEndedPayload) => tellEnded(sessionId, payload));
  nsp.on('seat:warning', (sessionId: string, payload: SeatWarningPayload) => tellWarning(sessionId, payload));
  nsp.on('seat:warning-cleared', (sessionId: string, payload: SeatWarningClearedPayload) => tellWarning(sessionId, payload));
}
