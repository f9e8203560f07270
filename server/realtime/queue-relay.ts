// The queue on the wire (docs/contract.md, "The queue"): each node tells its own queued sockets
// where they stand (`seat:queued`, again whenever it moves), hands them the seat a release granted
// them (`seat:granted`, on whatever node the release ran) or the refusal their turn met
// (`seat:denied`, a device beyond the license's activations), and tells the sockets holding a
// license's seats how many wait (`seat:demand`). Positions are read only when a queue changed.
import type { Namespace, Socket } from 'socket.io';
import { EndReason, ErrorCode } from '../../shared';
import type {
  ClientToServerEvents,
  InterServerEvents,
  QueueGrantMessage,
  SeatDeniedPayload,
  SeatGrantedPayload,
  ServerToClientEvents,
  SessionEndedPayload,
  SocketData,
} from '../../shared';
import type { DomainEvent } from '../seats/hooks';
import type { LocalQueued, SeatQueue } from '../seats/seat-queue';
import { END_MESSAGE } from '../seats/messages';
import type { License, QueuePlace } from '../seats/types';
import type { Logger } from '../logger';
import { RecentEndings } from './recent-endings';

type AppNamespace = Namespace<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
type AppSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

const queueRoom = (licenseId: string) => `queue:${licenseId}`;
/** Sockets that hold a seat of the license: they hear `seat:demand`. */
export const licenseRoom = (licenseId: string) => `license:${licenseId}`;

export interface QueueRelayParts {
  queue: Pick<SeatQueue, 'places' | 'waiting' | 'watchLocal'>;
  /** Hands a granted socket its seat, as an admission does (app-namespace.ts). */
  grant(socket: AppSocket, grant: QueueGrantMessage): Promise<void>;
  /**
   * A socket of this node was granted after it went away (its disconnect found no seat to let
   * go of yet): lets go of the connection row the grant wrote, so the session idles as usual.
   */
  lost(socketId: string): Promise<void>;
  /** This node's id: only the node a queued socket was on may let go of its row. */
  nodeId: string;
}

export class QueueRelay {
  /** What each local queued socket was last told, so only moves are sent. */
  private readonly told = new WeakMap<AppSocket, string>();
  private readonly demand = new Map<string, number>();
  /**
   * Queues closed lately (their license deleted), by license. A socket whose joining was on its
   * way back from the store as the deletion was told (on SQLite both can commit together) was not
   * in the queue's room yet: it is told at its join instead.
   */
  private readonly closed = new RecentEndings();
  /**
   * Licenses whose places are to be told. Each pass reads every place and tells every socket whose
   * place moved, so a pass per change made a burst of n joins cost n passes; changes that land in
   * one turn (a commit carries a group of joins and releases), or while a pass is under way, are
   * told by one pass after them, with the places as they are then.
   */
  private readonly placesDue = new Coalescer(
    (licenseId) => this.tellPlaces(licenseId),
    (err) => this.log.error({ err }, 'queue positions could not be told'),
  );

  constructor(
    private readonly nsp: AppNamespace,
    private readonly parts: QueueRelayParts,
    private readonly log: Logger,
    private readonly cluster: boolean,
  ) {
    nsp.on('seat:queue-granted', (socketId: string, grant: QueueGrantMessage) => void this.grantLocal(socketId, grant));
    nsp.on('seat:queue-refused', (socketId: string, denied: SeatDeniedPayload) => this.refuseLocal(socketId, denied));
    nsp.on('seat:queue-changed', (licenseId: string) => this.placesDue.soon(licenseId));
    nsp.on('seat:queue-closed', (licenseId: string, payload: SessionEndedPayload) => this.closeLocal(licenseId, payload));
    // The queue's backstop asks which sockets wait here, to tell any whose grant's word was lost.
    parts.queue.watchLocal(() => {
      const queued: LocalQueued[] = [];
      for (const [socketId, socket] of nsp.sockets) if (socket.data.queued) queued.push({ socketId, licenseId: socket.data.licenseId });
      return queued;
    });
  }

  /** A socket joined the queue: it is told where it stands, and hears of every move. */
  queued(socket: AppSocket, place: QueuePlace): void {
    const gone = this.closed.get(socket.data.licenseId);
    if (gone) {
      socket.emit('session:ended', gone);
      setImmediate(() => socket.disconnect(true));
      return;
    }
    socket.data.queued = true;
    void socket.join(queueRoom(socket.data.licenseId));
    this.tell(socket, place);
  }

  /** The socket holds a seat of the license now: it hears the license's demand. */
  holding(socket: AppSocket): void {
    if (socket.data.queued) {
      socket.data.queued = false;
      void socket.leave(queueRoom(socket.data.licenseId));
    }
    void socket.join(licenseRoom(socket.data.licenseId));
  }

  on(event: DomainEvent): void {
    if (event.type === 'queue.granted') {
      const granted: SeatGrantedPayload = {
        sessionId: event.session.id,
        licenseId: event.license.id,
        resumed: event.resumed,
        seatsInUse: event.seatsInUse,
        seats: event.license.seats,
        idleTimeoutSec: event.license.idleTimeoutSec,
        overage: event.overage,
      };
      // The session and license go along for the grant's receipt (the license without its secrets).
      const license = { ...event.license, secret: '', previousSecret: null };
      const message = { granted, sessionId: event.session.id, nodeId: event.nodeId, context: { session: event.session, license } };
      if (this.nsp.sockets.has(event.socketId) || event.nodeId === this.parts.nodeId) void this.grantLocal(event.socketId, message);
      else if (this.cluster) this.nsp.serverSideEmit('seat:queue-granted', event.socketId, message);
    } else if (event.type === 'queue.refused') {
      const denied: SeatDeniedPayload = { reason: event.denial.reason, message: event.message, seatsInUse: event.seatsInUse, seats: event.license.seats };
      if (this.nsp.sockets.has(event.socketId) || event.nodeId === this.parts.nodeId) this.refuseLocal(event.socketId, denied);
      else if (this.cluster) this.nsp.serverSideEmit('seat:queue-refused', event.socketId, denied);
    } else if (event.type === 'queue.recheck') {
      for (const licenseId of event.licenseIds) this.placesDue.soon(licenseId);
    } else if (event.type === 'queue.unplaced') {
      this.unplacedLocal(event.socketId, event.license);
    } else if (event.type === 'queue.changed') {
      this.placesDue.soon(event.license.id);
      if (this.cluster) this.nsp.serverSideEmit('seat:queue-changed', event.license.id);
    } else if (event.type === 'queue.closed') {
      const payload = { reason: event.reason, message: event.message };
      this.closeLocal(event.license.id, payload);
      if (this.cluster) this.nsp.serverSideEmit('seat:queue-closed', event.license.id, payload);
    }
  }

  /** The license's queue is gone: this node's waiting sockets are told why, and let go. */
  private closeLocal(licenseId: string, payload: SessionEndedPayload): void {
    this.closed.set(licenseId, payload);
    const room = queueRoom(licenseId);
    if (!this.nsp.adapter.rooms.get(room)?.size) return;
    this.nsp.local.to(room).emit('session:ended', payload);
    // After this tick, as an ending's disconnect (app-namespace.ts), so the word goes out first.
    setImmediate(() => this.nsp.local.in(room).disconnectSockets(true));
  }

  /** A queued socket of this node was refused at its turn: told as an admission's denial, then let go. */
  private refuseLocal(socketId: string, denied: SeatDeniedPayload): void {
    this.letGo(socketId, (socket) => socket.emit('seat:denied', denied));
  }

  /**
   * The backstop found a queued socket of this node with neither a place nor a seat, the word of
   * why lost on its way. Its license gone: told as the deletion's word would have. Else the reason
   * is not on record by socket (its turn refused it, or a grant's session ended before the grant's
   * word came): it is let go with `seat:error` `unavailable`, so it connects again and is admitted,
   * queued or refused afresh, with the reason that holds then.
   */
  private unplacedLocal(socketId: string, license: License | null): void {
    this.letGo(socketId, (socket) => {
      if (license) socket.emit('seat:error', { code: ErrorCode.Unavailable, message: 'this client\'s place in the queue was lost; connect again' });
      else socket.emit('session:ended', { reason: EndReason.LicenseDeleted, message: END_MESSAGE.license_deleted });
    });
  }

  /** Takes a socket of this node that still waits (no seat) off the queue, tells it why, and lets it go after this tick. */
  private letGo(socketId: string, tell: (socket: AppSocket) => void): void {
    const socket = this.nsp.sockets.get(socketId);
    if (!socket?.data.queued || socket.data.sessionId) return;
    socket.data.queued = false;
    void socket.leave(queueRoom(socket.data.licenseId));
    tell(socket);
    setImmediate(() => socket.disconnect(true));
  }

  private async grantLocal(socketId: string, message: QueueGrantMessage): Promise<void> {
    const socket = this.nsp.sockets.get(socketId);
    try {
      if (!socket) {
        if (message.nodeId === this.parts.nodeId) await this.parts.lost(socketId);
        return;
      }
      await this.parts.grant(socket, message);
    } catch (err) {
      this.log.error({ err }, 'queue grant could not be told');
    }
  }

  /** Tells this node's queued sockets of the license where they stand, and its holders the demand. */
  private async tellPlaces(licenseId: string): Promise<void> {
    const waiting = this.nsp.adapter.rooms.get(queueRoom(licenseId));
    const holding = this.nsp.adapter.rooms.get(licenseRoom(licenseId));
    if (!waiting?.size && !holding?.size) return;
    try {
      const places = await this.parts.queue.places(licenseId);
      for (const p of places) {
        const socket = this.nsp.sockets.get(p.socketId);
        if (socket?.data.queued) this.tell(socket, p);
      }
      if (!holding?.size) return;
      const waitingNow = await this.parts.queue.waiting(licenseId, places.length);
      if (this.demand.get(licenseId) !== waitingNow) {
        this.demand.set(licenseId, waitingNow);
        this.nsp.local.to(licenseRoom(licenseId)).emit('seat:demand', { waiting: waitingNow });
      }
    } catch (err) {
      this.log.error({ err }, 'queue positions could not be read');
    }
  }

  private tell(socket: AppSocket, place: QueuePlace): void {
    const key = `${place.position}/${place.queueLength}`;
    if (this.told.get(socket) === key) return;
    this.told.set(socket, key);
    socket.emit('seat:queued', { position: place.position, queueLength: place.queueLength });
  }
}

/**
 * Runs `run(key)` once, in the next turn, for any number of `soon(key)` calls made before it
 * starts; a call while it runs makes it run once more after it, so the last change is always told.
 * A run that fails goes to `onError`; the next call runs it again.
 */
export class Coalescer {
  private readonly state = new Map<string, 'scheduled' | 'running' | 'again'>();

  constructor(
    private readonly run: (key: string) => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  soon(key: string): void {
    const state = this.state.get(key);
    if (state === 'scheduled' || state === 'again') return;
    if (state === 'running') {
      this.state.set(key, 'again');
      return;
    }
    this.state.set(key, 'scheduled');
    setImmediate(() => void this.start(key));
  }

  private async start(key: string): Promise<void> {
    this.state.set(key, 'running');
    try {
      await this.run(key);
    } catch (err) {
      this.onError(err);
    } finally {
      const again = this.state.get(key) === 'again';
      this.state.delete(key);
      if (again) this.soon(key);
    }
  }
}
