// The dashboard's REST calls: the admin token from this tab's session storage in the
// Authorization header (never a URL), and refusals as ApiError with the server's code and details.
import { hasDotSegment } from '../../shared/url-path';

export const TOKEN_KEY = 'seat-admin-token';

export interface ErrorDetails {
  field?: string;
  min?: number;
  max?: number;
  issues?: { path: string[]; message: string }[];
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetails | undefined,
  ) {
    super(message);
  }
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  // A `.` or `..` segment would be collapsed by the URL parser and reach another resource (an
  // activation's DELETE the license's): such a value goes in the query (`?deviceId=`), never here.
  if (hasDotSegment(path)) throw new ApiError(0, 'bad_request', `${path.split('?')[0]} cannot be sent: a "." or ".." path segment would address another resource`, undefined);
  const token = sessionStorage.getItem(TOKEN_KEY) ?? '';
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    // No answer at all (the server down, the network gone): the browser's own words ("Failed to fetch") say nothing to an admin.
    throw new ApiError(0, 'unavailable', 'the server could not be reached; check that it runs and retry', undefined);
  }
  if (res.status === 204) return undefined as T;
  const json = (await res.json().catch(() => ({}))) as any;
  if (!res.ok) {
    const e = json?.error ?? {};
    throw new ApiError(res.status, e.code ?? 'unknown', e.message ?? `HTTP ${res.status}`, e.details);
  }
  return json as T;
}

/** A refusal in words an admin can act on. */
export function refusal(err: unknown, what: string): string {
  if (!(err instanceof ApiError)) return `${what} failed: ${String(err)}`;
  if (err.status === 401) return 'Your admin token is no longer accepted. Sign out and sign in again.';
  if (err.status === 403) return `Your admin token may not do this (${err.message}).`;
  return `${what} failed: ${err.message}`;
}
