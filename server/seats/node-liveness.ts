// Node liveness: this node's heartbeat; the rows of nodes that stopped beating (or of this node's
// past life) let go; and what this node missed while it was cut off (taken for dead, or sessions
// ended on other nodes while Redis was away), told as domain events.
import type { SeatServerConfig } from '../config';
import type { EventBus } from './event-bus';
import { END_MESSAGE } from './messages';
import { every } from './periodic';
import type { QueuesLeft, SeatStore } from './seat-store';
import type { StoreTrouble } from './token-auth';
import type { DetachOutcome } from './types';

export type LivenessOptions = Pick<SeatServerConfig, 'heartbeatIntervalMs' | 'nodeTimeoutMs' | 'nodeId' | 'stableNodeId'> & {
  /** Many nodes share the store (Redis set). On one node, every other connection row is from a past life. */
  cluster: boolean;
};

/** What liveness needs of the engine: the detaches the store did not take, to retry. */
export interface DetachRetry {
  readonly pendingDetaches: ReadonlySet<string>;
  detach(socketId: string): Promise<void>;
}

export interface NodeLivenessDeps {
  store: Pick<SeatStore, 'heartbeat' | 'reapNodes' | 'releaseNode' | 'endedAmong' | 'getLicense'>;
  bus: EventBus;
  trouble: StoreTrouble;
  seats: DetachRetry;
  options: LivenessOptions;
  /** The session ids of this node's sockets, read on each beat (the app namespace's, in seat-server.ts). */
  localSessions: () => Iterable<string>;
  /** Up to when the activity this node heard is on record (inactivity.ts), written with each beat. */
  heardThrough?: (now: number) => number;
  now: () => number;
}

export class NodeLiveness {
  private beating?: NodeJS.Timeout;
  /** Until then this node declares no other node dead: they too need a beat after a store outage. */
  private reapNotBefore = 0;
  private lastBeatFailed = false;
  /** When this node's last heartbeat was written (its answer came back). */
  private lastBeatDone = 0;

  constructor(private readonly deps: NodeLivenessDeps) {}

  /** Clears rows of this node's past life and of dead nodes, writes the first beat, then beats. */
  async start(): Promise<void> {
    const { store, options, now } = this.deps;
    if (options.stableNodeId) await this.releaseOwn();
    const at = now();
    await store.heartbeat(options.nodeId, at, this.deps.heardThrough?.(at));
    this.lastBeatDone = now();
    await this.reap(!options.cluster);
    this.beating = every(options.heartbeatIntervalMs, () => this.beat(), this.deps.bus.onError);
  }

  /** Stops beating. With `release`, this node's sockets are let go so their sessions go idle. */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    clearInterval(this.beating);
    if (opts.release) await this.releaseOwn();
  }

  /** Lets go of this node's rows (of its past life, or at a graceful stop). */
  private releaseOwn(): Promise<void> {
    return this.letGo((queuesLeft) => this.deps.store.releaseNode(this.deps.options.nodeId, this.deps.now(), { queuesLeft }));
  }

  private async beat(): Promise<void> {
    const { store, trouble, seats, bus, options, now } = this.deps;
    try {
      // Our row gone: another node took this one for dead and let go of its sockets' rows.
      // Those sockets must reconnect (and resume) to be counted again.
      const at = now();
      if (!(await trouble.watch(store.heartbeat(options.nodeId, at, this.deps.heardThrough?.(at))))) bus.publish({ type: 'node.declared-dead' });
    } catch (err) {
      this.lastBeatFailed = true;
      throw err;
    }
    // Back from a store outage, the other nodes could not beat either, so give them a full node
    // timeout to do so before taking any of them for dead. An outage need not fail a beat: a
    // database gone silent (a network dropping packets) holds it until it answers, and the
    // process itself may have been stalled. So a beat that answers long after the one before
    // (half a node timeout: the others' beats may have waited as long, and need their turn) counts
    // as a return too.
    const done = now();
    if (this.lastBeatFailed || done - this.lastBeatDone > options.nodeTimeoutMs / 2) this.reapNotBefore = done + options.nodeTimeoutMs;
    this.lastBeatFailed = false;
    this.lastBeatDone = Math.max(this.lastBeatDone, done);
    for (const socketId of [...seats.pendingDetaches]) await seats.detach(socketId);
    if (now() >= this.reapNotBefore) await this.reap(false);
    await this.reconcileLocal();
  }

  private async reap(allOthers: boolean): Promise<void> {
    const { store, options, now } = this.deps;
    const at = now();
    await this.letGo((queuesLeft) => store.reapNodes({ deadBefore: at - options.nodeTimeoutMs, now: at, keep: options.nodeId, allOthers, clock: now, queuesLeft }));
  }

  /**
   * Runs a release of nodes' rows and tells what it changed. Their queued sockets are out of their
   * queues too (their places kept for a reconnect): those behind them moved up, and are told on
   * every node, as when a socket leaves a queue.
   */
  private async letGo(release: (queuesLeft: QueuesLeft) => Promise<DetachOutcome[]>): Promise<void> {
    const queues = new Set<string>();
    this.released(await release((ids) => ids.forEach((id) => queues.add(id))));
    for (const id of queues) {
      const license = await this.deps.store.getLicense(id);
      if (license) this.deps.bus.publish({ type: 'queue.changed', license });
    }
  }

  /**
   * With many nodes, an ending decided on another node reaches this node's sockets through Redis;
   * one that Redis lost (an outage) is found here, on the next beat.
   */
  private async reconcileLocal(): Promise<void> {
    if (!this.deps.options.cluster) return;
    const ids = [...new Set(this.deps.localSessions())];
    for (let i = 0; i < ids.length; i += 500) {
      for (const e of await this.deps.store.endedAmong(ids.slice(i, i + 500))) {
        this.deps.bus.publish({ type: 'session.ended-elsewhere', sessionId: e.sessionId, reason: e.reason, message: END_MESSAGE[e.reason] });
      }
    }
  }

  /**
   * Sessions whose sockets' rows were let go are idle now (the engine's timers follow the event),
   * or live on with their tabs on other nodes.
   */
  private released(outcomes: DetachOutcome[]): void {
    for (const o of outcomes) this.deps.bus.publish({ type: o.session.state === 'idle' ? 'session.idle' : 'session.detached', ...o });
  }
}
