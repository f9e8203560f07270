// SeatClient: the SDK apps embed (browsers and Node). One socket per tab or app; it reports the
// seat's state, fetches a fresh token on every (re)connect, and stops reconnecting once the seat
// is refused, kicked or ended.
import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import type {
  EndSessionAck,
  AuthErrorData,
  ClientToServerEvents,
  SeatDeniedPayload,
  SeatErrorPayload,
  SeatDemandPayload,
  SeatGrantedPayload,
  SeatQueuedPayload,
  SeatWarningPayload,
  ServerToClientEvents,
  SessionEndedPayload,
} from '../../shared';
import { trackBrowserActivity } from './activity-tracker';

export const SeatState = {
  Connecting: 'connecting',
  Granted: 'granted',
  Denied: 'denied',
  Ended: 'ended',
  Offline: 'offline',
  /** The connection was lost and the offline grace of the newest seat receipt ran out before it came back. */
  Expired: 'expired',
  /** Waiting in the license's queue (the `queue` option): `client.queue` says where. */
  Queued: 'queued',
} as const;
export type SeatState = (typeof SeatState)[keyof typeof SeatState];

export interface SeatClientOptions {
  /** The seat server's URL, e.g. `https://seats.example.com`. */
  url: string;
  /** A client token, or a function that fetches a fresh one (called on every connect attempt). */
  token: string | (() => string | Promise<string>);
  /** Connect on construction (default true); otherwise call `connect()`. */
  autoConnect?: boolean;
  /**
   * Report the user's activity for inactivity release: in a browser, pointer, key, wheel, scroll
   * and the tab coming back into view (default false; call `activity()` yourself otherwise).
   */
  trackActivity?: boolean;
  /** Activity is reported at most this often (default 15000 ms); at once while a warning is pending. */
  activityThrottleMs?: number;
  /**
   * Wait in the license's queue when no seat is free (the license must have `queue: true`): the
   * state is `queued`, with `client.queue` saying where, until the seat is granted.
   */
  queue?: boolean;
  /** Passed to socket.io-client (e.g. `transports`, `reconnectionDelayMax`). */
  socketOptions?: Partial<ManagerOptions & SocketOptions>;
  /** Where the server's receipt keys are published (default `<url>/.well-known/jwks.json`). */
  jwksUrl?: string;
}

/**
 * The `warning` of offline grace: the connection to the seat server is lost, and the seat stays
 * usable on its newest verified receipt until `offlineUntil` (`releasesAt` is the same time in
 * ISO, as in the server's warnings). Ended by `warning-cleared` `{ reason: 'offline' }` when the
 * server takes the client back, or by the state `expired` when the grace runs out first.
 */
export interface OfflineWarning {
  reason: 'offline';
  offlineUntil: Date;
  releasesAt: string;
  message: string;
}

/** Auth failures that a retry with a fresh token cannot mend are final; the others are retried. */
const RETRYABLE = new Set(['token_expired', 'rate_limited', 'unavailable']);

export interface SeatClientEvents {
  state: (state: SeatState, previous: SeatState) => void;
  granted: (grant: SeatGrantedPayload) => void;
  denied: (denial: SeatDeniedPayload) => void;
  ended: (ended: SessionEndedPayload) => void;
  /** The seat goes at `releasesAt` unless the user does something (`activity()`), reason `inactive`. */
  warning: (warning: SeatWarningPayload | OfflineWarning) => void;
  /** Activity arrived in time, or the server is reachable again (`offline`): the warning is over. */
  'warning-cleared': (cleared: { reason: SeatWarningPayload['reason'] | OfflineWarning['reason'] }) => void;
  /** Where this client stands in the license's queue, whenever it moves. */
  queued: (place: SeatQueuedPayload) => void;
  /** How many clients wait for a seat of the license (told to the holders when it changes). */
  demand: (demand: SeatDemandPayload) => void;
  /** An authentication failure (`final` when the client gave up) or a `seat:error` from the server. */
  error: (error: (AuthErrorData & { final: boolean }) | SeatErrorPayload) => void;
}

export class SeatClient {
  state: SeatState = SeatState.Offline;
  grant: SeatGrantedPayload | undefined;
  denial: SeatDeniedPayload | undefined;
  ended: SessionEndedPayload | undefined;
  lastError: AuthErrorData | undefined;
  /** The pending inactivity warning, if any. */
  warning: SeatWarningPayload | undefined;
  /** Until when the newest verified seat receipt lets the app work without the server (offline grace). */
  offlineUntil: Date | undefined;
  /** Where this client waits in the license's queue, while it does. */
  queue: SeatQueuedPayload | undefined;
  /** How many wait for a seat of the license, as last told. */
  waiting: number | undefined;
  readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  private readonly listeners: { [K in keyof SeatClientEvents]: Set<SeatClientEvents[K]> } = {
    state: new Set(),
    granted: new Set(),
    denied: new Set(),
    ended: new Set(),
    warning: new Set(),
    'warning-cleared': new Set(),
    queued: new Set(),
    demand: new Set(),
    error: new Set(),
  };
  private readonly activityThrottleMs: number;
  private lastActivitySent = 0;
  /** The seat was released for inactivity: the next activity connects again. */
  private returning = false;
  private stopTracking: () => void = () => {};
  /** Set once the server has refused or ended the seat: no more reconnects. */
  private finished = false;
  /** `endSession()` calls waiting for the admission. */
  private readonly waiters = new Set<(granted: boolean) => void>();
  /** The server could not admit this socket (`seat:error` `unavailable`): try again once it closes. */
  private retryAfterClose = false;
  /** Activity came back after an ending the server had not closed the socket for yet: connect once it has. */
  private returnAfterClose = false;
  private readonly jwksUrl: string;
  /** The server's receipt keys, fetched once (again when a receipt names a key not among them). */
  private keys: Promise<JWTVerifyGetKey> | undefined;
  /** Set while the connection is lost and a valid receipt keeps the seat usable. */
  private graceTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(opts: SeatClientOptions) {
    this.activityThrottleMs = opts.activityThrottleMs ?? 15_000;
    if (opts.trackActivity) this.stopTracking = trackBrowserActivity(() => this.activity());
    const getToken = typeof opts.token === 'function' ? opts.token : () => opts.token as string;
    this.socket = io(opts.url, {
      transports: ['websocket'],
      ...opts.socketOptions,
      autoConnect: false,
      auth: (cb) => {
        Promise.resolve()
          .then(getToken)
          .then((token) => cb(opts.queue ? { token, queue: true } : { token }))
          .catch(() => cb({ token: '' }));
      },
    });
    const s = this.socket;
    this.jwksUrl = opts.jwksUrl ?? `${opts.url.replace(/\/+$/, '')}/.well-known/jwks.json`;
    this.watchReceipts();
    s.on('connect', () => this.setState(SeatState.Connecting));
    s.on('seat:granted', (grant) => {
      this.grant = grant;
      // A grant is activity on the server too.
      this.lastActivitySent = Date.now();
      this.queue = undefined;
      this.returning = false;
      this.ended = undefined;
      this.denial = undefined;
      this.setState(SeatState.Granted);
      this.emit('granted', grant);
    });
    s.on('seat:denied', (denial) => {
      this.denial = denial;
      this.finish(SeatState.Denied);
      this.emit('denied', denial);
    });
    s.on('session:ended', (ended) => {
      this.ended = ended;
      this.warning = undefined;
      this.returning = ended.reason === 'inactive';
      this.finish(SeatState.Ended);
      this.emit('ended', ended);
    });
    s.on('seat:queued', (place) => {
      this.queue = place;
      this.setState(SeatState.Queued);
      this.emit('queued', place);
    });
    s.on('seat:demand', (demand) => {
      this.waiting = demand.waiting;
      this.emit('demand', demand);
    });
    s.on('seat:warning', (warning) => {
      this.warning = warning;
      this.emit('warning', warning);
    });
    s.on('seat:warning-cleared', (cleared) => {
      this.warning = undefined;
      this.emit('warning-cleared', cleared);
    });
    s.on('seat:error', (error) => {
      if (error.code === 'license_not_found' || error.code === 'missing_claim') {
        // The handshake's refusal, told after it (the license changed on another node meanwhile): final, as there.
        const data = { reason: error.code, message: error.message };
        this.lastError = data;
        this.emit('error', { ...data, final: true });
        return this.finish(SeatState.Denied);
      }
      if (error.code === 'unavailable') this.retryAfterClose = true;
      this.emit('error', error);
    });
    s.on('connect_error', (err: Error & { data?: AuthErrorData }) => {
      const data = err.data ?? { reason: 'unavailable', message: err.message };
      this.lastError = data;
      // socket.io does not retry a refusal from the server's middleware: retry ourselves when a
      // fresh token (or a moment) can fix it.
      const final = !RETRYABLE.has(data.reason);
      this.emit('error', { ...data, final });
      if (final) return this.finish(SeatState.Denied);
      this.setState(SeatState.Offline);
      if (!s.active && !this.finished) setTimeout(() => !this.finished && s.connect(), 1000);
    });
    s.on('disconnect', () => {
      if (this.finished) return;
      if (this.returnAfterClose) {
        this.returnAfterClose = false;
        this.connect();
        return;
      }
      this.setState(s.active ? SeatState.Connecting : SeatState.Offline);
      // The server closed the socket because its store failed mid-admission: socket.io does not
      // reconnect after a server-side close, so try again in a moment, as for `unavailable`.
      if (this.retryAfterClose && !s.active) {
        this.retryAfterClose = false;
        setTimeout(() => !this.finished && !s.active && s.connect(), 1000);
      }
    });
    if (opts.autoConnect ?? true) this.connect();
  }

  connect(): this {
    if (this.finished) return this;
    this.setState(SeatState.Connecting);
    this.socket.connect();
    return this;
  }

  on<K extends keyof SeatClientEvents>(event: K, fn: SeatClientEvents[K]): () => void {
    this.listeners[event].add(fn);
    return () => this.listeners[event].delete(fn);
  }

  /**
   * The app's own logic ends its session: every tab of it gets `ended` (`ended_by_app`) and the
   * seat is free at once.
   *
   * It may be called at any time. Before the admission (`connecting`, or `offline` between
   * reconnects) it waits for it, then ends the seat once granted. When there is no seat to end,
   * because the client is or ends up denied, its session already ended, or `close()` was called,
   * it resolves without doing anything. It rejects only when the server refuses, or does not
   * answer within `timeoutMs` of the request.
   */
  async endSession(timeoutMs = 5000): Promise<void> {
    if (!(await this.admission())) return;
    let result: EndSessionAck;
    try {
      result = await this.socket.timeout(timeoutMs).emitWithAck('session:end');
    } catch (err) {
      // Ended meanwhile (another tab's `endSession()`, a kick), and let go before the answer came
      // (a server of an older version): there is no seat left to end.
      if (this.state === SeatState.Ended) return;
      throw err;
    }
    if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  }

  /**
   * The user did something: keeps the session's seat (every tab of it) for inactivity release.
   * Throttled to one report per `activityThrottleMs`, except while a warning is pending. After the
   * seat was released for inactivity (`ended` with reason `inactive`), it connects again: granted
   * when a seat is free, else `denied` with the license's message.
   */
  activity(): void {
    const now = Date.now();
    // Released for inactivity: come back on the user's next activity (again later if denied then).
    if (this.returning && (this.state === SeatState.Ended || this.state === SeatState.Denied)) {
      if (this.state === SeatState.Denied && now - this.lastActivitySent < this.activityThrottleMs) return;
      this.lastActivitySent = now;
      this.finished = false;
      this.socket.io.reconnection(true);
      // The server closes the socket just after telling it the seat ended: connecting before that
      // close would do nothing, and the close would then leave this client offline.
      if (this.socket.connected) {
        this.returnAfterClose = true;
        this.setState(SeatState.Connecting);
      } else this.connect();
      return;
    }
    if (this.state !== SeatState.Granted) return;
    if (!this.warning && now - this.lastActivitySent < this.activityThrottleMs) return;
    this.lastActivitySent = now;
    this.socket.emit('session:activity');
  }

  /** Closes this tab's socket; the seat is held for the idle timeout if it was the last one. */
  close(): void {
    this.stopTracking();
    this.finished = true;
    this.socket.disconnect();
    this.setState(SeatState.Offline);
    this.settleWaiters();
  }

  // ---- offline grace (signed seat receipts) ----

  /** Registered before the other listeners, so the grace is settled before the state moves. */
  private watchReceipts(): void {
    const s = this.socket;
    s.on('seat:granted', (grant) => {
      const back = this.endGrace();
      if (!grant.receipt) this.offlineUntil = undefined;
      else void this.acceptReceipt(grant.receipt, grant);
      if (back) this.emit('warning-cleared', { reason: 'offline' });
    });
    s.on('seat:receipt', ({ receipt }) => {
      if (this.grant) void this.acceptReceipt(receipt, this.grant);
    });
    s.on('seat:denied', () => this.endGrace());
    s.on('session:ended', () => this.endGrace());
    s.on('disconnect', () => {
      const until = this.offlineUntil?.getTime() ?? 0;
      if (this.finished || this.state !== SeatState.Granted || until <= Date.now() || this.graceTimer !== undefined) return;
      const wait = () => {
        // A grace may be longer than a timer can wait (about 24.8 days): wait the most, then again.
        this.graceTimer = setTimeout(() => {
          if (Date.now() < until) return wait();
          this.graceTimer = undefined;
          if (!this.finished) this.setState(SeatState.Expired);
        }, Math.min(2 ** 31 - 1, until - Date.now()));
        // Node: a pending grace does not keep the process alive.
        (this.graceTimer as { unref?: () => void }).unref?.();
      };
      wait();
      const offlineUntil = new Date(until);
      this.emit('warning', {
        reason: 'offline',
        offlineUntil,
        releasesAt: offlineUntil.toISOString(),
        message: 'The seat server cannot be reached; the app keeps working offline until the seat receipt expires',
      });
    });
  }

  /** Ends the offline grace; true when it was on. */
  private endGrace(): boolean {
    if (this.graceTimer === undefined) return false;
    clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    return true;
  }

  /**
   * Checks a receipt against the server's published keys (fetched once) and, when it is this
   * session's and valid, moves `offlineUntil` to its expiry. A receipt that does not verify is
   * ignored: it cannot extend the grace.
   */
  private async acceptReceipt(receipt: string, grant: SeatGrantedPayload): Promise<void> {
    let payload;
    try {
      payload = (await jwtVerify(receipt, await this.receiptKeys(), { algorithms: ['EdDSA'] })).payload;
    } catch (err) {
      // A key rotated in since the keys were fetched: fetch them again, once.
      if (!(err instanceof joseErrors.JWKSNoMatchingKey)) return;
      this.keys = undefined;
      try {
        payload = (await jwtVerify(receipt, await this.receiptKeys(), { algorithms: ['EdDSA'] })).payload;
      } catch {
        return;
      }
    }
    if (payload.lic !== grant.licenseId || payload.sid !== grant.sessionId || payload.exp === undefined) return;
    if (this.offlineUntil === undefined || payload.exp * 1000 > this.offlineUntil.getTime()) this.offlineUntil = new Date(payload.exp * 1000);
  }

  private receiptKeys(): Promise<JWTVerifyGetKey> {
    this.keys ??= fetch(this.jwksUrl)
      .then(async (res) => {
        if (!res.ok) throw new Error(`${this.jwksUrl}: ${res.status}`);
        return createLocalJWKSet((await res.json()) as JSONWebKeySet);
      })
      .catch((err: unknown) => {
        // Not cached: the next receipt tries again.
        this.keys = undefined;
        throw err;
      });
    return this.keys;
  }

  /** True once the seat is granted; false once there will be none (denied, ended or closed). */
  private admission(): Promise<boolean> {
    return new Promise((resolve) => {
      this.waiters.add(resolve);
      this.settleWaiters();
    });
  }

  private settleWaiters(): void {
    const granted = this.state === SeatState.Granted;
    if (!granted && !this.finished) return;
    for (const resolve of this.waiters) resolve(granted);
    this.waiters.clear();
  }

  private finish(state: SeatState): void {
    this.finished = true;
    this.socket.io.reconnection(false);
    this.setState(state);
    this.settleWaiters();
  }

  private setState(next: SeatState): void {
    // Offline grace: a lost connection and the attempts to reconnect leave the seat usable, and
    // once the grace has run out, `expired` until the server answers again.
    const graced = this.graceTimer !== undefined || this.state === SeatState.Expired;
    if (graced && !this.finished && (next === SeatState.Connecting || next === SeatState.Offline)) return;
    if (next === this.state) return;
    const previous = this.state;
    this.state = next;
    this.emit('state', next, previous);
    this.settleWaiters();
  }

  private emit<K extends keyof SeatClientEvents>(event: K, ...args: Parameters<SeatClientEvents[K]>): void {
    for (const fn of this.listeners[event]) (fn as (...a: Parameters<SeatClientEvents[K]>) => void)(...args);
  }
}
