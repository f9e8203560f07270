// The webhooks' HTTP client (docs/contract.md "Webhooks"): one POST per attempt over kept-alive
// connections, with the private-address guard where the connection is made. `fetch` cost about
// twice node:http's CPU per request (WHATWG streams around every body), and looking the host up
// before each attempt was a second lookup that fetch then did again for itself: the address
// checked was not necessarily the one connected to. Here the address connected to is the one
// checked, on every new connection; a kept-alive connection goes on to the address it was checked at.
//
// The requests go through undici's Client (one connection each) with a bare handler: node:http's
// client (ClientRequest, IncomingMessage, the agent's socket bookkeeping) was about 70% of the
// server's webhook CPU in the bench's profile; undici parses with llhttp too but makes no stream
// per request or answer, and the answer's body is dropped chunk by chunk without being read.
// undici is loaded with the first attempt (its own chunk of the bundle, server/build.mjs): a node
// that sends no webhook never parses or runs its megabyte of code, and starts that much sooner.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import type { buildConnector, Client, Dispatcher } from 'undici';
import { type AttemptResult, isPrivateAddress } from './decisions/webhook-delivery';

export interface WebhookPost {
  url: string;
  body: string;
  headers: Record<string, string>;
  /** The worker's stop: abandons the attempt. */
  stop: AbortSignal;
  /** The attempt's deadline, the address lookup included: it must end inside the claim. */
  timeoutMs: number;
}

class PrivateAddress extends Error {}

const refusal = (host: string) => new PrivateAddress(`refused: ${host} resolves to a private address`);

/** dns.lookup that fails when any address of the host is private (the same rule as at creation). */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
    if (err) return callback(err, '', 0);
    if (addresses.some((a) => isPrivateAddress(a.address))) return callback(refusal(hostname), '', 0);
    if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    callback(null, addresses[0]!.address, addresses[0]!.family);
  });
};

/** The connection closed before an answer (undici's own code for it, and the socket's). */
const DROPPED = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

/** One undici Client holds at most one connection; here it carries one request at a time. */
interface Conn {
  client: Client;
  origin: string;
  /** Requests written on its current connection: one before means the connection was reused. */
  sent: number;
  idle: boolean;
}

const noop = () => undefined;

export class WebhookHttp {
  /** Per origin, the connections kept alive between attempts. */
  private readonly idle = new Map<string, Conn[]>();
  /** Every connection, idle or under way, for `close`. */
  private readonly conns = new Set<Conn>();
  /** undici and the Clients' options, once the first attempt has loaded it. */
  private undici?: { Client: typeof Client; options: Client.Options };
  private loading?: Promise<unknown>;

  constructor(private readonly allowPrivate: boolean) {}

  /** Loads undici (once; again after a failure) and makes the one connector every connection shares. */
  private load(): Promise<unknown> {
    this.loading ??= import('undici').then(
      // undici is CommonJS: `default` holds its exports both in the bundle's chunk (which has no
      // named exports) and under Node's own loader.
      ({ default: undici }) => (this.undici = { Client: undici.Client, options: this.clientOptions(undici.buildConnector) }),
      (err: Error) => {
        this.loading = undefined;
        throw err;
      },
    );
    return this.loading;
  }

  private clientOptions(connector: typeof buildConnector): Client.Options {
    const { allowPrivate } = this;
    return {
      // An idle connection is closed after 30 s, or a second before the receiver says it closes
      // its own (`Keep-Alive: timeout=`), so an attempt rarely goes out on a connection the
      // receiver is closing.
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 30_000,
      keepAliveTimeoutThreshold: 1_000,
      // The attempt's own deadline covers the whole exchange.
      headersTimeout: 0,
      bodyTimeout: 0,
      // One connector for all (its options go to net.connect / tls.connect, and it keeps the TLS
      // sessions to resume): every new connection's addresses are checked. No connect timeout of
      // its own (undici's is 10 s): the attempt's deadline covers the connect, whatever
      // WEBHOOK_TIMEOUT_MS is.
      connect: connector({ timeout: 0, ...(allowPrivate ? {} : { lookup: guardedLookup }) }),
    };
  }

  /** One POST; any answer or failure is a result, never a throw. */
  post(p: WebhookPost): Promise<AttemptResult> {
    if (!this.undici) {
      return this.load().then(
        () => this.post(p),
        (err: Error) => ({ error: `the HTTP client could not be loaded: ${err.message}` }),
      );
    }
    let url: URL;
    try {
      url = new URL(p.url);
    } catch {
      return Promise.resolve({ error: `not a URL: ${p.url}` });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return Promise.resolve({ error: `${url.protocol} is not http or https` });
    const host = url.hostname.replace(/^\[|\]$/g, '');
    // A literal address is connected to without a lookup, so it is checked here.
    if (!this.allowPrivate && isIP(host) && isPrivateAddress(host)) return Promise.resolve({ error: refusal(host).message });
    if (p.stop.aborted) return Promise.resolve({ error: 'stopped' });
    const request: Dispatcher.DispatchOptions = {
      path: url.pathname + url.search,
      method: 'POST',
      headers: p.headers,
      body: p.body,
    };
    return new Promise<AttemptResult>((resolve) => {
      let settled = false;
      /** The connection the attempt is on, until its exchange is over. */
      let conn: Conn | undefined;
      const settle = (r: AttemptResult) => {
        if (settled) return;
        settled = true;
        resolve(r);
      };
      // One timer and one listener per attempt, both let go when it ends (AbortSignal.timeout and
      // AbortSignal.any cost about 20 µs an attempt, and left a 10 s timer behind each one).
      const over = () => {
        clearTimeout(timer);
        p.stop.removeEventListener('abort', onStop);
      };
      // Abandoned (the deadline, or the worker's stop): the connection goes with it, its lookup,
      // connect or exchange included.
      const abandon = (error: string) => {
        over();
        if (conn) this.drop(conn);
        conn = undefined;
        settle({ error });
      };
      const timer = setTimeout(() => abandon(`no answer within ${p.timeoutMs} ms`), p.timeoutMs);
      const onStop = () => abandon('stopped');
      p.stop.addEventListener('abort', onStop, { once: true });

      const send = (c: Conn, retried: boolean) => {
        conn = c;
        let reused = false;
        let answered = false;
        c.client.dispatch(request, {
          onConnect: () => {
            reused = c.sent++ > 0;
          },
          // Resolves with the status when the answer's head arrives; redirects are not followed
          // (a Client never does): a 3xx is a failed attempt.
          onHeaders: (status) => {
            answered = true;
            settle({ responseStatus: status });
            return true;
          },
          // The body is not read, only dropped, so the connection can carry the next attempt;
          // the deadline still holds over a body that never ends.
          onData: () => true,
          onComplete: () => {
            if (conn !== c) return;
            over();
            conn = undefined;
            this.release(c);
          },
          onError: (err: NodeJS.ErrnoException) => {
            if (conn !== c) return;
            conn = undefined;
            this.drop(c);
            // A kept-alive connection the receiver closed as this request went out: nothing was
            // answered, so it is sent again at once on a new connection (at least once either way).
            if (reused && !retried && !answered && !settled && DROPPED.has(err.code ?? '')) return send(this.connection(url.origin), true);
            over();
            if (err instanceof PrivateAddress) return settle({ error: err.message });
            // The connection closed before an answer is ECONNRESET, as node:http called it.
            settle({ error: err.code === 'UND_ERR_SOCKET' ? 'ECONNRESET' : (err.code ?? err.message) });
          },
        });
      };
      send(this.acquire(url.origin), false);
    });
  }

  /** Closes the kept-alive connections (the worker stopped). */
  close(): void {
    for (const c of this.conns) this.drop(c);
    this.idle.clear();
  }

  /** A kept-alive connection to the origin, or a new one. */
  private acquire(origin: string): Conn {
    const list = this.idle.get(origin);
    const c = list?.pop();
    if (!c) return this.connection(origin);
    if (list!.length === 0) this.idle.delete(origin);
    c.idle = false;
    return c;
  }

  private connection(origin: string): Conn {
    const { Client, options } = this.undici!;
    const c: Conn = { client: new Client(origin, options), origin, sent: 0, idle: false };
    this.conns.add(c);
    c.client.on('connect', () => (c.sent = 0));
    // An idle connection closed (its keep-alive time, or the receiver): the Client goes with it.
    c.client.on('disconnect', () => {
      if (!c.idle) return;
      const list = this.idle.get(origin);
      const i = list?.indexOf(c) ?? -1;
      if (i >= 0) list!.splice(i, 1);
      if (list?.length === 0) this.idle.delete(origin);
      this.drop(c);
    });
    return c;
  }

  private release(c: Conn): void {
    if (c.client.destroyed) return;
    c.idle = true;
    const list = this.idle.get(c.origin);
    if (list) list.push(c);
    else this.idle.set(c.origin, [c]);
  }

  private drop(c: Conn): void {
    c.idle = false;
    this.conns.delete(c);
    if (!c.client.destroyed) c.client.destroy().catch(noop);
  }
}
