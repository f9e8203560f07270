// The webhooks' HTTP client (docs/contract.md "Webhooks"): one POST per attempt over kept-alive
// connections, with the private-address guard where the connection is made. `fetch` cost about
// twice node:http's CPU per request (WHATWG streams around every body), and looking the host up
// before each attempt was a second lookup that fetch then did again for itself: the address
// checked was not necessarily the one connected to. Here the address connected to is the one
// checked, on every new connection; a kept-alive connection goes on to the address it was checked at.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
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

export class WebhookHttp {
  // An idle connection is closed after 30 s, or a second before the receiver says it closes
  // its own (`Keep-Alive: timeout=`; node:http heeds that hint only when a timeout is set), so
  // an attempt rarely goes out on a connection the receiver is closing.
  private readonly agents = {
    'http:': new http.Agent({ keepAlive: true, timeout: 30_000 }),
    'https:': new https.Agent({ keepAlive: true, timeout: 30_000 }),
  };

  constructor(private readonly allowPrivate: boolean) {}

  /** One POST; any answer or failure is a result, never a throw. */
  async post(p: WebhookPost): Promise<AttemptResult> {
    const url = new URL(p.url);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    // A literal address is connected to without a lookup, so it is checked here.
    if (!this.allowPrivate && isIP(host) && isPrivateAddress(host)) return { error: refusal(host).message };
    // One timer and one listener per attempt, both let go when it ends (AbortSignal.timeout and
    // AbortSignal.any cost about 20 µs an attempt, and left a 10 s timer behind each one).
    const abort = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, p.timeoutMs);
    const onStop = () => abort.abort();
    p.stop.addEventListener('abort', onStop, { once: true });
    const done = () => {
      clearTimeout(timer);
      p.stop.removeEventListener('abort', onStop);
    };
    try {
      if (p.stop.aborted) throw new Error('stopped');
      return { responseStatus: await this.send(url, p, abort.signal, done, false) };
    } catch (err) {
      done();
      if (timedOut) return { error: `no answer within ${p.timeoutMs} ms` };
      if (err instanceof PrivateAddress) return { error: err.message };
      const e = err as NodeJS.ErrnoException;
      return { error: e.code ?? e.message };
    }
  }

  /** Closes the kept-alive connections (the worker stopped). */
  close(): void {
    for (const agent of Object.values(this.agents)) agent.destroy();
  }

  /** Resolves with the status when the answer's head arrives; `done` once the exchange is over. */
  private send(url: URL, p: WebhookPost, signal: AbortSignal, done: () => void, retried: boolean): Promise<number> {
    const agent = this.agents[url.protocol as 'http:' | 'https:'];
    if (!agent) return Promise.reject(new Error(`${url.protocol} is not http or https`));
    return new Promise<number>((resolve, reject) => {
      // Redirects are not followed: node:http never does; a 3xx is a failed attempt.
      const req = (url.protocol === 'https:' ? https : http).request(url, {
        method: 'POST',
        agent,
        signal,
        headers: { ...p.headers, 'content-length': String(Buffer.byteLength(p.body)) },
        ...(this.allowPrivate ? {} : { lookup: guardedLookup }),
      });
      req.on('response', (res) => {
        // The body is not read, only drained, so the connection can carry the next attempt; the
        // deadline still holds over a body that never ends.
        res.resume();
        res.on('error', () => undefined);
        res.on('close', done);
        resolve(res.statusCode ?? 0);
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        // A kept-alive connection the receiver closed as this request went out: nothing was
        // answered, so it is sent again at once on a new connection (at least once either way).
        if (req.reusedSocket && !retried && (err.code === 'ECONNRESET' || err.code === 'EPIPE') && !signal.aborted) {
          this.send(url, p, signal, done, true).then(resolve, reject);
          return;
        }
        reject(err);
      });
      req.end(p.body);
    });
  }
}
