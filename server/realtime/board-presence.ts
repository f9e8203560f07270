// Which dashboards' rooms have boards on other nodes of a cluster. A node sends a change to the
// boards through Redis only when some node has a board in one of its rooms: a cluster nobody
// watches (the common case, and a mass disconnect's thousands of changes) publishes nothing for
// the boards, where every change was encoded, published, and read back by every node.
//
// Each node tells the others the rooms its boards are in: when a board joins a room, and before
// the board gets its snapshot (or its watch's answer), the node waits until every other node has
// heard (or a second has passed). A change another node skipped before it heard was committed
// before the snapshot was read, so the snapshot holds it; every change after reaches the board.
// The rooms are told again every heartbeat interval while there are any, and forgotten a node
// timeout after a node last told them (a node that died). A node that has just started asks the
// others for theirs and, until they answer, sends every change.
import { randomUUID } from 'node:crypto';
import type { Namespace } from 'socket.io';
import type { Logger } from '../logger';

/** How long a board's snapshot waits for the other nodes to hear of its rooms at most. */
export const TELL_WAIT_MS = 1000;

const TELL = 'board:rooms';
const ASK = 'board:ask';

interface Told {
  node: string;
  rooms: string[];
}

export interface BoardPresenceOptions {
  /** Whether a room is one of the boards' (not a socket's own). */
  isBoardRoom: (room: string) => boolean;
  /** How often the rooms are told again (HEARTBEAT_INTERVAL_MS). */
  intervalMs: number;
  /** How long another node's rooms are kept after it last told them (NODE_TIMEOUT_MS). */
  forgetMs: number;
  now?: () => number;
}

export class BoardPresence {
  private readonly node = randomUUID();
  private readonly remote = new Map<string, { rooms: Set<string>; until: number }>();
  /** Until the other nodes answered the first ask (or it timed out), every room counts as watched. */
  private knowing = false;
  private timer: ReturnType<typeof setInterval> | undefined;
  /** A leave told once per turn, however many boards left in it. */
  private leaveDue = false;
  /** Whether the last rooms told were none (a node with no boards tells nothing more). */
  private toldNone = true;
  private readonly now: () => number;

  constructor(
    private readonly nsp: Namespace<any, any, any, any>,
    private readonly opts: BoardPresenceOptions,
    private readonly log: Logger,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** Once the cluster's adapter is attached: listens, asks the other nodes, tells again every interval. */
  start(): void {
    const nsp = this.nsp as unknown as { on(ev: string, fn: (...args: any[]) => void): void };
    nsp.on(TELL, (told: Told, ack?: () => void) => {
      this.heard(told);
      if (typeof ack === 'function') ack();
    });
    nsp.on(ASK, (ack?: (told: Told) => void) => {
      if (typeof ack === 'function') ack({ node: this.node, rooms: this.localRooms() });
    });
    // Answers that come after the wait are kept too.
    void this.withAck<Told>(ASK, [], (answers) => answers.forEach((told) => this.heard(told))).finally(() => (this.knowing = true));
    this.timer = setInterval(() => {
      if (this.localRooms().length > 0) void this.tell(false);
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Whether a board on any node is in one of these rooms. */
  heardBy(rooms: readonly string[]): boolean {
    const local = this.nsp.adapter.rooms;
    if (rooms.some((room) => local.has(room))) return true;
    if (!this.knowing) return true;
    const now = this.now();
    for (const [node, entry] of this.remote) {
      if (entry.until < now) this.remote.delete(node);
      else if (rooms.some((room) => entry.rooms.has(room))) return true;
    }
    return false;
  }

  /** A board joined rooms: resolves once every other node has heard (or after TELL_WAIT_MS). */
  joined(): Promise<void> {
    return this.tell(true);
  }

  /** A board left rooms (or disconnected): the others hear of it after this turn. */
  left(): void {
    if (this.leaveDue) return;
    this.leaveDue = true;
    setImmediate(() => {
      this.leaveDue = false;
      void this.tell(false);
    });
  }

  private localRooms(): string[] {
    return [...this.nsp.adapter.rooms.keys()].filter((room) => this.opts.isBoardRoom(room));
  }

  private heard(told: Told): void {
    if (!told || typeof told.node !== 'string' || !Array.isArray(told.rooms) || told.node === this.node) return;
    if (told.rooms.length === 0) this.remote.delete(told.node);
    else this.remote.set(told.node, { rooms: new Set(told.rooms), until: this.now() + this.opts.forgetMs });
  }

  private async tell(waitForAll: boolean): Promise<void> {
    const rooms = this.localRooms();
    // A node that had no boards and still has none has nothing new to say.
    if (rooms.length === 0 && this.toldNone) return;
    this.toldNone = rooms.length === 0;
    const told: Told = { node: this.node, rooms };
    if (waitForAll) await this.withAck(TELL, [told]);
    else {
      try {
        this.nsp.serverSideEmit(TELL, told);
      } catch (err) {
        this.log.warn({ err }, 'telling the other nodes of the boards failed');
      }
    }
  }

  /**
   * Sends to every other node; resolves once each answered, or after TELL_WAIT_MS (a node that
   * died is forgotten later). `answered` gets what came, whenever it comes.
   */
  private withAck<T>(event: string, args: unknown[], answered?: (answers: T[]) => void): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, TELL_WAIT_MS);
      try {
        this.nsp.serverSideEmit(event, ...args, (err: Error | null, answers: T[]) => {
          clearTimeout(timer);
          if (err) this.log.debug({ err }, 'not every node answered about the boards');
          answered?.(answers ?? []);
          resolve();
        });
      } catch (err) {
        clearTimeout(timer);
        this.log.warn({ err }, 'asking the other nodes about the boards failed');
        resolve();
      }
    });
  }
}
