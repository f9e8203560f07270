// Helpers of the HTTP lease suites: REST calls with a client token, and a lease interval below
// the API's 10 s minimum so lapses happen in a test's seconds.
import type { SeatServer } from '../../server/seat-server';

export interface Reply<T = any> {
  status: number;
  body: T;
}

/** A call under /api/v1 with a client token (none when `token` is undefined). */
export async function leaseCall<T = any>(url: string, method: string, path: string, token: string | undefined, body?: unknown): Promise<Reply<T>> {
  const res = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: {
      ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

export const acquire = (url: string, token: string) => leaseCall(url, 'POST', '/leases', token);
export const renew = (url: string, token: string, leaseId: string) => leaseCall(url, 'PUT', `/leases/${leaseId}`, token);
export const release = (url: string, token: string, leaseId: string) => leaseCall(url, 'DELETE', `/leases/${leaseId}`, token);

/**
 * Sets the license's lease interval through the administration, below the API's bound (10 s):
 * timeouts are configuration, so a lapse takes a second here instead of an hour.
 */
export async function shortLeases(server: SeatServer, licenseId: string, leaseIntervalSec: number): Promise<void> {
  await server.admin.updateLicense({ kind: 'operator' }, licenseId, { leaseIntervalSec });
}
