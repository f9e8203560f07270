// Who asks: the operator (every tenant) or a tenant's admin (its own tenant only), and the one
// check of whether an actor may touch a license.
import { echoId, ErrorCode } from '../../shared';
import { SeatError } from './seat-error';
import type { License } from './types';

export type Actor = { kind: 'operator' } | { kind: 'tenant'; tenantId: string; tenantName: string };

export const OPERATOR: Actor = Object.freeze({ kind: 'operator' });

/** The longest admin token read (the operator's ADMIN_TOKEN; a tenant's is 36 characters). */
export const MAX_ADMIN_TOKEN_LENGTH = 512;

/** The tenant the actor is confined to; undefined for the operator, who sees every tenant. */
export function tenantScope(actor: Actor): string | undefined {
  return actor.kind === 'tenant' ? actor.tenantId : undefined;
}

/** The license if the actor may touch it: 404 when there is none, 403 when it is another tenant's. */
export function mayTouch(actor: Actor, id: string, license: License | undefined): License {
  if (!license) throw new SeatError(ErrorCode.NotFound, `no license ${echoId(id)}`);
  if (actor.kind === 'tenant' && license.tenantId !== actor.tenantId) throw otherTenant();
  return license;
}

/** The refusal of a tenant admin touching another tenant's license (403). */
export function otherTenant(): SeatError {
  return new SeatError(ErrorCode.Forbidden, 'this license belongs to another tenant');
}
