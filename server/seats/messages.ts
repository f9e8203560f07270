// What a session's sockets are told when it ends, and a claimant when it is denied, by reason.
import type { DenyReason, EndReason } from '../../shared';
import type { DomainEvent } from './hooks';
import type { EndedSession } from './types';

export const DENY_MESSAGE: Record<Exclude<DenyReason, 'no_free_seats' | 'denied_by_app'>, string> = {
  license_suspended: 'This license is suspended',
  kicked: 'This session was ended by an administrator; try again later',
  too_many_activations: 'This license is activated on as many devices as it allows; deactivate one to use this device',
  group_limit: 'Your group holds as many seats of this license as it may',
};

export const END_MESSAGE: Record<EndReason, string> = {
  kicked: 'Your session was ended by an administrator',
  ended_by_app: 'Your session was ended',
  license_suspended: 'This license is suspended',
  seats_reduced: 'The number of seats was reduced',
  idle_timeout: 'The seat was released after the idle timeout',
  deactivated: 'This device was deactivated for this license',
  inactive: 'The seat was released after a period of inactivity',
  ended: 'Your session has ended',
  license_deleted: 'This license was deleted',
};

/** `seat:warning` with reason `inactive`. */
export const WARNING_MESSAGE = 'Your seat will be released for inactivity unless you use the app';

/** The event of an ending: its sockets are told `message`, or the reason's own. */
export function endedEvent(e: EndedSession, message?: string): Extract<DomainEvent, { type: 'session.ended' }> {
  return {
    type: 'session.ended',
    license: e.license,
    session: e.session,
    reason: e.reason,
    message: message ?? END_MESSAGE[e.reason],
    seatsInUse: e.seatsInUse,
  };
}
