// Offline grace over HTTP: the public keys that verify seat receipts (GET /.well-known/jwks.json,
// for anyone) and the operator's receipt keys (GET and POST /api/v1/receipt-keys: list, rotate).
import { type NextFunction, type Request, type Response, Router } from 'express';
import { ErrorCode } from '../../shared';
import type { Actor } from '../seats/actor';
import type { Administration } from '../seats/administration';
import type { Receipts } from '../seats/receipts';
import { SeatError } from '../seats/seat-error';
import { jsonBody } from './body';
import { apiErrorHandler, methodNotAllowed } from './errors';
import { bearerToken } from './bearer';

export interface ReceiptRouteParts {
  receipts: Pick<Receipts, 'jwks' | 'refresh' | 'listKeys' | 'rotate'>;
  admin: Pick<Administration, 'authenticateAdmin'>;
}

/** Mounted at the root, before the API router (which answers 404 for paths it does not know). */
export function receiptRoutes({ receipts, admin }: ReceiptRouteParts, opts: { maxBodyBytes: number; onError: (err: unknown) => void }): Router {
  // Strict, as the API's (api-router.ts): a trailing slash is another path.
  const router = Router({ strict: true });

  router
    .route('/.well-known/jwks.json')
    .get(async (_req, res) => {
      // A key another node rotated in is published here before any receipt it signs reaches an
      // app that asks; should the database not answer, the keys already known are served.
      await receipts.refresh().catch(opts.onError);
      // Short: apps that meet an unknown kid fetch again, and a shared cache must not hide a new key long.
      res.set('Cache-Control', 'public, max-age=60');
      // Public keys, for apps on any origin (a browser app served from elsewhere checks receipts too).
      res.set('Access-Control-Allow-Origin', '*');
      res.json(receipts.jwks());
    })
    .all(methodNotAllowed(['GET']));

  // The order of every API endpoint's checks: method (405), token (401), body (400), the rest.
  const authenticate = (req: Request, _res: Response, next: NextFunction) => {
    const token = bearerToken(req.headers.authorization);
    if (token === undefined) return next(new SeatError(ErrorCode.Unauthorized, 'send the admin token as "Authorization: Bearer <token>"'));
    admin.authenticateAdmin(token).then((actor) => {
      (req as Request & { actor: Actor }).actor = actor;
      next();
    }, next);
  };
  const handle = (fn: (req: Request & { actor: Actor }, res: Response) => Promise<void>) => (req: Request, res: Response, next: NextFunction) => {
    fn(req as Request & { actor: Actor }, res).catch(next);
  };

  router
    .route('/api/v1/receipt-keys')
    .get(
      authenticate,
      jsonBody('none', opts.maxBodyBytes),
      handle(async (req, res) => {
        if (req.actor.kind !== 'operator') throw new SeatError(ErrorCode.Forbidden, "only the operator sees the server's receipt keys");
        await receipts.refresh();
        res.json({ keys: receipts.listKeys().map((k) => ({ kid: k.kid, createdAt: new Date(k.createdAt).toISOString(), current: k.current })) });
      }),
    )
    .post(
      authenticate,
      // No body, or an empty object: there is nothing to choose.
      jsonBody('optional', opts.maxBodyBytes),
      handle(async (req, res) => {
        const body = req.body as Record<string, unknown> | undefined;
        if (body && Object.keys(body).length > 0) throw new SeatError(ErrorCode.BadRequest, 'POST /receipt-keys takes no fields');
        res.status(201).json(await receipts.rotate(req.actor));
      }),
    )
    .all(methodNotAllowed(['GET', 'POST']));

  router.use(apiErrorHandler(opts.onError));
  return router;
}
