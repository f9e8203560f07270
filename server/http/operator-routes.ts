// The operator's endpoints (docs/contract.md "Operator"): tenants with their names, a tenant's
// admin token rotated, a license's secret rotated with a grace period, and the audit log read in
// pages with filters. Declared through the API router's `resource`, so they get its method,
// token and body checks and its error replies.
import type { Response } from 'express';
import type { z } from 'zod';
import type { Actor } from '../seats/actor';
import type { Administration } from '../seats/administration';
import type { Reads } from '../seats/reads';
import { auditView } from '../views';
import type { BodyRule } from './body';
import { AuditQuery, RotateSecretBody, RotateTokenBody, SECRET_GRACE } from './schemas';

type Handler = (req: { actor: Actor; params: Record<string, unknown>; body: unknown; query: unknown }, res: Response) => Promise<void>;
type Endpoints = Partial<Record<'get' | 'post', [BodyRule, Handler]>>;

export interface OperatorParts {
  admin: Pick<Administration, 'rotateTenantToken' | 'rotateLicenseSecret'>;
  reads: Pick<Reads, 'tenants' | 'audit'>;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The operator's paths and their endpoints; `parse` is the router's (400 malformed, 422 out of range). */
export function operatorEndpoints(
  { admin, reads }: OperatorParts,
  parse: <S extends z.ZodType>(schema: S, input: unknown) => z.infer<S>,
): Record<string, Endpoints> {
  return {
    '/tenants': {
      get: [
        'none',
        async (req, res) => {
          const tenants = await reads.tenants(req.actor);
          res.json({ tenants: tenants.map((t) => ({ id: t.id, name: t.name, createdAt: iso(t.createdAt), licenses: t.licenses })) });
        },
      ],
    },
    '/tenants/:id/admin-token': {
      post: [
        'optional',
        async (req, res) => {
          if (req.body !== undefined) parse(RotateTokenBody, req.body);
          const adminToken = await admin.rotateTenantToken(req.actor, String(req.params.id));
          res.status(201).json({ adminToken });
        },
      ],
    },
    '/licenses/:id/secret': {
      post: [
        'optional',
        async (req, res) => {
          const body = req.body === undefined ? {} : parse(RotateSecretBody, req.body);
          const { license, previousSecretValidUntil } = await admin.rotateLicenseSecret(req.actor, String(req.params.id), body.graceSec ?? SECRET_GRACE.default);
          res.status(201).json({ secret: license.secret, previousSecretValidUntil: iso(previousSecretValidUntil) });
        },
      ],
    },
    '/audit': {
      get: [
        'none',
        async (req, res) => {
          const q = parse(AuditQuery, req.query);
          const audit = await reads.audit(req.actor, { limit: q.limit, licenseId: q.licenseId, action: q.action, beforeId: q.before });
          // A full page may have more behind it: `nextBefore` asks for them.
          res.json({ audit: audit.map(auditView), nextBefore: audit.length === q.limit ? audit.at(-1)!.id : null });
        },
      ],
    },
  };
}
