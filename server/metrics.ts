// Prometheus metrics at /metrics: counters fed by the engine's domain events, every license's
// gauges read from the store at scrape time, and who may read them.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import proxyaddr from 'proxy-addr';
import { DenyReason, ErrorCode } from '../shared';
import { SeatError } from './seats/seat-error';
import type { Administration } from './seats/administration';
import type { EventBus } from './seats/event-bus';
import type { SeatStore } from './seats/seat-store';
import type { DenialCount, License } from './seats/types';
import { bearerToken } from './http/bearer';

export interface MetricsSource {
  store: Pick<SeatStore, 'listLicenses' | 'countDenials'>;
  /** Denials are counted over the retention window (DENIAL_RETENTION_DAYS), as the store keeps them. */
  denialRetentionDays: number;
  now: () => number;
}

export function createMetrics(events: Pick<EventBus, 'subscribe'>, source: MetricsSource): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const admissions = new Counter({ name: 'seat_admissions_total', help: 'Admissions by outcome (this node, since it started)', labelNames: ['outcome'], registers: [registry] });
  const ended = new Counter({ name: 'seat_sessions_ended_total', help: 'Released seats by reason (this node, since it started)', labelNames: ['reason'], registers: [registry] });
  events.subscribe((e) => {
    switch (e.type) {
      case 'session.started':
      case 'session.resumed':
        admissions.inc({ outcome: e.type === 'session.started' ? 'granted' : 'resumed' });
        break;
      case 'denied':
        admissions.inc({ outcome: `denied_${e.denial.reason}` });
        break;
      case 'session.ended':
        ended.inc({ reason: e.reason });
        break;
      default:
    }
  });

  // Every license's gauges, read at scrape time from the store (what every node shares), not only
  // the licenses this node has seen move: two queries per scrape whatever the number of licenses,
  // shared by the three gauges (prom-client collects them at once).
  let reading: Promise<{ licenses: License[]; denials: DenialCount[] }> | undefined;
  const read = () =>
    (reading ??= (async () => {
      try {
        const since = source.now() - source.denialRetentionDays * 86_400_000;
        const [licenses, denials] = await Promise.all([source.store.listLicenses(), source.store.countDenials(since)]);
        return { licenses, denials };
      } finally {
        reading = undefined;
      }
    })());
  const labels = (l: License) => ({ license: l.id, tenant: l.tenantId });
  new Gauge({
    name: 'seat_seats',
    help: 'Seats of each license',
    labelNames: ['license', 'tenant'],
    registers: [registry],
    async collect() {
      const { licenses } = await read();
      this.reset();
      for (const l of licenses) this.set(labels(l), l.seats);
    },
  });
  new Gauge({
    name: 'seat_seats_in_use',
    help: 'Seats in use of each license (from the store, every node\'s sessions)',
    labelNames: ['license', 'tenant'],
    registers: [registry],
    async collect() {
      const { licenses } = await read();
      this.reset();
      for (const l of licenses) this.set(labels(l), l.seatsInUse);
    },
  });
  new Gauge({
    name: 'seat_denials',
    help: `Denials of each license by reason over the retention window (DENIAL_RETENTION_DAYS, ${source.denialRetentionDays} days)`,
    labelNames: ['license', 'tenant', 'reason'],
    registers: [registry],
    async collect() {
      const { licenses, denials } = await read();
      this.reset();
      const tenantOf = new Map(licenses.map((l) => [l.id, l.tenantId]));
      // Every reason of every license, 0 when it had none, so each series exists from the start.
      for (const l of licenses) for (const reason of Object.values(DenyReason)) this.set({ ...labels(l), reason }, 0);
      for (const d of denials) {
        const tenant = tenantOf.get(d.licenseId);
        if (tenant !== undefined) this.set({ license: d.licenseId, tenant, reason: d.reason }, d.count);
      }
    },
  });
  return registry;
}

const isLoopback = proxyaddr.compile('loopback');
const sha256 = (s: string) => createHash('sha256').update(s).digest();

/**
 * A request made on this host: from a loopback address, and through no proxy on the way (every
 * X-Forwarded-For address loopback, no Forwarded or X-Real-IP). A reverse proxy on the same host
 * that forwards an outside request adds those headers, so the request is not taken for local.
 */
function isLocal(req: Request): boolean {
  const socketAddr = req.socket.remoteAddress;
  if (!socketAddr || !isLoopback(socketAddr, 0)) return false;
  if (req.headers.forwarded !== undefined || req.headers['x-real-ip'] !== undefined) return false;
  const xff = req.headers['x-forwarded-for'];
  if (xff === undefined) return true;
  return String(xff)
    .split(',')
    .map((a) => a.trim())
    .every((a) => a !== '' && isLoopback(a, 0));
}

/**
 * GET /metrics. The metrics name every tenant's licenses, so they are the operator's:
 * `Authorization: Bearer` with METRICS_TOKEN or the operator's ADMIN_TOKEN. Without METRICS_TOKEN,
 * a request from this host (a local Prometheus or agent) needs no token, as with GitLab's
 * monitoring whitelist; everyone else gets 401 (403 for a tenant's admin token).
 */
export function metricsRoute(
  registry: Registry,
  admin: Pick<Administration, 'authenticateAdmin'>,
  { metricsToken }: { metricsToken: string | undefined },
): RequestHandler {
  const metricsHash = metricsToken === undefined ? undefined : sha256(metricsToken);
  const refuse = (res: Parameters<RequestHandler>[1], status: number, code: ErrorCode, message: string) => {
    if (status === 401) res.set('WWW-Authenticate', 'Bearer realm="metrics"');
    res.status(status).json({ error: { code, message } });
  };
  return async (req, res) => {
    const bearer = bearerToken(req.headers.authorization);
    if (bearer !== undefined) {
      if (!metricsHash || !timingSafeEqual(sha256(bearer), metricsHash)) {
        try {
          const actor = await admin.authenticateAdmin(bearer);
          if (actor.kind !== 'operator') {
            return refuse(res, 403, ErrorCode.Forbidden, "the metrics show every tenant's licenses: only METRICS_TOKEN or the operator's token reads them");
          }
        } catch (err) {
          if (err instanceof SeatError) return refuse(res, 401, ErrorCode.Unauthorized, 'the token is not METRICS_TOKEN or the operator\'s token');
          return refuse(res, 503, ErrorCode.Unavailable, 'the database does not answer');
        }
      }
    } else if (metricsToken !== undefined || !isLocal(req)) {
      const send = `send METRICS_TOKEN or the operator's token as "Authorization: Bearer <token>"`;
      // From this host but not local: a proxy's forwarding header said where it came from.
      const proxied = isLoopback(req.socket.remoteAddress ?? '', 0);
      const from = `came from ${req.ip}${proxied ? ' through a proxy: it carries a Forwarded, X-Forwarded-For or X-Real-IP header' : ''}`;
      const message = metricsToken !== undefined ? send : `GET /metrics answers only requests from this host through no proxy (this one ${from}); from elsewhere ${send}`;
      return refuse(res, 401, ErrorCode.Unauthorized, message);
    }
    let text: string;
    try {
      text = await registry.metrics();
    } catch {
      return refuse(res, 503, ErrorCode.Unavailable, 'the database does not answer');
    }
    res.type(registry.contentType).send(text);
  };
}
