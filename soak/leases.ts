// The soak's HTTP leases (docs/contract.md, "HTTP leases"): a till takes a seat with its own
// client token (`POST /api/v1/leases`), renews it every few seconds (`PUT`), lets it go (`DELETE`)
// or stops renewing so it lapses at its `renewBy`. Each lease is a Conn whose row is `lease:<id>`.
import { sleep } from './cluster';
import type { Claims, Conn, OpLog } from './record';

/** A lease renews every 2 to 3 s, well inside the soak's 10 s lease interval. */
export const RENEW_EVERY_MS = [2000, 3000] as const;

export interface LeaseHost {
  readonly conns: Conn[];
  readonly denialsSeen: Array<{ at: number; licenseId: string; reason: string; claims: Claims }>;
  readonly anomalies: string[];
  readonly log: OpLog;
  pickNode(): string | undefined;
  nextTab(): number;
}

interface Held {
  conn: Conn;
  token: string;
  /** Set when the lease should stop renewing: 'lapse' lets it run out, 'release' deletes it. */
  stop?: 'lapse' | 'release';
  loop: Promise<void>;
}

export class Leases {
  private readonly held = new Set<Held>();

  constructor(private readonly w: LeaseHost) {}

  get count(): number {
    return this.held.size;
  }

  /** Takes a lease for `claims` (the license's k-th seat key, `key`); runs until it ends. */
  async take(licenseId: string, key: string, claims: Claims, token: string): Promise<void> {
    const tab = this.w.nextTab();
    const conn: Conn = { n: this.w.conns.length, tab, licenseId, key, claims, node: 'http', openedAt: Date.now() };
    this.w.conns.push(conn);
    const res = await this.call('POST', '/leases', token).catch((err: Error) => {
      conn.end = { at: Date.now(), kind: 'refused', reason: 'unanswered' };
      throw err;
    });
    const at = Date.now();
    if (res.status === 201) {
      conn.socketId = `lease:${res.body.leaseId}`;
      conn.grant = { at, sessionId: res.body.sessionId, resumed: res.body.resumed };
      conn.lease = { leaseId: res.body.leaseId, renewBy: Date.parse(res.body.renewBy) };
      this.w.log.add({ kind: 'leased', detail: `lease ${res.body.leaseId} (tab ${tab}) of ${key}`, licenseId, sessionId: res.body.sessionId, tab, key });
      const h: Held = { conn, token, loop: Promise.resolve() };
      this.held.add(h);
      h.loop = this.renewals(h);
      return;
    }
    const reason = String(res.body?.error?.code ?? res.status);
    if (res.status === 409) {
      conn.end = { at, kind: 'denied', reason };
      this.w.denialsSeen.push({ at, licenseId, reason, claims });
    } else {
      conn.end = { at, kind: 'refused', reason };
      this.w.anomalies.push(`lease of ${key}: ${res.status} ${reason}`);
    }
  }

  /** Renews until told to stop or the seat is gone (410, the reason). */
  private async renewals(h: Held): Promise<void> {
    const { conn } = h;
    const lease = conn.lease!;
    const about = { licenseId: conn.licenseId, sessionId: conn.grant!.sessionId, tab: conn.tab, key: conn.key };
    try {
      while (!h.stop) {
        await sleep(RENEW_EVERY_MS[0] + Math.random() * (RENEW_EVERY_MS[1] - RENEW_EVERY_MS[0]));
        if (h.stop) break;
        const res = await this.call('PUT', `/leases/${lease.leaseId}`, h.token);
        if (res.status === 200) {
          lease.renewBy = Date.parse(res.body.renewBy);
          if (res.body.sessionId !== conn.grant!.sessionId) this.w.anomalies.push(`lease ${lease.leaseId} renewed into session ${res.body.sessionId}, not ${conn.grant!.sessionId}`);
          continue;
        }
        const reason = String(res.body?.error?.code ?? res.status);
        conn.end = res.status === 410 ? { at: Date.now(), kind: 'ended', reason } : { at: Date.now(), kind: 'refused', reason };
        if (res.status !== 410) this.w.anomalies.push(`renewal of lease ${lease.leaseId}: ${res.status} ${reason}`);
        this.w.log.add({ kind: 'told', detail: `lease ${lease.leaseId} (tab ${conn.tab}) told ${reason}`, ...about });
        this.held.delete(h);
        return;
      }
    } catch (err) {
      // No node answered for 20 s: the lease runs out at its deadline.
      this.w.anomalies.push(`renewal of lease ${lease.leaseId}: ${err instanceof Error ? err.message : String(err)}`);
      h.stop = 'lapse';
    }
    this.held.delete(h);
    if (h.stop === 'release') {
      const res = await this.call('DELETE', `/leases/${lease.leaseId}`, h.token).catch(() => undefined);
      // A 404 after an attempt that got no answer: that attempt released it (the answer was lost).
      if (res && res.status !== 204 && !(res.status === 404 && res.retried)) this.w.anomalies.push(`release of lease ${lease.leaseId}: ${res.status}`);
      // Acknowledged: the row must be gone now. Unanswered: it lapses at its deadline.
      conn.end = res ? { at: Date.now(), kind: 'client' } : { at: lease.renewBy, kind: 'lapsed' };
      this.w.log.add({ kind: 'released', detail: `lease ${lease.leaseId} (tab ${conn.tab}) deleted`, ...about });
    } else {
      conn.end = { at: lease.renewBy, kind: 'lapsed' };
      this.w.log.add({ kind: 'lapsing', detail: `lease ${lease.leaseId} (tab ${conn.tab}) no longer renewed: lapses at ${new Date(lease.renewBy).toISOString()}`, ...about });
    }
  }

  /** One held lease (the `pick`-th), told to stop renewing or to let go. */
  stop(pick: number, how: 'lapse' | 'release'): Conn | undefined {
    const all = [...this.held].filter((h) => !h.stop);
    if (!all.length) return undefined;
    const h = all[pick % all.length]!;
    h.stop = how;
    return h.conn;
  }

  /** Every lease lets go (the end of the run). */
  async releaseAll(): Promise<void> {
    const all = [...this.held];
    for (const h of all) h.stop ??= 'release';
    await Promise.allSettled(all.map((h) => h.loop));
  }

  /** A client call with the lease's own token; 5xx and unreachable nodes are tried again for 20 s. */
  /** The answer, and whether an attempt before it went unanswered or failed (it may have been carried out). */
  private async call(method: string, pathname: string, token: string): Promise<{ status: number; body: any; retried: boolean }> {
    const until = Date.now() + 20_000;
    let retried = false;
    for (;;) {
      const url = this.w.pickNode();
      try {
        if (!url) throw new Error('no live node');
        const res = await fetch(`${url}/api/v1${pathname}`, { method, headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(8000) });
        const text = await res.text();
        if (res.status < 500) return { status: res.status, body: text ? JSON.parse(text) : undefined, retried };
        retried = true;
      } catch (err) {
        // Sent, and no answer came: it may have been carried out.
        if (url) retried = true;
        if (Date.now() > until) throw err;
      }
      if (Date.now() > until) throw new Error(`${method} ${pathname}: no answer for 20 s`);
      await sleep(200);
    }
  }
}
