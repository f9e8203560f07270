// One page of a license's live sessions, searched, filtered and sorted (GET /licenses/:id/sessions
// with paging parameters, and the dashboard's session table). A pure function over the license's
// sessions, for text search and the sorts by user, name, app and state (JavaScript's case folding,
// the same on every store; 10,000 sessions take some 60 ms with their read). The default view, by
// start time without text or app filter, is paged in the store in this same order
// (server/store/session-reads.ts, Reads.sessionPage).
import type { Session } from './types';

export const SESSION_SORTS = ['startedAt', 'user', 'name', 'app', 'state', 'idleSince'] as const;
export type SessionSort = (typeof SESSION_SORTS)[number];

export interface SessionQuery {
  /** Case-insensitive text found in the user id, name, app, session ref, device, instance or session id. */
  q?: string;
  /** Exactly this user id. */
  user?: string;
  /** Sessions with a socket of this app (or started by it). */
  app?: string;
  state?: Session['state'];
  sort?: SessionSort;
  order?: 'asc' | 'desc';
  /** Absent: every matching session (the endpoint as it always was). */
  limit?: number;
  offset?: number;
}

export interface SessionPage {
  sessions: Session[];
  /** The license's live sessions. */
  total: number;
  /** Those that match the filters (the page is cut from them). */
  matched: number;
}

const text = (s: Session) => [s.userId, s.name, s.app, ...s.apps, s.sessionRef, s.deviceId, s.instanceId, s.id];

/** Whether the session passes the filters (the live board uses it for sessions it hears of). */
export function sessionMatches(s: Session, { q, user, app, state }: SessionQuery): boolean {
  if (state !== undefined && s.state !== state) return false;
  if (user !== undefined && s.userId !== user) return false;
  if (app !== undefined && s.app !== app && !s.apps.includes(app)) return false;
  if (q) {
    const needle = q.toLowerCase();
    if (!text(s).some((v) => v !== null && v.toLowerCase().includes(needle))) return false;
  }
  return true;
}

const keyOf: Record<SessionSort, (s: Session) => string | number | null> = {
  startedAt: (s) => s.startedAt,
  user: (s) => s.userId?.toLowerCase() ?? null,
  name: (s) => s.name?.toLowerCase() ?? null,
  app: (s) => s.app?.toLowerCase() ?? null,
  state: (s) => s.state,
  idleSince: (s) => s.idleSince,
};

/** Compares by the sort key, nulls last in either order, then by start and id so pages never overlap. */
export function compareSessions(sort: SessionSort, order: 'asc' | 'desc'): (a: Session, b: Session) => number {
  const key = keyOf[sort];
  const sign = order === 'asc' ? 1 : -1;
  return (a, b) => {
    const x = key(a);
    const y = key(b);
    if (x !== y) {
      if (x === null) return 1;
      if (y === null) return -1;
      return (x < y ? -1 : 1) * sign;
    }
    if (a.startedAt !== b.startedAt) return (a.startedAt - b.startedAt) * sign;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  };
}

/** The page: filters, then sorts (default oldest first, as the unpaged list), then cuts. */
export function pageSessions(all: readonly Session[], query: SessionQuery): SessionPage {
  const matching = all.filter((s) => sessionMatches(s, query));
  matching.sort(compareSessions(query.sort ?? 'startedAt', query.order ?? 'asc'));
  const offset = query.offset ?? 0;
  const sessions = query.limit === undefined ? matching.slice(offset) : matching.slice(offset, offset + query.limit);
  return { sessions, total: all.length, matched: matching.length };
}

/**
 * The newest `perLicense` sessions of each license (the admin snapshot's bound), in the order
 * given, and every license's count of live sessions.
 */
export function newestPerLicense(sessions: readonly Session[], perLicense: number): { sessions: Session[]; totals: Map<string, number> } {
  const byLicense = new Map<string, Session[]>();
  for (const s of sessions) {
    const list = byLicense.get(s.licenseId);
    if (list) list.push(s);
    else byLicense.set(s.licenseId, [s]);
  }
  const totals = new Map<string, number>();
  const kept = new Set<Session>();
  for (const [id, list] of byLicense) {
    totals.set(id, list.length);
    const newest = list.length <= perLicense ? list : [...list].sort((a, b) => b.startedAt - a.startedAt || (a.id < b.id ? 1 : -1)).slice(0, perLicense);
    for (const s of newest) kept.add(s);
  }
  return { sessions: sessions.filter((s) => kept.has(s)), totals };
}
