// The REST API under /api/v1 (CONTRACT.md section 6): validates with zod, calls the engine, and
// maps its results and SeatErrors to JSON replies.
import express, { type NextFunction, type Request, type Response, Router } from 'express';
import type { z } from 'zod';
import { ErrorCode } from '../../shared';
import type { Actor, SeatEngine } from '../seats/seat-engine';
import { SeatError } from '../seats/seat-error';
import { denialView, licenseView, sessionView, auditView } from '../views';
import { CreateLicenseBody, CreateTenantBody, DenialsQuery, HistoryQuery, KickBody, PatchLicenseBody } from './schemas';

const STATUS: Partial<Record<string, number>> = {
  [ErrorCode.BadRequest]: 400,
  [ErrorCode.PayloadTooLarge]: 413,
  [ErrorCode.Unauthorized]: 401,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.OutOfRange]: 422,
  [ErrorCode.RateLimited]: 429,
  [ErrorCode.Unavailable]: 503,
};

type Authed = Request & { actor: Actor };

/** Parses input with a zod schema: wrong shapes are 400, well-typed values out of range are 422. */
function parse<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues;
  const rangeOnly = issues.every((i) => i.code === 'too_small' || i.code === 'too_big');
  const message = issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
  throw new SeatError(rangeOnly ? ErrorCode.OutOfRange : ErrorCode.BadRequest, message, {
    details: { issues: issues.map((i) => ({ path: i.path.map(String), message: i.message })) },
  });
}

export function sendError(res: Response, err: SeatError): void {
  res.status(STATUS[err.code] ?? 500).json({
    error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) },
  });
}

export function apiRouter(engine: SeatEngine, opts: { maxBodyBytes: number; onError: (err: unknown) => void }): Router {
  const router = Router();
  router.use(express.json({ limit: opts.maxBodyBytes, strict: false }));

  router.use(async (req, _res, next) => {
    const header = req.headers.authorization;
    const match = header?.match(/^Bearer (.+)$/);
    if (!match) return next(new SeatError(ErrorCode.Unauthorized, 'send the admin token as "Authorization: Bearer <token>"'));
    try {
      (req as Authed).actor = await engine.authenticateAdmin(match[1]);
      next();
    } catch (err) {
      next(err);
    }
  });

  const route =
    (fn: (req: Authed, res: Response) => Promise<void>) => (req: Request, res: Response, next: NextFunction) =>
      fn(req as Authed, res).catch(next);
  const seatsInUse = (id: string) => engine.store.seatsInUse(id);

  router.post(
    '/tenants',
    route(async (req, res) => {
      const body = parse(CreateTenantBody, req.body);
      const tenant = await engine.createTenant(req.actor, body.name);
      res.status(201).json({ id: tenant.id, name: tenant.name, adminToken: tenant.adminToken, createdAt: new Date(tenant.createdAt).toISOString() });
    }),
  );

  router.post(
    '/licenses',
    route(async (req, res) => {
      const license = await engine.createLicense(req.actor, parse(CreateLicenseBody, req.body));
      res.status(201).json({ ...licenseView(license, 0), secret: license.secret });
    }),
  );

  router.get(
    '/licenses',
    route(async (req, res) => {
      const licenses = await engine.listLicenses(req.actor);
      const views = await Promise.all(licenses.map(async (l) => licenseView(l, await seatsInUse(l.id))));
      res.json({ licenses: views });
    }),
  );

  router.get(
    '/licenses/:id',
    route(async (req, res) => {
      const license = await engine.licenseFor(req.actor, String(req.params.id));
      res.json(licenseView(license, await seatsInUse(license.id)));
    }),
  );

  router.patch(
    '/licenses/:id',
    route(async (req, res) => {
      const patch = parse(PatchLicenseBody, req.body);
      const license = await engine.updateLicense(req.actor, String(req.params.id), patch);
      res.json(licenseView(license, await seatsInUse(license.id)));
    }),
  );

  router.get(
    '/licenses/:id/sessions',
    route(async (req, res) => {
      const license = await engine.licenseFor(req.actor, String(req.params.id));
      const sessions = await engine.store.listSessions(license.id);
      res.json({ sessions: sessions.map(sessionView) });
    }),
  );

  router.get(
    '/licenses/:id/denials',
    route(async (req, res) => {
      const query = parse(DenialsQuery, req.query);
      const license = await engine.licenseFor(req.actor, String(req.params.id));
      const since = query.since ? Date.parse(query.since) : undefined;
      const denials = await engine.store.listDenials(license.id, { since, limit: query.limit });
      res.json({ denials: denials.map(denialView) });
    }),
  );

  router.get(
    '/licenses/:id/history',
    route(async (req, res) => {
      const query = parse(HistoryQuery, req.query);
      const license = await engine.licenseFor(req.actor, String(req.params.id));
      const bucketMs = query.bucket === 'day' ? 86_400_000 : 3_600_000;
      const until = Math.ceil((Date.now() + 1) / bucketMs) * bucketMs;
      const retention = engine.config.denialRetentionDays * 86_400_000;
      const floor = Math.floor((Date.now() - retention) / bucketMs) * bucketMs;
      const since = Math.max(floor, query.since ? Math.floor(Date.parse(query.since) / bucketMs) * bucketMs : floor);
      const buckets = await engine.store.history(license.id, since, until, bucketMs);
      res.json({
        bucket: query.bucket,
        buckets: buckets.map((b) => ({ at: new Date(b.at).toISOString(), denials: b.denials, peakSeatsInUse: b.peakSeatsInUse })),
      });
    }),
  );

  router.get(
    '/audit',
    route(async (req, res) => {
      const tenantId = req.actor.kind === 'tenant' ? req.actor.tenantId : undefined;
      res.json({ audit: (await engine.store.listAudit({ tenantId, limit: 500 })).map(auditView) });
    }),
  );

  router.delete(
    '/sessions/:id',
    route(async (req, res) => {
      const body = parse(KickBody, req.body && Object.keys(req.body as object).length ? req.body : undefined);
      const ended = await engine.kick(req.actor, String(req.params.id), body?.message);
      res.json({ id: ended.session.id, licenseId: ended.license.id, reason: ended.reason, seatsInUse: ended.seatsInUse });
    }),
  );

  router.use((_req, _res, next) => next(new SeatError(ErrorCode.NotFound, 'no such endpoint')));

  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof SeatError) return sendError(res, err);
    const e = err as { type?: string; status?: number };
    if (e.type === 'entity.too.large') {
      return sendError(res, new SeatError(ErrorCode.PayloadTooLarge, `the body is larger than ${opts.maxBodyBytes} bytes`));
    }
    if (e.type === 'entity.parse.failed' || e.status === 400) {
      return sendError(res, new SeatError(ErrorCode.BadRequest, 'the body is not valid JSON'));
    }
    if (e.type === 'charset.unsupported' || e.type === 'encoding.unsupported') {
      return sendError(res, new SeatError(ErrorCode.BadRequest, 'send the body as UTF-8 JSON'));
    }
    opts.onError(err);
    sendError(res, new SeatError(ErrorCode.Unavailable, 'the seat service is unavailable; retry shortly'));
  });
  return router;
}
