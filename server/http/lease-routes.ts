// HTTP leases under /api/v1 (docs/contract.md 8.4, "HTTP leases"): seats for apps without a socket,
// authorised by the client's own token (not an admin's), so they have a router of their own,
// mounted before the admin API. Paths it does not declare fall through to the API's 404.
import { type NextFunction, type Request, type Response, Router } from 'express';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { z } from 'zod';
import { AuthErrorCode, ErrorCode, type LeaseView, safeText } from '../../shared';
import type { SeatServerConfig } from '../config';
import type { LeaseGrant, SeatLeases } from '../seats/leases';
import type { SeatRequests } from '../seats/seat-requests';
import { SeatError } from '../seats/seat-error';
import { type BodyRule, jsonBody } from './body';
import { parse } from './parse';
import { methodNotAllowed, requestError, statusOf } from './errors';
import { bearerToken } from './bearer';

export type LeaseRouteOptions = Pick<SeatServerConfig, 'connectRatePerSec' | 'connectBurst'> & {
  maxBodyBytes: number;
  onError: (err: unknown) => void;
};

/** A seat request's optional message: shown to admins, so no control or bidi-override characters. */
export const SeatRequestBody = z.strictObject({ message: safeText(z.string().trim().min(1).max(500)).optional() });

/** POST and PUT take no fields yet: no body, or `{}`. */
export const NoFields = z.strictObject({});

/** A refused token is 401 with the reason as the code, as a socket's `connect_error` names it. */
const AUTH_STATUS: Record<AuthErrorCode, number> = {
  invalid_token: 401,
  token_expired: 401,
  missing_claim: 401,
  license_not_found: 401,
  rate_limited: 429,
  unavailable: 503,
  bad_request: 400,
};

function send(res: Response, status: number, code: string, message: string, details?: Record<string, unknown>): void {
  if (res.headersSent) return void res.destroy();
  res.status(status).json({ error: { code, message, ...(details ? { details } : {}) } });
}

function leaseView(g: LeaseGrant): LeaseView {
  return { ...g, renewBy: new Date(g.renewBy).toISOString() };
}

function bearer(req: Request): string {
  const token = bearerToken(req.headers.authorization);
  if (token === undefined) throw new SeatError(ErrorCode.Unauthorized, 'send the client token as "Authorization: Bearer <token>"');
  return token;
}

/** No fields: no body, or `{}`; unknown fields are refused as the admin API refuses them. */
function checkBody(body: unknown): void {
  if (body !== undefined) parse(NoFields, body);
}

type Handler = (req: Request, res: Response) => Promise<void>;

export function leaseRouter(
  leases: Pick<SeatLeases, 'acquire' | 'renew' | 'release'>,
  requests: Pick<SeatRequests, 'request'>,
  opts: LeaseRouteOptions,
): Router {
  // Strict, as the API's (api-router.ts): a trailing slash is another path.
  const router = Router({ strict: true });
  // A lease taken is a connect: the sockets' per-address limit (CONNECT_RATE_PER_SEC, CONNECT_BURST)
  // applies to POST too, by express's req.ip (X-Forwarded-For only through TRUST_PROXY).
  const { connectRatePerSec, connectBurst } = opts;
  const limiter =
    connectRatePerSec > 0 ? new RateLimiterMemory({ points: connectBurst, duration: Math.max(1, Math.ceil(connectBurst / connectRatePerSec)) }) : undefined;
  const limit = async (req: Request) => {
    try {
      await limiter?.consume(req.ip ?? 'unknown');
    } catch {
      throw new SeatError(ErrorCode.RateLimited, 'too many leases taken from this address; retry shortly');
    }
  };
  /**
   * As the admin API: the method (405), a token sent at all (401), the body (400), then the
   * token's verification (401 with its reason) and the handler's own checks.
   */
  const resource = (path: string, endpoints: Partial<Record<'post' | 'put' | 'delete', [BodyRule, Handler]>>) => {
    const route = router.route(path);
    for (const [method, [rule, fn]] of Object.entries(endpoints) as Array<['post' | 'put' | 'delete', [BodyRule, Handler]]>) {
      const tokenSent = (req: Request, _res: Response, next: NextFunction) => {
        try {
          bearer(req);
          next();
        } catch (err) {
          next(err);
        }
      };
      route[method](tokenSent, jsonBody(rule, opts.maxBodyBytes), (req: Request, res: Response, next: NextFunction) => {
        fn(req, res).catch(next);
      });
    }
    route.all(methodNotAllowed(Object.keys(endpoints).map((m) => m.toUpperCase())));
  };
  const leaseId = (req: Request) => String(req.params.leaseId);

  resource('/leases', {
    post: [
      'optional',
      async (req, res) => {
        const token = bearer(req);
        checkBody(req.body);
        await limit(req);
        const result = await leases.acquire(token);
        if ('denied' in result) {
          const { reason, message, seatsInUse, seats } = result.denied;
          // Recorded in the denial log by the admission, as a socket's denial is.
          return send(res, 409, reason, message, { seatsInUse, seats });
        }
        res.status(201).json(leaseView(result.granted));
      },
    ],
  });

  // A user who found no seat asks for one (CONTRACT 8.6), with its own token, as leases are.
  resource('/seat-requests', {
    post: [
      'optional',
      async (req, res) => {
        const token = bearer(req);
        const body = parse(SeatRequestBody, req.body ?? {});
        const request = await requests.request(token, body.message);
        res.status(201).json({ id: request.id, licenseId: request.licenseId, at: new Date(request.at).toISOString() });
      },
    ],
  });

  resource('/leases/:leaseId', {
    put: [
      'optional',
      async (req, res) => {
        const token = bearer(req);
        checkBody(req.body);
        const result = await leases.renew(token, leaseId(req));
        if ('ended' in result) return send(res, 410, result.ended.reason, result.ended.message);
        res.json(leaseView(result.renewed));
      },
    ],
    delete: [
      'none',
      async (req, res) => {
        await leases.release(bearer(req), leaseId(req));
        res.status(204).end();
      },
    ],
  });

  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const refusal = requestError(err);
    if (refusal) {
      const status = refusal.code in AUTH_STATUS ? AUTH_STATUS[refusal.code as AuthErrorCode] : statusOf(refusal);
      return send(res, status, refusal.code, refusal.message, refusal.details);
    }
    opts.onError(err);
    send(res, 503, ErrorCode.Unavailable, 'the seat service is unavailable; retry shortly');
  });
  return router;
}
