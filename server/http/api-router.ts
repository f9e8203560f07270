// The REST API under /api/v1 (docs/contract.md section 6): validates with zod, calls the engine,
// administration and the actor's scoped reads, and maps their results and SeatErrors to JSON replies.
import { type NextFunction, type Request, type RequestHandler, type Response, Router } from 'express';
import { type DenialView, echoId, ErrorCode, type SessionView } from '../../shared';
import type { Actor } from '../seats/actor';
import type { Administration } from '../seats/administration';
import type { Reads } from '../seats/reads';
import type { SeatEngine } from '../seats/seat-engine';
import { SeatError } from '../seats/seat-error';
import { isTimeZone } from '../seats/time-buckets';
import { seatRequestView } from '../views';
import { activationView, denialView, licenseView, sessionView } from '../views';
import { queueView } from '../queue-view';
import { type BodyRule, jsonBody } from './body';
import { type CsvValue, toCsv } from './csv';
import { apiErrorHandler, methodNotAllowed } from './errors';
import { type OperatorParts, operatorEndpoints } from './operator-routes';
import { type WebhookParts, webhookEndpoints } from './webhook-routes';
import { ActivationQuery, CreateLicenseBody, CreateTenantBody, DenialsQuery, HistoryQuery, KickBody, PatchLicenseBody, SessionsQuery } from './schemas';
import { bearerToken } from './bearer';
import { parse } from './parse';

type Authed = Request & { actor: Actor };

/** The CSV exports' columns, in the JSON's field order (the hidden fields are not in the views). */
/** Every field of a session's JSON, as the CSV's columns (the check below fails the build if one is left out). */
const SESSION_COLUMNS = [
  'id', 'licenseId', 'state', 'sessionRef', 'userId', 'deviceId', 'instanceId', 'group', 'app', 'apps', 'name', 'weight', 'sockets', 'leases',
  'startedAt', 'idleSince', 'expiresAt', 'lastActivityAt', 'warnedAt', 'receiptUntil',
] as const satisfies readonly (keyof SessionView)[];
const _everySessionField: Exclude<keyof SessionView, (typeof SESSION_COLUMNS)[number]> extends never ? true : never = true;
const DENIAL_COLUMNS: readonly (keyof DenialView)[] = ['at', 'licenseId', 'reason', 'sessionRef', 'userId', 'deviceId', 'instanceId'];
/** The history's columns: the bucket's figures (its denials by reason are in the JSON only). */
const HISTORY_COLUMNS = ['at', 'denials', 'peakSeatsInUse', 'seats', 'full', 'queuedGranted', 'unmetDemand', 'unmetAvgWaitSec'] as const;

type Method = 'get' | 'post' | 'patch' | 'delete';
type Endpoint = [BodyRule, (req: Authed, res: Response) => Promise<void>];

export interface ApiParts {
  /** Kicks. */
  engine: Pick<SeatEngine, 'kick' | 'deactivate'>;
  admin: Pick<Administration, 'authenticateAdmin' | 'createTenant' | 'createLicense' | 'updateLicense' | 'deleteLicense' | 'preview'> & OperatorParts['admin'];
  /** Every read, scoped to the request's actor. */
  reads: Pick<Reads, 'license' | 'licenses' | 'sessions' | 'sessionPage' | 'denials' | 'history' | 'audit' | 'activations' | 'seatRequests' | 'tenants' | 'queue'>;
  /** Webhooks and their delivery log (webhook-routes.ts); absent, those paths are 404. */
  webhooks?: WebhookParts;
}

export interface ApiOptions {
  maxBodyBytes: number;
  onError: (err: unknown) => void;
}

export function apiRouter({ engine, admin, reads, webhooks }: ApiParts, opts: ApiOptions): Router {
  // Strict: `/licenses/x/` is not `/licenses/x`. A browser's URL parser collapses a `..` or `.`
  // segment (also written `%2e%2e`), so `/licenses/x/activations/..` reaches the server as
  // `/licenses/x/`; without strict routing that was `DELETE /licenses/x`, and the license went.
  const router = Router({ strict: true });

  const authenticate: RequestHandler = async (req, _res, next) => {
    const token = bearerToken(req.headers.authorization);
    if (token === undefined) return next(new SeatError(ErrorCode.Unauthorized, 'send the admin token as "Authorization: Bearer <token>"'));
    try {
      (req as Authed).actor = await admin.authenticateAdmin(token);
      next();
    } catch (err) {
      next(err);
    }
  };

  /**
   * One path and its methods. A request is checked in this order: the method (405, with
   * `Allow`), the token (401), the body (400, see body.ts), then the handler's own checks.
   * Paths not declared here are 404 whatever the method or token.
   */
  const resource = (path: string, endpoints: Partial<Record<Method, Endpoint>>) => {
    const route = router.route(path);
    for (const [method, [rule, fn]] of Object.entries(endpoints) as [Method, Endpoint][]) {
      route[method](authenticate, jsonBody(rule, opts.maxBodyBytes), (req: Request, res: Response, next: NextFunction) => {
        fn(req as Authed, res).catch(next);
      });
    }
    route.all(methodNotAllowed(Object.keys(endpoints).map((m) => m.toUpperCase())));
  };
  const licenseId = (req: Authed) => String(req.params.id);
  /**
   * The license patch of a PATCH or preview body. Its `id` may be the license's own (a license as
   * read, sent back): left as it is. Another is 400, naming the field: a license's id never changes.
   * A body that sets nothing else is 400 too.
   */
  const licensePatch = (req: Authed) => {
    const { id, ...patch } = parse(PatchLicenseBody, req.body);
    const own = licenseId(req);
    if (id !== undefined && id !== own) {
      const why = `a license's id never changes (tokens name the license by it); ${echoId(id)} is not this license's ${echoId(own)}`;
      throw new SeatError(ErrorCode.BadRequest, `id: ${why}`, { details: { field: 'id', issues: [{ path: ['id'], message: why }] } });
    }
    if (Object.keys(patch).length === 0) {
      const why = 'the body changes nothing: name at least one field';
      throw new SeatError(ErrorCode.BadRequest, why, { details: { issues: [{ path: [], message: why }] } });
    }
    return patch;
  };
  /** A report as `?format=csv` asks (docs/contract.md 8.6): a download named `<license>-<what>.csv`. */
  const sendCsv = <T extends object>(req: Authed, res: Response, what: string, columns: readonly (keyof T & string)[], rows: readonly T[]) => {
    // The id as it is when it needs no escaping (the generated ones), else with _ for what would.
    const name = `${licenseId(req).replace(/[^\w.-]/g, '_')}-${what}.csv`;
    res.set('Content-Disposition', `attachment; filename="${name}"`);
    res.type('text/csv; charset=utf-8').send(toCsv(columns, rows as readonly (T & Record<string, CsvValue>)[]));
  };

  // The operator's endpoints (operator-routes.ts); GET /tenants shares its path with POST.
  const { '/tenants': tenantsList, ...operator } = operatorEndpoints({ admin, reads }, parse);
  for (const [path, endpoints] of Object.entries(operator)) resource(path, endpoints as Partial<Record<Method, Endpoint>>);
  if (webhooks) for (const [path, endpoints] of Object.entries(webhookEndpoints(webhooks, parse))) resource(path, endpoints as Partial<Record<Method, Endpoint>>);

  resource('/tenants', {
    post: [
      'required',
      async (req, res) => {
        const body = parse(CreateTenantBody, req.body);
        const tenant = await admin.createTenant(req.actor, body.name);
        res.status(201).json({ id: tenant.id, name: tenant.name, adminToken: tenant.adminToken, createdAt: new Date(tenant.createdAt).toISOString() });
      },
    ],
    get: tenantsList!.get as Endpoint,
  });

  resource('/licenses', {
    post: [
      'required',
      async (req, res) => {
        const license = await admin.createLicense(req.actor, parse(CreateLicenseBody, req.body));
        res.status(201).json({ ...licenseView(license), secret: license.secret });
      },
    ],
    get: [
      'none',
      async (req, res) => {
        const licenses = await reads.licenses(req.actor);
        res.json({ licenses: licenses.map((l) => licenseView(l)) });
      },
    ],
  });

  resource('/licenses/:id', {
    get: [
      'none',
      async (req, res) => {
        const license = await reads.license(req.actor, licenseId(req));
        res.json(licenseView(license));
      },
    ],
    patch: [
      'required',
      async (req, res) => {
        const patch = licensePatch(req);
        const license = await admin.updateLicense(req.actor, licenseId(req), patch);
        res.json(licenseView(license));
      },
    ],
    delete: [
      // Its sessions end with `license_deleted`; later tokens for it get `license_not_found`.
      'none',
      async (req, res) => {
        await admin.deleteLicense(req.actor, licenseId(req));
        res.status(204).end();
      },
    ],
  });

  // Which sessions a license patch would end (CONTRACT 8.6); nothing changes.
  resource('/licenses/:id/preview', {
    post: [
      'required',
      async (req, res) => {
        const patch = licensePatch(req);
        const ending = await admin.preview(req.actor, licenseId(req), patch);
        res.json({ wouldEnd: ending.map(({ session, reason }) => ({ sessionId: session.id, userId: session.userId, name: session.name, reason })) });
      },
    ],
  });

  resource('/licenses/:id/sessions', {
    get: [
      'none',
      async (req, res) => {
        // Without paging or filter parameters: every live session, oldest first, as it always was.
        const { format, ...query } = parse(SessionsQuery, req.query);
        const page = await reads.sessionPage(req.actor, licenseId(req), query);
        const sessions = page.sessions.map(sessionView);
        if (format === 'csv') return sendCsv(req, res, 'sessions', SESSION_COLUMNS, sessions);
        res.json({ sessions, total: page.total, matched: page.matched, offset: query.offset ?? 0 });
      },
    ],
  });

  // The license's queue in order (its first 1000 waiting claimants) and its whole length.
  resource('/licenses/:id/queue', {
    get: [
      'none',
      async (req, res) => {
        res.json(queueView(await reads.queue(req.actor, licenseId(req))));
      },
    ],
  });

  resource('/licenses/:id/denials', {
    get: [
      'none',
      async (req, res) => {
        const query = parse(DenialsQuery, req.query);
        const { since, until } = query;
        const denials = (await reads.denials(req.actor, licenseId(req), { since, until, limit: query.limit })).map(denialView);
        if (query.format === 'csv') return sendCsv(req, res, 'denials', DENIAL_COLUMNS, denials);
        res.json({ denials });
      },
    ],
  });

  resource('/licenses/:id/history', {
    get: [
      'none',
      async (req, res) => {
        const query = parse(HistoryQuery, req.query);
        const { bucket, tz } = query;
        if (!isTimeZone(tz)) {
          throw new SeatError(ErrorCode.OutOfRange, `tz: unknown time zone ${echoId(tz)}; give an IANA name such as Europe/Amsterdam, or UTC`, { details: { field: 'tz' } });
        }
        const { since, until: to } = query;
        const history = await reads.history(req.actor, licenseId(req), { bucket, tz, since, to });
        const buckets = history.buckets.map((b) => ({
          at: new Date(b.at).toISOString(),
          denials: b.denials,
          peakSeatsInUse: b.peakSeatsInUse,
          seats: b.seats,
          full: b.full,
          queuedGranted: b.queuedGranted,
          unmetDemand: b.unmetDemand,
          unmetAvgWaitSec: b.unmetAvgWaitSec,
          denialsByReason: b.denialsByReason,
        }));
        if (query.format === 'csv') return sendCsv(req, res, 'history', HISTORY_COLUMNS, buckets);
        res.json({ bucket, tz, until: new Date(history.until).toISOString(), buckets });
      },
    ],
  });

  resource('/licenses/:id/seat-requests', {
    get: [
      'none',
      async (req, res) => {
        const requests = await reads.seatRequests(req.actor, licenseId(req));
        res.json({ requests: requests.map(seatRequestView) });
      },
    ],
  });

  resource('/licenses/:id/activations', {
    get: [
      'none',
      async (req, res) => {
        const activations = await reads.activations(req.actor, licenseId(req));
        res.json({ activations: activations.map(activationView) });
      },
    ],
    delete: [
      // `?deviceId=`: any device id, `.` and `..` included, which no browser can put in a path
      // segment (its URL parser collapses them); answers exactly as the path form below.
      'none',
      async (req, res) => {
        const { deviceId } = parse(ActivationQuery, req.query);
        await engine.deactivate(req.actor, licenseId(req), deviceId);
        res.status(204).end();
      },
    ],
  });

  resource('/licenses/:id/activations/:deviceId', {
    delete: [
      // The device's activation goes; its live sessions end with `deactivated`.
      'none',
      async (req, res) => {
        await engine.deactivate(req.actor, licenseId(req), String(req.params.deviceId));
        res.status(204).end();
      },
    ],
  });

  resource('/sessions/:id', {
    delete: [
      // Kick: no body, or { message }.
      'optional',
      async (req, res) => {
        const body = req.body === undefined ? undefined : parse(KickBody, req.body);
        const ended = await engine.kick(req.actor, String(req.params.id), body?.message);
        res.json({ id: ended.session.id, licenseId: ended.license.id, reason: ended.reason, seatsInUse: ended.seatsInUse });
      },
    ],
  });

  router.use((_req, _res, next) => next(new SeatError(ErrorCode.NotFound, 'no such endpoint')));

  router.use(apiErrorHandler(opts.onError));
  return router;
}
