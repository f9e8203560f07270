// Webhooks under the soak (invariant 9 of DESIGN.md: every event a webhook subscribes to is
// delivered at least once, in order per session, through a `kill -9` too). A receiver in the
// soak's process checks each request as it comes (the signature, the body's shape and size, no
// more requests in flight than the webhook's `concurrency`, no session in two of them), and now
// and then answers with a failure, late, or not at all, so retries are part of the run. At the
// end, with every fault over and the receiver answering at once, every subscribed event of the
// seat history must have been answered 2xx at least once, each event must match its history row
// (none invented), and no event of a session may have come before the events of that session
// that happened earlier were answered. Like the checker, it knows the contract and the tables,
// not the server's code.
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Violation } from './checker';
import type { OpLog } from './record';
import type { Rng } from './rng';
import type { LicenseChangeRow, SeatEventRow } from './truth';

export interface HookSpec {
  name: string;
  concurrency: number;
  batchSize: number;
}

/** The soak's webhooks: one event at a time, several in flight, and batches several in flight. */
export const SOAK_HOOKS: readonly HookSpec[] = [
  { name: 'one-at-a-time', concurrency: 1, batchSize: 1 },
  { name: 'concurrent', concurrency: 4, batchSize: 1 },
  { name: 'batched', concurrency: 3, batchSize: 10 },
];

/** What the soak's webhooks hear: every session event, denials and license changes. */
export const HOOK_SUBSCRIPTION = ['session.started', 'session.resumed', 'session.idle', 'session.ended', 'seat.denied', 'license.changed'];

/** The event each seat history row type makes, for the types the soak's webhooks hear (docs/contract.md). */
export const HOOK_EVENTS: Readonly<Record<string, string>> = {
  granted: 'session.started',
  resumed: 'session.resumed',
  idle: 'session.idle',
  released: 'session.ended',
  denied: 'seat.denied',
};

/** One event as it arrived. */
export interface Arrived {
  id: string;
  type: string;
  at: string;
  licenseId: string;
  sessionId: string | null;
  reason: string | null;
}

/** One request as the receiver saw it: when it came, when (and whether 2xx) it was answered. */
export interface HookRequest {
  hook: string;
  arrivedAt: number;
  answeredAt?: number;
  ok: boolean;
  events: Arrived[];
}

/** What the receiver does with a request: answer 204, 503, late, or close the connection. */
export type Answer = { kind: 'ok' } | { kind: 'fail' } | { kind: 'drop' } | { kind: 'late'; ms: number };

export type Found = Omit<Violation, 'op' | 'at'>;

export class HookReceiver {
  readonly requests: HookRequest[] = [];
  readonly violations: Violation[] = [];
  /** Answered with a failure (503 or a closed connection), and late. */
  readonly failed = new Map<string, number>();
  late = 0;
  /** From now on every request is answered 204 at once (the run is draining). */
  calm = false;
  private server?: http.Server;
  private readonly secrets = new Map<string, string>();
  private readonly specs = new Map<string, HookSpec>();
  /** Settings a webhook had before a change, and until when its requests may still follow them. */
  private readonly former = new Map<string, Array<{ spec: HookSpec; until: number }>>();
  /** Requests received and not answered yet, per webhook: their sessions. */
  private readonly inFlight = new Map<string, Set<{ sessions: Set<string> }>>();
  private readonly reported = new Set<string>();

  /** `answers` says what to do with each request (`randomAnswers` in the soak). */
  constructor(
    private readonly log: OpLog,
    private readonly answers: () => Answer,
  ) {}

  async listen(): Promise<string> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** A webhook made on the server: its requests come to `/hook/<name>`, signed with `secret`. */
  register(spec: HookSpec, secret: string): void {
    this.specs.set(spec.name, spec);
    this.secrets.set(spec.name, secret);
    this.inFlight.set(spec.name, new Set());
    this.former.set(spec.name, []);
  }

  /** The webhook's settings as they are now. */
  settings(name: string): HookSpec {
    return this.specs.get(name)!;
  }

  /**
   * The webhook's settings are being changed (`PATCH /webhooks/:id`): its requests may follow the
   * old ones or the new from now on, and the old ones until `changed` says how long after.
   */
  changing(next: HookSpec): void {
    this.former.get(next.name)!.push({ spec: this.specs.get(next.name)!, until: Infinity });
    this.specs.set(next.name, next);
  }

  /**
   * The change is made (or failed): the old settings hold for `graceMs` more (requests in flight
   * under them, and another node learns of a change at its next claim renewal).
   */
  changed(name: string, graceMs: number): void {
    for (const f of this.former.get(name)!) if (f.until === Infinity) f.until = Date.now() + graceMs;
  }

  /** The settings a request may follow now: the current ones, and those still in their grace. */
  private allowed(name: string, now: number): HookSpec[] {
    const former = this.former.get(name)!.filter((f) => f.until > now);
    this.former.set(name, former);
    return [this.specs.get(name)!, ...former.map((f) => f.spec)];
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** A violation the end check found (`checkDeliveries`). */
  add(v: Found): void {
    this.violations.push({ ...v, op: this.log.op, at: Date.now() });
  }

  private violate(v: Found, once: string): void {
    if (this.reported.has(once)) return;
    this.reported.add(once);
    this.violations.push({ ...v, op: this.log.op, at: Date.now() });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const name = /^\/hook\/([\w-]+)$/.exec(req.url ?? '')?.[1];
    const spec = name ? this.specs.get(name) : undefined;
    if (!spec || req.method !== 'POST') {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => this.received(spec, Buffer.concat(chunks), req.headers['seat-signature'], res));
  }

  private received(spec: HookSpec, raw: Buffer, signature: string | string[] | undefined, res: http.ServerResponse): void {
    const arrivedAt = Date.now();
    const allowed = this.allowed(spec.name, arrivedAt);
    const tries = allowed.map((a) => checkRequest(a, this.secrets.get(spec.name)!, raw, typeof signature === 'string' ? signature : undefined, arrivedAt));
    const checked = tries.find((t) => !('problem' in t)) ?? tries[0]!;
    if ('problem' in checked) {
      this.violate({ check: `webhook-${checked.problem}`, message: `webhook ${spec.name}: ${checked.message}` }, `${spec.name}:${checked.problem}`);
      res.writeHead(400).end();
      return;
    }
    // What a webhook keeps out of two requests at once: a session, and a license's events of no session.
    const sessions = new Set(checked.events.map((e) => e.sessionId ?? `license ${e.licenseId}`));
    const flying = this.inFlight.get(spec.name)!;
    const concurrency = Math.max(...allowed.map((a) => a.concurrency));
    if (flying.size >= concurrency) {
      this.violate({ check: 'webhook-concurrency', message: `webhook ${spec.name}: a request came while ${flying.size} were unanswered, its concurrency is ${concurrency}` }, `${spec.name}:concurrency`);
    }
    for (const other of flying) {
      const shared = [...sessions].find((s) => other.sessions.has(s));
      if (shared) {
        const what = shared.startsWith('license ') ? `${shared}'s events of no session are` : `session ${shared} is`;
        this.violate(
          { check: 'webhook-session-twice', sessionId: shared.startsWith('license ') ? undefined : shared, message: `webhook ${spec.name}: ${what} in two requests at once (the first not answered yet)` },
          `${spec.name}:twice:${shared}`,
        );
      }
    }
    const request: HookRequest = { hook: spec.name, arrivedAt, ok: false, events: checked.events };
    this.requests.push(request);
    const mine = { sessions };
    flying.add(mine);
    // A connection its sender closed (the node died, or gave up on the answer) holds nothing any more.
    res.on('close', () => flying.delete(mine));
    const answer: Answer = this.calm ? { kind: 'ok' } : this.answers();
    const end = (status: number) => {
      flying.delete(mine);
      request.answeredAt = Date.now();
      // A late answer to a sender that has closed the connection reaches nobody: not delivered.
      request.ok = status < 300 && !res.destroyed;
      res.writeHead(status).end();
    };
    if (answer.kind === 'ok') end(204);
    else if (answer.kind === 'late') {
      this.late++;
      setTimeout(() => end(204), answer.ms);
    } else {
      this.failed.set(answer.kind, (this.failed.get(answer.kind) ?? 0) + 1);
      if (answer.kind === 'fail') end(503);
      else {
        flying.delete(mine);
        request.answeredAt = Date.now();
        res.socket?.destroy();
      }
    }
  }

}

/**
 * Mostly 204 at once; about 1 in 60 a 503, 1 in 200 a closed connection, 1 in 40 late (up to
 * 300 ms); and about 1 in 2,000 the receiver goes down for 0.5 to 3 s (every request a 503), so
 * events pile up behind the retries and go out in full batches after.
 */
export function randomAnswers(rng: Rng, clock: () => number = Date.now): { next: () => Answer; outages: () => number } {
  let downUntil = 0;
  let outages = 0;
  return {
    next: () => {
      const now = clock();
      if (now < downUntil) return { kind: 'fail' };
      const draw = rng.int(0, 1999);
      if (draw === 0) {
        outages++;
        downUntil = now + rng.int(500, 3000);
        return { kind: 'fail' };
      }
      if (draw < 34) return { kind: 'fail' };
      if (draw < 44) return { kind: 'drop' };
      if (draw < 94) return { kind: 'late', ms: rng.int(20, 300) };
      return { kind: 'ok' };
    },
    outages: () => outages,
  };
}

/**
 * One request's signature (`Seat-Signature: t=…,v1=…`, an HMAC-SHA256 of "t.body" with the
 * webhook's secret, t within 5 minutes) and body (one event, or with a batch size above 1 an
 * array of 1 to that many), read into its events.
 */
export function checkRequest(spec: HookSpec, secret: string, raw: Buffer, signature: string | undefined, now: number): { events: Arrived[] } | { problem: string; message: string } {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(signature ?? '');
  if (!m) return { problem: 'signature', message: `the Seat-Signature header is ${signature === undefined ? 'missing' : `"${signature}"`}` };
  const expected = createHmac('sha256', secret).update(`${m[1]}.`).update(raw).digest();
  if (!timingSafeEqual(expected, Buffer.from(m[2]!, 'hex'))) return { problem: 'signature', message: 'the signature does not match the body' };
  if (Math.abs(Number(m[1]) - now / 1000) > 300) return { problem: 'signature', message: `the signature's time ${m[1]} is more than 5 minutes from now` };
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    return { problem: 'shape', message: 'the body is not JSON' };
  }
  if (spec.batchSize > 1 && (!Array.isArray(body) || body.length === 0 || body.length > spec.batchSize)) {
    return { problem: 'shape', message: `with batchSize ${spec.batchSize} the body must be an array of 1 to ${spec.batchSize} events, not ${Array.isArray(body) ? `${body.length}` : typeof body}` };
  }
  if (spec.batchSize === 1 && (Array.isArray(body) || typeof body !== 'object' || body === null)) return { problem: 'shape', message: 'with batchSize 1 the body must be one event' };
  const events: Arrived[] = [];
  for (const e of (Array.isArray(body) ? body : [body]) as Array<Record<string, any>>) {
    if (typeof e?.id !== 'string' || typeof e.type !== 'string' || typeof e.at !== 'string' || typeof e.licenseId !== 'string' || typeof e.data !== 'object' || e.data === null) {
      return { problem: 'shape', message: `an event without id, type, at, licenseId or data: ${JSON.stringify(e).slice(0, 200)}` };
    }
    events.push({ id: e.id, type: e.type, at: e.at, licenseId: e.licenseId, sessionId: e.data.sessionId ?? null, reason: e.data.reason ?? null });
  }
  return { events };
}

/** The event a seat history row makes for the soak's webhooks (its id as the contract gives it). */
export function expectedEvent(row: SeatEventRow): Arrived | undefined {
  const type = HOOK_EVENTS[row.type];
  if (!type) return undefined;
  return {
    id: `evt_s${row.id}_${row.at.toString(36)}`,
    type,
    at: new Date(row.at).toISOString(),
    licenseId: row.licenseId,
    sessionId: type === 'seat.denied' ? null : row.sessionId,
    // An ending's reason, or a denial's.
    reason: type === 'session.ended' || type === 'seat.denied' ? row.reason : null,
  };
}

/** The `license.changed` event a `license.update` audit entry makes. */
export function changeEvent(row: LicenseChangeRow): Arrived {
  return { id: `evt_a${row.id}_${row.at.toString(36)}`, type: 'license.changed', at: new Date(row.at).toISOString(), licenseId: row.licenseId, sessionId: null, reason: null };
}

/** Every event the webhooks are to deliver: each outbox's in the order of its ids. */
export function expectedEvents(seat: readonly SeatEventRow[], changes: readonly LicenseChangeRow[]): Arrived[] {
  return [...seat.flatMap((r) => expectedEvent(r) ?? []), ...changes.map(changeEvent)];
}

/** The events of `expected` not yet answered 2xx to `hook`, in order. */
export function undelivered(expected: readonly Arrived[], hook: string, requests: readonly HookRequest[]): Arrived[] {
  const acked = new Set(requests.filter((r) => r.hook === hook && r.ok).flatMap((r) => r.events.map((e) => e.id)));
  return expected.filter((e) => !acked.has(e.id));
}

/**
 * How long after it happened each event was first answered 2xx to `hook` (ms, the soak's clock
 * against the event's `at`), in no particular order.
 */
export function deliveryDelays(hook: string, requests: readonly HookRequest[]): number[] {
  const acked = new Map<string, { at: number; answered: number }>();
  for (const r of requests) {
    if (r.hook !== hook || !r.ok || r.answeredAt === undefined) continue;
    for (const e of r.events) {
      const was = acked.get(e.id);
      if (!was || r.answeredAt < was.answered) acked.set(e.id, { at: Date.parse(e.at), answered: r.answeredAt });
    }
  }
  return [...acked.values()].map((a) => a.answered - a.at);
}

/**
 * What a webhook keeps in order: a session's events, and (they count as the license's) a
 * license's denials, and its changes. Denials and changes come from two outboxes, each kept in
 * the order of its own ids here.
 */
const orderKey = (e: Arrived) => e.sessionId ?? `license ${e.licenseId} ${e.type === 'license.changed' ? 'changes' : 'denials'}`;

/**
 * The end check of one webhook: every event it was to deliver (`expectedEvents` of the rows made
 * since it was created) answered 2xx at least once; every event that came matches its row; and
 * each event of a session (or a license's denial, or its change) came only after every earlier one
 * of it was answered 2xx, or behind it in the same request.
 */
export function checkDeliveries(events: readonly Arrived[], hook: string, requests: readonly HookRequest[]): Found[] {
  const found: Found[] = [];
  const expected = new Map(events.map((e) => [e.id, e]));
  const mine = requests.filter((r) => r.hook === hook).sort((a, b) => a.arrivedAt - b.arrivedAt);
  /** Each event's first request and its place in it; when it was first answered 2xx. */
  const first = new Map<string, { request: HookRequest; index: number }>();
  const acked = new Map<string, number>();
  const invented: string[] = [];
  for (const request of mine) {
    request.events.forEach((e, index) => {
      const want = expected.get(e.id);
      if (!want || want.type !== e.type || want.at !== e.at || want.licenseId !== e.licenseId || want.sessionId !== e.sessionId || want.reason !== e.reason) invented.push(e.id);
      if (!first.has(e.id)) first.set(e.id, { request, index });
      if (request.ok && request.answeredAt !== undefined) acked.set(e.id, Math.min(acked.get(e.id) ?? Infinity, request.answeredAt));
    });
  }
  if (invented.length > 0) {
    const e = mine.flatMap((r) => r.events).find((x) => x.id === invented[0]);
    found.push({ check: 'webhook-invented', licenseId: e?.licenseId, sessionId: e?.sessionId ?? undefined, message: `webhook ${hook}: ${invented.length} events match no seat history row (first ${JSON.stringify(e)})` });
  }
  const lost = [...expected.values()].filter((e) => !acked.has(e.id));
  if (lost.length > 0) {
    found.push({
      check: 'webhook-lost',
      licenseId: lost[0]!.licenseId,
      sessionId: lost[0]!.sessionId ?? undefined,
      message: `webhook ${hook}: ${lost.length} of ${expected.size} events never answered 2xx (${lost.slice(0, 5).map((e) => `${e.id} ${e.type}`).join(', ')}${lost.length > 5 ? ', …' : ''})`,
    });
  }
  // Per session (or license), in the order their outbox wrote them.
  const byKey = new Map<string, Arrived[]>();
  for (const e of expected.values()) {
    const list = byKey.get(orderKey(e));
    if (list) list.push(e);
    else byKey.set(orderKey(e), [e]);
  }
  let disorders = 0;
  let example: { key: string; e: Arrived; message: string } | undefined;
  for (const [key, events] of byKey) {
    events.forEach((later, k) => {
      const came = first.get(later.id);
      if (!came) return;
      for (const earlier of events.slice(0, k)) {
        const answered = acked.get(earlier.id);
        const ahead = came.request.events.findIndex((e) => e.id === earlier.id);
        if ((answered !== undefined && answered <= came.request.arrivedAt) || (ahead >= 0 && ahead < came.index)) continue;
        if (answered === undefined && !first.has(earlier.id)) continue; // lost, reported above
        disorders++;
        example ??= { key, e: later, message: `${later.type} ${later.id} came before ${earlier.type} ${earlier.id} was answered` };
      }
    });
  }
  if (example) {
    found.push({
      check: 'webhook-order',
      licenseId: example.e.licenseId,
      sessionId: example.e.sessionId ?? undefined,
      message: `webhook ${hook}: ${disorders} events came before an earlier event of their session or license (first, of ${example.key.startsWith('license ') ? example.key : `session ${example.key}`}: ${example.message})`,
    });
  }
  return found;
}
