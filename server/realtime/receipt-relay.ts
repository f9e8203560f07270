// Offline grace on the app sockets: `seat:granted` carries a signed receipt, and while a session
// holds its seat each node sends its own sockets of it a fresh one (`seat:receipt`) every
// offlineGraceSec / 2, so a client that loses the network always holds a receipt with at least
// half the grace left. One timer per session per node; it stops when the node's last socket of
// the session goes, when the session is gone, or when the node stops.
import type { Socket } from 'socket.io';
import type { ClientToServerEvents, InterServerEvents, SeatGrantedPayload, ServerToClientEvents, SocketData } from '../../shared';
import type { Receipts } from '../seats/receipts';
import type { License, Session } from '../seats/types';
import type { Logger } from '../logger';

type AppSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

interface Tracked {
  sockets: Set<AppSocket>;
  graceSec: number;
  timer?: NodeJS.Timeout;
}

/** The next renewal: half the grace (never under 100 ms). */
export function renewalDelayMs(graceSec: number): number {
  return Math.max(100, Math.floor((graceSec * 1000) / 2));
}

export class ReceiptRelay {
  private readonly sessions = new Map<string, Tracked>();
  private stopped = false;

  constructor(
    private readonly receipts: Pick<Receipts, 'granted' | 'renew'>,
    private readonly log: Logger,
  ) {}

  /**
   * What `seat:granted` says to this socket: the grant with its receipt when the license has
   * offline grace. The socket then gets a fresh receipt every offlineGraceSec / 2 while connected.
   */
  async granted(socket: AppSocket, result: { granted: SeatGrantedPayload; session: Session; license: License }): Promise<SeatGrantedPayload> {
    const payload = await this.receipts.granted(result);
    if (payload.receipt !== undefined && socket.connected) this.track(socket, result.session.id, result.license.offlineGraceSec);
    return payload;
  }

  /** Clears every timer (the node is stopping; its sockets are closing). */
  stop(): void {
    this.stopped = true;
    for (const t of this.sessions.values()) clearTimeout(t.timer);
    this.sessions.clear();
  }

  private track(socket: AppSocket, sessionId: string, graceSec: number): void {
    if (this.stopped) return;
    let tracked = this.sessions.get(sessionId);
    if (!tracked) {
      tracked = { sockets: new Set(), graceSec };
      this.sessions.set(sessionId, tracked);
      this.schedule(sessionId, tracked, renewalDelayMs(graceSec));
    }
    tracked.sockets.add(socket);
    socket.once('disconnect', () => {
      tracked.sockets.delete(socket);
      if (tracked.sockets.size === 0) this.untrack(sessionId, tracked);
    });
  }

  private untrack(sessionId: string, tracked: Tracked): void {
    clearTimeout(tracked.timer);
    if (this.sessions.get(sessionId) === tracked) this.sessions.delete(sessionId);
  }

  private schedule(sessionId: string, tracked: Tracked, delayMs: number): void {
    tracked.timer = setTimeout(() => void this.renew(sessionId, tracked), delayMs);
    tracked.timer.unref();
  }

  private async renew(sessionId: string, tracked: Tracked): Promise<void> {
    let fresh;
    try {
      fresh = await this.receipts.renew(sessionId);
    } catch (err) {
      // The client still holds a receipt with half the grace left: try again sooner.
      this.log.warn({ err, sessionId }, 'receipt renewal failed');
      if (this.sessions.get(sessionId) === tracked) this.schedule(sessionId, tracked, Math.min(5000, renewalDelayMs(tracked.graceSec) / 2));
      return;
    }
    // Untracked meanwhile (its sockets went), or the session is gone, idle or without grace now.
    if (this.sessions.get(sessionId) !== tracked) return;
    if (!fresh) return this.untrack(sessionId, tracked);
    for (const socket of tracked.sockets) socket.emit('seat:receipt', { receipt: fresh.receipt });
    tracked.graceSec = fresh.hold.offlineGraceSec;
    this.schedule(sessionId, tracked, renewalDelayMs(fresh.hold.offlineGraceSec));
  }
}
