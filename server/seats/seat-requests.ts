// Seat requests (CONTRACT 8.6, docs/contract.md "Seat requests"): a user who found no seat asks
// for one with its own token. The license's admins see it live (and webhooks get
// `seat.requested`); the holders hear the demand (`seat:demand`). Limited per requester.
import { ErrorCode } from '../../shared';
import type { SeatServerConfig } from '../config';
import type { EventBus } from './event-bus';
import { SeatError } from './seat-error';
import type { SeatStore } from './seat-store';
import type { TokenAuth } from './token-auth';
import type { SeatRequest } from './types';

export interface SeatRequestsDeps {
  store: Pick<SeatStore, 'recordRequest'>;
  auth: Pick<TokenAuth, 'authenticate'>;
  bus: EventBus;
  options: Pick<SeatServerConfig, 'seatRequestsPerHour'>;
  now: () => number;
}

export class SeatRequests {
  constructor(private readonly deps: SeatRequestsDeps) {}

  /** Records the token's claimant's request: 401 for a bad token, 429 past the hourly limit. */
  async request(token: unknown, message: string | undefined): Promise<SeatRequest> {
    const { license, claimant } = await this.deps.auth.authenticate(token);
    const requester = claimant.userId ?? claimant.sessionRef ?? claimant.deviceId ?? claimant.instanceId ?? '';
    const now = this.deps.now();
    const perHour = this.deps.options.seatRequestsPerHour;
    const result = await this.deps.store.recordRequest(
      { licenseId: license.id, at: now, sessionRef: claimant.sessionRef, userId: claimant.userId, deviceId: claimant.deviceId, name: claimant.name, message: message ?? null, requester },
      perHour,
    );
    if ('retryAt' in result) {
      const retryAfterSec = Math.max(1, Math.ceil((result.retryAt - now) / 1000));
      throw new SeatError(ErrorCode.RateLimited, `at most ${perHour} seat requests an hour; try again in ${retryAfterSec} s`, { details: { retryAfterSec } });
    }
    this.deps.bus.publish({ type: 'seat.requested', license, request: result.request });
    // The holders' `seat:demand` counts recent requests too.
    this.deps.bus.publish({ type: 'queue.changed', license });
    return result.request;
  }
}
