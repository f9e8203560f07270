// The admin namespace `/admin`: a snapshot of everything the admin may see on connect, then every
// change live. Tenant admins join their tenant's room, the operator joins the operator room.
import type { Namespace } from 'socket.io';
import {
  type AdminClientToServerEvents,
  type AdminServerToClientEvents,
  type AdminSnapshot,
  type AdminWatchAck,
  ErrorCode,
} from '../../shared';
import { type Actor, OPERATOR } from '../seats/actor';
import type { Administration } from '../seats/administration';
import type { EventBus } from '../seats/event-bus';
import type { Reads } from '../seats/reads';
import { SeatError } from '../seats/seat-error';
import { seatRequestView } from '../views';
import { auditView, denialView, licenseView, sessionView } from '../views';
import { queueView, queueViews } from '../queue-view';
import type { Logger } from '../logger';
import { BoardPresence } from './board-presence';

type AdminNamespace = Namespace<AdminClientToServerEvents, AdminServerToClientEvents, Record<string, never>, { actor: Actor }>;

const OPERATOR_ROOM = 'operator';
const tenantRoom = (tenantId: string) => `tenant:${tenantId}`;
/** The boards' rooms (every other room is a socket's own, named by its id). */
const isBoardRoom = (room: string) => room === OPERATOR_ROOM || /^(tenant|sessions|license):/.test(room);
// Session events go to the boards that hear every session of their scope (the default) and to
// those watching the license (`admin:watch`): a board showing one license of 10,000 sessions
// does not hear every other license's churn.
const allSessionsRoom = (room: string) => `sessions:${room}`;
const watchRoom = (licenseId: string) => `license:${licenseId}`;
/** The snapshot carries each license's newest sessions only; the board pages through the rest. */
export const SNAPSHOT_SESSIONS = 200;
/** Licenses one board may watch at once. */
const MAX_WATCHED = 100;
const SNAPSHOT_DENIALS = 100;
const SNAPSHOT_AUDIT = 100;
/** The board shows a queue's first claimants (and its whole length). */
const QUEUE_SHOWN = 100;
/** A burst of queue changes (a thousand sockets leaving at once) is read and sent once. */
const QUEUE_COALESCE_MS = 50;

export interface AdminNamespaceParts {
  admin: Pick<Administration, 'authenticateAdmin'>;
  /** The snapshot, scoped to the socket's actor. */
  reads: Pick<Reads, 'snapshot' | 'queue' | 'license'>;
  events: Pick<EventBus, 'subscribe'>;
}

export async function adminSnapshot({ reads }: { reads: Pick<Reads, 'snapshot'> }, actor: Actor): Promise<AdminSnapshot> {
  const snapshot = await reads.snapshot(actor, { denialsPerLicense: SNAPSHOT_DENIALS, audit: SNAPSHOT_AUDIT, queuePerLicense: QUEUE_SHOWN, sessionsPerLicense: SNAPSHOT_SESSIONS });
  return {
    actor: actor.kind === 'operator' ? { kind: 'operator' } : { kind: 'tenant', tenantId: actor.tenantId, tenantName: actor.tenantName },
    licenses: snapshot.licenses.map((l) => licenseView(l)),
    sessions: snapshot.sessions.map(sessionView),
    sessionTotals: Object.fromEntries(snapshot.sessionTotals),
    denials: snapshot.denials.map(denialView),
    audit: snapshot.audit.map(auditView),
    activations: Object.fromEntries(snapshot.activations),
    queues: queueViews(snapshot.queues),
    serverTime: new Date().toISOString(),
  };
}

/** How a cluster's nodes tell each other of their boards (board-presence.ts). */
export interface BoardsAcrossNodes {
  /** How often a node tells its boards' rooms again (HEARTBEAT_INTERVAL_MS). */
  intervalMs: number;
  /** How long a node's rooms are kept after it last told them (NODE_TIMEOUT_MS). */
  forgetMs: number;
}

/**
 * `cluster` (Redis): boards may sit on other nodes, and the nodes tell each other which rooms
 * theirs are in. A change no board on any node watches is neither built nor encoded.
 * `start` once the cluster's adapter is attached; `stop` on close.
 */
export function attachAdminNamespace(nsp: AdminNamespace, parts: AdminNamespaceParts, log: Logger, cluster: BoardsAcrossNodes | false): { start(): void; stop(): void } {
  const presence = cluster ? new BoardPresence(nsp, { isBoardRoom, intervalMs: cluster.intervalMs, forgetMs: cluster.forgetMs }, log) : undefined;
  /** Whether a board on this node (or, in a cluster, any node) is in one of the rooms. */
  const heard = (rooms: string[]) => (presence ? presence.heardBy(rooms) : rooms.some((room) => nsp.adapter.rooms.has(room)));
  nsp.use(async (socket, next) => {
    try {
      socket.data.actor = await parts.admin.authenticateAdmin((socket.handshake.auth as { token?: unknown } | undefined)?.token);
      next();
    } catch (err) {
      const code = err instanceof SeatError ? err.code : ErrorCode.Unavailable;
      const message = err instanceof SeatError ? err.message : 'the seat service is unavailable';
      if (!(err instanceof SeatError)) log.error({ err }, 'admin authentication failed');
      next(Object.assign(new Error(code), { data: { reason: code, message } }));
    }
  });

  nsp.on('connection', (socket) => {
    const actor = socket.data.actor;
    // Join before reading the snapshot, so no change falls between the two (in a cluster, once
    // every node has heard of the rooms).
    const scopeRoom = actor.kind === 'operator' ? OPERATOR_ROOM : tenantRoom(actor.tenantId);
    void socket.join([scopeRoom, allSessionsRoom(scopeRoom)]);
    socket.on('disconnect', () => presence?.left());
    Promise.resolve(presence?.joined())
      .then(() => adminSnapshot(parts, actor))
      .then((snapshot) => socket.emit('admin:snapshot', snapshot))
      .catch((err) => {
        log.error({ err }, 'admin snapshot failed');
        socket.emit('seat:error', { code: ErrorCode.Unavailable, message: 'the snapshot could not be read; reconnect' });
      });
    const watched = new Set<string>();
    const answer = (ack: unknown, reply: AdminWatchAck) => {
      if (typeof ack === 'function') (ack as (r: AdminWatchAck) => void)(reply);
      else if ('error' in reply) socket.emit('seat:error', { code: reply.error.code as ErrorCode, message: reply.error.message });
    };
    const refuse = (ack: unknown, err: unknown) => {
      if (!(err instanceof SeatError)) log.error({ err }, 'admin:watch failed');
      const code = err instanceof SeatError ? err.code : ErrorCode.Unavailable;
      answer(ack, { error: { code, message: err instanceof SeatError ? err.message : 'the seat service is unavailable; retry' } });
    };
    const licenseIdOf = (req: unknown): string => {
      const id = (req as { licenseId?: unknown } | null)?.licenseId;
      if (typeof id !== 'string' || id.length === 0 || id.length > 200) throw new SeatError(ErrorCode.BadRequest, 'send { licenseId }');
      return id;
    };
    socket.on('admin:watch', (req, ack) => {
      void (async () => {
        const id = licenseIdOf(req);
        if (!watched.has(id) && watched.size >= MAX_WATCHED) throw new SeatError(ErrorCode.OutOfRange, `watch at most ${MAX_WATCHED} licenses at once`);
        // 404 for none, 403 for another tenant's: nobody hears sessions they may not read.
        await parts.reads.license(actor, id);
        watched.add(id);
        // From the first watch on, this board hears sessions of the licenses it watches only.
        await socket.leave(allSessionsRoom(scopeRoom));
        await socket.join(watchRoom(id));
        await presence?.joined();
        answer(ack, { ok: true });
      })().catch((err: unknown) => refuse(ack, err));
    });
    socket.on('admin:unwatch', (req, ack) => {
      void (async () => {
        const id = licenseIdOf(req);
        watched.delete(id);
        await socket.leave(watchRoom(id));
        presence?.left();
        answer(ack, { ok: true });
      })().catch((err: unknown) => refuse(ack, err));
    });
    socket.onAny((event: string) => {
      if (event === 'admin:watch' || event === 'admin:unwatch') return;
      socket.emit('seat:error', { code: ErrorCode.UnknownEvent, message: `unknown event "${String(event).slice(0, 100)}"` });
    });
  });

  // Queue changes per license, read once per burst and sent to the rooms that watch it.
  const queueDue = new Map<string, string[]>();
  const sendQueue = (licenseId: string, rooms: string[]) => {
    if (queueDue.has(licenseId)) return;
    queueDue.set(licenseId, rooms);
    setTimeout(() => {
      queueDue.delete(licenseId);
      // Read as the operator: the event named the license, and only its tenant's rooms and the
      // operator's hear it.
      parts.reads
        .queue(OPERATOR, licenseId, QUEUE_SHOWN)
        .then((list) => nsp.to(rooms).emit('admin:queue', { licenseId, ...queueView(list) }))
        .catch((err: unknown) => {
          // A license deleted meanwhile has no queue to show (its card is gone from the boards).
          if (!(err instanceof SeatError && err.code === ErrorCode.NotFound)) log.error({ err, licenseId }, 'reading a queue for the board failed');
        });
    }, QUEUE_COALESCE_MS).unref();
  };

  parts.events.subscribe((event) => {
    // What this node's own sockets need; the dashboards heard of it where it happened.
    if (event.type === 'session.ended-elsewhere' || event.type === 'node.declared-dead' || event.type === 'queue.unplaced' || event.type === 'queue.recheck') return;
    const tenantId = event.type === 'audit' ? event.entry.tenantId : event.license.tenantId;
    const rooms = tenantId ? [OPERATOR_ROOM, tenantRoom(tenantId)] : [OPERATOR_ROOM];
    if (!heard(rooms)) return;
    const to = nsp.to(rooms);
    // Undefined when no board hears the license's sessions (they all watch other licenses).
    const toSessionWatchers = () => {
      const watchers = [...rooms.map(allSessionsRoom), ...(event.type === 'audit' ? [] : [watchRoom(event.license.id)])];
      return heard(watchers) ? nsp.to(watchers) : undefined;
    };
    switch (event.type) {
      case 'session.started':
      case 'session.resumed':
      case 'session.detached':
      case 'session.idle':
      case 'session.warning':
      case 'session.warning-cleared': {
        const kind = (
          {
            'session.started': 'granted',
            'session.resumed': 'resumed',
            'session.detached': 'detached',
            'session.idle': 'idle',
            'session.warning': 'warning',
            'session.warning-cleared': 'warning-cleared',
          } as const
        )[event.type];
        toSessionWatchers()?.emit('admin:session', {
          licenseId: event.license.id,
          seatsInUse: event.seatsInUse,
          session: sessionView(event.session),
          event: kind,
        });
        to.emit('admin:license', licenseView(event.license, event.seatsInUse));
        break;
      }
      // A seat the queue gave its first waiter (on whichever node it waits): a grant as any other.
      case 'queue.granted':
        toSessionWatchers()?.emit('admin:session', {
          licenseId: event.license.id,
          seatsInUse: event.seatsInUse,
          session: sessionView(event.session),
          event: event.resumed ? 'resumed' : 'granted',
        });
        to.emit('admin:license', licenseView(event.license, event.seatsInUse));
        break;
      case 'session.ended':
        toSessionWatchers()?.emit('admin:session-removed', {
          licenseId: event.license.id,
          seatsInUse: event.seatsInUse,
          sessionId: event.session.id,
          reason: event.reason,
        });
        to.emit('admin:license', licenseView(event.license, event.seatsInUse));
        break;
      case 'denied':
        to.emit('admin:denial', { ...denialView(event.denial), seatsInUse: event.seatsInUse });
        break;
      case 'license.changed':
        to.emit('admin:license', licenseView(event.license, event.seatsInUse));
        break;
      case 'queue.changed':
        sendQueue(event.license.id, rooms);
        break;
      case 'seat.requested':
        to.emit('admin:seat-request', { ...seatRequestView(event.request), licenseId: event.license.id });
        break;
      case 'audit': {
        const { entry } = event;
        // A deletion's entry is written once its transaction has ended the sessions: the board
        // heard their endings (and the license's last count) before it hears the license is gone.
        if (entry.action === 'license.delete' && entry.licenseId && entry.tenantId) {
          to.emit('admin:license-removed', { licenseId: entry.licenseId, tenantId: entry.tenantId });
        }
        // Moved to another tenant (the operator's): gone from the old tenant's boards, its
        // sessions' events no longer theirs (it holds none); the operator's boards keep it, and
        // the new tenant's get it with the `admin:license` that follows.
        if (entry.action === 'license.move' && entry.licenseId && entry.tenantId) {
          // Its boards watching it stop hearing its sessions (on every node).
          nsp.in(tenantRoom(entry.tenantId)).socketsLeave(watchRoom(entry.licenseId));
          nsp.to(tenantRoom(entry.tenantId)).emit('admin:license-removed', { licenseId: entry.licenseId, tenantId: entry.tenantId });
        }
        // A rotated tenant token stops working at once: the tenant's boards are let go (on every
        // node) and must connect again, which a board holding only the old token cannot.
        if (entry.action === 'tenant.token-rotate' && entry.tenantId) nsp.in(tenantRoom(entry.tenantId)).disconnectSockets(true);
        to.emit('admin:audit', auditView(entry));
        break;
      }
    }
  });

  return {
    start: () => presence?.start(),
    stop: () => presence?.stop(),
  };
}
