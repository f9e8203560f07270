// SeatLease: a seat for an app without a socket (docs/contract.md 8.4, "HTTP leases"): a service,
// a point-of-sale till, a batch job. It takes a lease over REST, renews it at half its interval,
// and lets it go on `release()` (or on Ctrl-C, when asked). Node 20's global fetch; no socket.
import type { EndReason, LeaseView } from '../../shared';

export const LeaseState = {
  /** Not asked yet, or asking. */
  Idle: 'idle',
  Acquiring: 'acquiring',
  Granted: 'granted',
  /** The seat was refused (`denial` says why). Call `acquire()` again to retry. */
  Denied: 'denied',
  /** The seat is gone (`ended` says why: kicked, the lease lapsed and its hold ran out, …). */
  Ended: 'ended',
  /** Let go by `release()`. */
  Released: 'released',
} as const;
export type LeaseState = (typeof LeaseState)[keyof typeof LeaseState];

/** A lease as POST and PUT /leases answer it (the wire contract's `LeaseView`). */
export type LeaseGrant = LeaseView;

export interface LeaseDenial {
  reason: string;
  message: string;
  seatsInUse?: number;
  seats?: number;
}

export interface LeaseEnded {
  /** An end reason (`kicked`, `license_suspended`, `seats_reduced`, `ended_by_app`, `idle_timeout`, …), or `not_found`. */
  reason: EndReason | 'not_found';
  message: string;
}

/** A refusal or failure: `status` 0 when the server did not answer; `final` when the lease gave up. */
export interface LeaseError {
  code: string;
  message: string;
  status: number;
  final: boolean;
}

export interface SeatLeaseOptions {
  /** The seat server's URL, e.g. `https://seats.example.com`. */
  url: string;
  /** A client token, or a function that gets a fresh one (called before every request). */
  token: string | (() => string | Promise<string>);
  /**
   * Release the lease when the process is told to stop (SIGINT, SIGTERM), then stop it as the
   * signal would. Default false. See `releaseOnSignals` for what it installs.
   */
  releaseOnExit?: boolean;
  /** After a renewal that failed for a retryable reason (no answer, 5xx, 429, an expired token): the wait before the next try (default 5000 ms). */
  retryMs?: number;
}

export interface SeatLeaseEvents {
  state: (state: LeaseState, previous: LeaseState) => void;
  granted: (grant: LeaseGrant) => void;
  denied: (denial: LeaseDenial) => void;
  renewed: (grant: LeaseGrant) => void;
  ended: (ended: LeaseEnded) => void;
  error: (error: LeaseError) => void;
}

/** Refusals a fresh token or a moment may mend: the renewal is tried again. */
const RETRYABLE = new Set(['token_expired', 'rate_limited', 'unavailable', 'network']);

export class SeatLease {
  state: LeaseState = LeaseState.Idle;
  grant: LeaseGrant | undefined;
  denial: LeaseDenial | undefined;
  ended: LeaseEnded | undefined;
  lastError: LeaseError | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly getToken: () => string | Promise<string>;
  private readonly listeners: { [K in keyof SeatLeaseEvents]: Set<SeatLeaseEvents[K]> } = {
    state: new Set(),
    granted: new Set(),
    denied: new Set(),
    renewed: new Set(),
    ended: new Set(),
    error: new Set(),
  };

  constructor(private readonly opts: SeatLeaseOptions) {
    const { token } = opts;
    this.getToken = typeof token === 'function' ? token : () => token;
    if (opts.releaseOnExit) this.releaseOnSignals();
  }

  on<K extends keyof SeatLeaseEvents>(event: K, fn: SeatLeaseEvents[K]): () => void {
    this.listeners[event].add(fn);
    return () => this.listeners[event].delete(fn);
  }

  /**
   * Takes a lease (POST /leases). Resolves with the grant, or undefined when the seat is denied
   * (`denied` is emitted); rejects with a `LeaseError` when the token is refused or the server
   * does not answer. Once granted, the lease renews itself at half its interval.
   */
  async acquire(): Promise<LeaseGrant | undefined> {
    // One lease per SeatLease: a second acquire() while granted is the same lease.
    if (this.state === LeaseState.Granted) return this.grant;
    this.stopTimer();
    this.setState(LeaseState.Acquiring);
    const r = await this.request('POST', '/leases');
    if (r.status === 201) {
      this.took(r.body as LeaseGrant);
      this.emit('granted', this.grant!);
      return this.grant;
    }
    const error = errorOf(r, true);
    if (r.status === 409) {
      this.denial = { reason: error.code, message: error.message, ...((r.body as { error?: { details?: object } })?.error?.details ?? {}) };
      this.setState(LeaseState.Denied);
      this.emit('denied', this.denial);
      return undefined;
    }
    this.fail(error);
    this.setState(LeaseState.Idle);
    throw Object.assign(new Error(`${error.code}: ${error.message}`), error);
  }

  /** Renews now (PUT /leases/:id); the next renewal is scheduled from the answer. */
  async renew(): Promise<void> {
    const leaseId = this.grant?.leaseId;
    if (!leaseId || this.state !== LeaseState.Granted) return;
    this.stopTimer();
    const r = await this.request('PUT', `/leases/${encodeURIComponent(leaseId)}`);
    // Released or ended while the request was out: nothing to do.
    if (this.state !== LeaseState.Granted) return;
    if (r.status === 200) {
      this.took(r.body as LeaseGrant);
      return void this.emit('renewed', this.grant!);
    }
    if (r.status === 410 || r.status === 404) {
      const e = errorOf(r, true);
      return this.finish({ reason: (r.status === 404 ? 'not_found' : e.code) as LeaseEnded['reason'], message: e.message });
    }
    const error = errorOf(r, false);
    // The token's license is gone: it was deleted while the lease was held (a lease is only
    // granted on a license that exists), so the lease ends as the sockets' sessions did.
    if (error.code === 'license_not_found') {
      this.fail({ ...error, final: true });
      return this.finish({ reason: 'license_deleted', message: 'This license was deleted' });
    }
    if (!RETRYABLE.has(error.code)) {
      this.fail({ ...error, final: true });
      return this.finish({ reason: 'ended', message: error.message });
    }
    // Past `renewBy` the lease lapses, but its seat is held for the idle timeout: a later renewal still gets it back.
    this.fail(error);
    this.schedule(this.opts.retryMs ?? 5000);
  }

  /** Lets go of the lease (DELETE): the seat is free at once when no other connection holds it. */
  async release(): Promise<void> {
    this.stopTimer();
    const leaseId = this.grant?.leaseId;
    const held = this.state === LeaseState.Granted;
    this.setState(LeaseState.Released);
    if (!leaseId || !held) return;
    const r = await this.request('DELETE', `/leases/${encodeURIComponent(leaseId)}`);
    // 404: nothing left to let go of (already lapsed and released, or released before).
    if (r.status !== 204 && r.status !== 404) {
      const error = errorOf(r, true);
      this.fail(error);
      throw Object.assign(new Error(`${error.code}: ${error.message}`), error);
    }
  }

  /**
   * Releases the lease when the process gets one of `signals`, then raises the signal again so
   * the process stops as it would have (with no other listener, Node's default: exit). The
   * handlers are installed with `process.once`; the returned function removes them. Outside Node
   * it does nothing.
   */
  releaseOnSignals(signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM']): () => void {
    if (typeof process === 'undefined' || typeof process.once !== 'function') return () => {};
    const handlers = signals.map((signal) => {
      const handler = () => {
        const done = () => process.kill(process.pid, signal);
        // A server that does not answer must not keep the process from stopping.
        const late = setTimeout(done, 5000);
        this.release().then(
          () => (clearTimeout(late), done()),
          () => (clearTimeout(late), done()),
        );
      };
      process.once(signal, handler);
      return [signal, handler] as const;
    });
    return () => {
      for (const [signal, handler] of handlers) process.off(signal, handler);
    };
  }

  // ---- inside ----

  private took(grant: LeaseGrant): void {
    this.grant = grant;
    this.denial = undefined;
    this.ended = undefined;
    this.setState(LeaseState.Granted);
    // Half the interval: a renewal that fails has the other half to be tried again.
    const intervalMs = grant.leaseIntervalSec > 0 ? grant.leaseIntervalSec * 1000 : Date.parse(grant.renewBy) - Date.now();
    this.schedule(Math.max(100, intervalMs / 2));
  }

  private finish(ended: LeaseEnded): void {
    this.stopTimer();
    this.ended = ended;
    this.setState(LeaseState.Ended);
    this.emit('ended', ended);
  }

  private fail(error: LeaseError): void {
    this.lastError = error;
    this.emit('error', error);
  }

  private schedule(ms: number): void {
    this.stopTimer();
    // Not unref'd: a granted lease keeps a Node process running until `release()` (or its end),
    // so a program that forgot to release does not leave its seat to lapse and idle for hours.
    this.timer = setTimeout(() => void this.renew().catch(() => {}), ms);
  }

  private stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async request(method: string, path: string): Promise<{ status: number; body: unknown }> {
    try {
      const token = await this.getToken();
      const res = await fetch(`${this.opts.url.replace(/\/+$/, '')}/api/v1${path}`, { method, headers: { authorization: `Bearer ${token}` } });
      const text = await res.text();
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = undefined;
      }
      return { status: res.status, body };
    } catch (err) {
      return { status: 0, body: { error: { code: 'network', message: err instanceof Error ? err.message : String(err) } } };
    }
  }

  private setState(state: LeaseState): void {
    const previous = this.state;
    if (previous === state) return;
    this.state = state;
    this.emit('state', state, previous);
  }

  private emit<K extends keyof SeatLeaseEvents>(event: K, ...args: Parameters<SeatLeaseEvents[K]>): void {
    for (const fn of this.listeners[event]) {
      try {
        (fn as (...a: Parameters<SeatLeaseEvents[K]>) => void)(...args);
      } catch {
        // A listener's failure is its own.
      }
    }
  }
}

function errorOf(r: { status: number; body: unknown }, final: boolean): LeaseError {
  const e = (r.body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const code = typeof e?.code === 'string' ? e.code : r.status >= 500 ? 'unavailable' : `http_${r.status}`;
  const message = typeof e?.message === 'string' ? e.message : `the server answered ${r.status}`;
  return { code, message, status: r.status, final };
}
