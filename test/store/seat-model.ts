// A pure model of the store's admission, for the property tests (admission-properties.test.ts).
// It mirrors the store's documented rules step by step: resume the seat key's live session, else
// refuse a suspended license, a kicked key in cool-down or a claim that does not fit (after
// releasing idle seats past their deadline), else grant; a last detach idles a session with the
// idle timeout in force; expiry releases only idle sessions past their deadline; lowering seats
// ends the newest sessions until the rest fit, suspending ends them all.
// The store's own choices the model cannot make (new session ids) come from what the store returned.

export type EndReasonM = 'kicked' | 'ended_by_app' | 'license_suspended' | 'seats_reduced' | 'idle_timeout';
export type DenyReasonM = 'no_free_seats' | 'license_suspended' | 'kicked';

export interface MSession {
  id: string;
  key: string;
  weight: number;
  /** Socket ids of its connection rows, sorted. */
  sockets: string[];
  state: 'active' | 'idle';
  startedAt: number;
  idleSince: number | null;
  expiresAt: number | null;
}

export interface MLicense {
  id: string;
  seats: number;
  status: 'active' | 'suspended';
  idleTimeoutSec: number;
  /** Live sessions by seat key. */
  sessions: Record<string, MSession>;
  /** Kick cool-downs by seat key (the rows stay after they pass, as in the store). */
  cooldowns: Record<string, number>;
  denials: Array<{ at: number; reason: DenyReasonM; ref: string }>;
  /** Every session released so far, with its reason (the store writes one `released` event each). */
  released: Record<string, EndReasonM>;
}

export interface Model {
  licenses: Record<string, MLicense>;
}

export type LicensePatchM = Partial<{ seats: number; status: 'active' | 'suspended'; idleTimeoutSec: number }>;

/** One store call, with every id resolved. */
export type Step =
  | { kind: 'admit'; licenseId: string; key: string; weight: number; socketId: string; now: number }
  | { kind: 'detach'; socketId: string; now: number }
  | { kind: 'end'; sessionId: string; reason: 'kicked' | 'ended_by_app'; cooldownUntil?: number; now: number }
  | { kind: 'expireLicense'; licenseId: string; now: number }
  | { kind: 'update'; licenseId: string; patch: LicensePatchM; now: number };

/** What a call returned, reduced to what the model can predict. */
export type Observed =
  | { kind: 'granted'; resumed: boolean; sessionId: string; weight: number; sockets: number; seatsInUse: number; expired: string[] }
  | { kind: 'denied'; reason: string; seatsInUse: number; expired: string[] }
  | { kind: 'error' }
  | { kind: 'detached'; sessionId: string; state: string; sockets: number; seatsInUse: number }
  | { kind: 'ended'; sessionId: string; reason: string; sockets: number; seatsInUse: number }
  | { kind: 'expired'; ids: string[] }
  | { kind: 'updated'; seats: number; status: string; idleTimeoutSec: number; ended: Array<[string, string]> }
  | { kind: 'none' };

export function held(l: MLicense): number {
  return Object.values(l.sessions).reduce((n, s) => n + s.weight, 0);
}

function allSessions(m: Model): Array<[MLicense, MSession]> {
  return Object.values(m.licenses).flatMap((l) => Object.values(l.sessions).map((s) => [l, s] as [MLicense, MSession]));
}

export function findSession(m: Model, id: string): [MLicense, MSession] | undefined {
  return allSessions(m).find(([, s]) => s.id === id);
}

export function findSocket(m: Model, socketId: string): [MLicense, MSession] | undefined {
  return allSessions(m).find(([, s]) => s.sockets.includes(socketId));
}

function release(l: MLicense, s: MSession, reason: EndReasonM): void {
  delete l.sessions[s.key];
  l.released[s.id] = reason;
}

/** Releases the license's idle sessions at or past their deadline; returns their ids, sorted. */
function releaseExpired(l: MLicense, now: number): string[] {
  const due = Object.values(l.sessions).filter((s) => s.state === 'idle' && s.expiresAt !== null && s.expiresAt <= now);
  for (const s of due) release(l, s, 'idle_timeout');
  return due.map((s) => s.id).sort();
}

/**
 * Applies `step` to `m` (in place) and returns what the store should have returned. `observed` is
 * what it did return: only a new session's id is taken from it.
 */
export function apply(m: Model, step: Step, observed: Observed): Observed {
  switch (step.kind) {
    case 'admit': {
      const before = m.licenses[step.licenseId]!;
      // Work on a copy: a grant whose connection row cannot be written (the socket id is taken)
      // rolls the whole transaction back, releases on the way included.
      const l: MLicense = structuredClone(before);
      let expired: string[] = [];
      const deny = (reason: DenyReasonM): Observed => {
        l.denials.push({ at: step.now, reason, ref: step.key });
        m.licenses[l.id] = l;
        return { kind: 'denied', reason, seatsInUse: held(l), expired: expired.sort() };
      };
      const socketTaken = findSocket(m, step.socketId) !== undefined;
      if (l.status === 'suspended') return deny('license_suspended');
      let existing = l.sessions[step.key];
      if (existing && existing.state === 'idle' && existing.expiresAt !== null && existing.expiresAt <= step.now) {
        expired = expired.concat(releaseExpired(l, step.now));
        existing = undefined;
      }
      if (existing) {
        if (socketTaken) return { kind: 'error' };
        existing.state = 'active';
        existing.idleSince = null;
        existing.expiresAt = null;
        existing.sockets = [...existing.sockets, step.socketId].sort();
        m.licenses[l.id] = l;
        return {
          kind: 'granted',
          resumed: true,
          sessionId: existing.id,
          weight: existing.weight,
          sockets: existing.sockets.length,
          seatsInUse: held(l),
          expired: expired.sort(),
        };
      }
      const until = l.cooldowns[step.key];
      if (until !== undefined && until > step.now) return deny('kicked');
      if (held(l) + step.weight > l.seats) expired = expired.concat(releaseExpired(l, step.now));
      if (held(l) + step.weight > l.seats) return deny('no_free_seats');
      if (socketTaken) return { kind: 'error' };
      const id = observed.kind === 'granted' && !observed.resumed ? observed.sessionId : '(a new session id)';
      l.sessions[step.key] = {
        id,
        key: step.key,
        weight: step.weight,
        sockets: [step.socketId],
        state: 'active',
        startedAt: step.now,
        idleSince: null,
        expiresAt: null,
      };
      m.licenses[l.id] = l;
      return { kind: 'granted', resumed: false, sessionId: id, weight: step.weight, sockets: 1, seatsInUse: held(l), expired: expired.sort() };
    }
    case 'detach': {
      const found = findSocket(m, step.socketId);
      if (!found) return { kind: 'none' };
      const [l, s] = found;
      s.sockets = s.sockets.filter((x) => x !== step.socketId);
      if (s.sockets.length === 0) {
        s.state = 'idle';
        s.idleSince = step.now;
        s.expiresAt = step.now + l.idleTimeoutSec * 1000;
      }
      return { kind: 'detached', sessionId: s.id, state: s.state, sockets: s.sockets.length, seatsInUse: held(l) };
    }
    case 'end': {
      const found = findSession(m, step.sessionId);
      if (!found) return { kind: 'none' };
      const [l, s] = found;
      release(l, s, step.reason);
      if (step.cooldownUntil !== undefined && step.cooldownUntil > step.now) l.cooldowns[s.key] = step.cooldownUntil;
      return { kind: 'ended', sessionId: s.id, reason: step.reason, sockets: s.sockets.length, seatsInUse: held(l) };
    }
    case 'expireLicense':
      return { kind: 'expired', ids: releaseExpired(m.licenses[step.licenseId]!, step.now) };
    case 'update': {
      const l = m.licenses[step.licenseId]!;
      Object.assign(l, step.patch);
      // Newest first, as the store orders them: started_at, then id, both descending.
      const live = Object.values(l.sessions).sort((a, b) => b.startedAt - a.startedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
      const ended: Array<[string, string]> = [];
      for (const s of live) {
        let reason: EndReasonM | undefined;
        if (l.status === 'suspended') reason = 'license_suspended';
        else if (held(l) > l.seats) reason = 'seats_reduced';
        if (!reason) break;
        release(l, s, reason);
        ended.push([s.id, reason]);
      }
      return { kind: 'updated', seats: l.seats, status: l.status, idleTimeoutSec: l.idleTimeoutSec, ended };
    }
  }
}
