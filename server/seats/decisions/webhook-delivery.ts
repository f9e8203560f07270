// Webhooks' decisions as pure functions (docs/contract.md "Webhooks"): which events an outbox row
// makes, how a delivery is signed, when a failed one is tried again or given up on, how far the
// outbox may be read, and which addresses a webhook may not reach. The worker
// (server/seats/webhook-worker.ts) reads, calls these, and writes.
import { createHmac } from 'node:crypto';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { SeatEventType, WebhookEventType } from '../../../shared';
import type { AuditOutboxRow, SeatOutboxRow } from '../webhook-store';

export { WebhookEventType };
export const WEBHOOK_EVENT_TYPES: readonly WebhookEventType[] = Object.values(WebhookEventType);
export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/** One event as delivered: the body is `{ id, type, at, tenantId, licenseId, data }`. */
export interface WebhookEvent {
  id: string;
  type: WebhookEventType;
  at: string;
  /** Null only for the operator's webhooks, for an event of a license deleted without its audit entry. */
  tenantId: string | null;
  licenseId: string;
  data: Record<string, unknown>;
}

/** How long a deleted license's row may wait for the deletion's audit entry to name its tenant. */
export const UNKNOWN_TENANT_WAIT_MS = 60_000;

/**
 * Whether a webhook gets a seat history row: its tenant's (or, the operator's, every) row; a row
 * of a license just deleted, whose tenant is not on record yet, waits for it (the audit entry is
 * written just after the deletion), and past UNKNOWN_TENANT_WAIT_MS goes only to the operator's.
 */
export function rowFor(row: Pick<SeatOutboxRow, 'tenantId' | 'at'>, webhookTenant: string | null, now: number): 'deliver' | 'skip' | 'wait' {
  if (row.tenantId !== null) return webhookTenant === null || row.tenantId === webhookTenant ? 'deliver' : 'skip';
  if (now - row.at < UNKNOWN_TENANT_WAIT_MS) return 'wait';
  return webhookTenant === null ? 'deliver' : 'skip';
}

/**
 * An event's id: its outbox row's id and time (base 36). The time keeps it unique where SQLite
 * hands an id out again after pruning took the newest rows.
 */
export function eventId(source: 's' | 'a', row: { id: number; at: number }): string {
  return `evt_${source}${row.id}_${row.at.toString(36)}`;
}

/** The seat history types a webhook's subscriptions need read. */
export function seatTypesFor(events: readonly WebhookEventType[]): string[] {
  const types = new Set<string>();
  for (const e of events) {
    if (e === 'session.started' || e === 'license.full' || e === 'license.overage') types.add(SeatEventType.Granted);
    if (e === 'session.resumed') types.add(SeatEventType.Resumed);
    if (e === 'session.idle') types.add(SeatEventType.Idle);
    if (e === 'session.ended') types.add(SeatEventType.Released);
    if (e === 'seat.denied') types.add(SeatEventType.Denied);
    if (e === 'seat.queued') types.add(SeatEventType.Queued);
    if (e === 'seat.requested') types.add(SeatEventType.Requested);
  }
  return [...types];
}

const SESSION_TYPE: Record<string, WebhookEventType> = {
  [SeatEventType.Granted]: 'session.started',
  [SeatEventType.Resumed]: 'session.resumed',
  [SeatEventType.Idle]: 'session.idle',
  [SeatEventType.Released]: 'session.ended',
};

/**
 * The events one seat history row makes, in the order they are delivered: a grant is
 * `session.started`, and also `license.full` when it took the last seat. Ids are stable (see
 * `eventId`), so a redelivery carries the same id and a receiver can drop duplicates.
 */
export function eventsOfSeatRow(row: SeatOutboxRow, subscribed: readonly WebhookEventType[]): WebhookEvent[] {
  const id = eventId('s', row);
  const at = new Date(row.at).toISOString();
  // Written out in the contract's order (an object spread cost more than the rest of this).
  const event = (id: string, type: WebhookEventType, data: Record<string, unknown>): WebhookEvent => ({ id, type, at, tenantId: row.tenantId, licenseId: row.licenseId, data });
  const out: WebhookEvent[] = [];
  const want = (t: WebhookEventType) => subscribed.includes(t);
  if (row.type === SeatEventType.Denied) {
    if (want('seat.denied')) out.push(event(id, 'seat.denied', { reason: row.reason, weight: row.weight, seatsInUse: row.seatsInUse, seats: row.seats }));
    return out;
  }
  if (row.type === SeatEventType.Queued || row.type === SeatEventType.Requested) {
    const type = row.type === SeatEventType.Queued ? 'seat.queued' : 'seat.requested';
    if (want(type)) out.push(event(id, type, { weight: row.weight, seatsInUse: row.seatsInUse, seats: row.seats }));
    return out;
  }
  const type = SESSION_TYPE[row.type];
  if (type && want(type)) {
    const data: Record<string, unknown> = { sessionId: row.sessionId, weight: row.weight, seatsInUse: row.seatsInUse, seats: row.seats };
    if (type === 'session.ended') data.reason = row.reason;
    out.push(event(id, type, data));
  }
  // "Reaches" the seats: the grant that filled the license, not every grant past a lowered count.
  const { seats } = row;
  if (row.type === SeatEventType.Granted && want('license.full') && seats !== null && row.seatsInUse >= seats && row.seatsInUse - row.weight < seats) {
    out.push(event(`${id}_full`, 'license.full', { sessionId: row.sessionId, seatsInUse: row.seatsInUse, seats: row.seats }));
  }
  // Overage begins: the grant that took the license past its seats.
  if (row.type === SeatEventType.Granted && want('license.overage') && seats !== null && row.seatsInUse > seats && row.seatsInUse - row.weight <= seats) {
    out.push(event(`${id}_overage`, 'license.overage', { sessionId: row.sessionId, seatsInUse: row.seatsInUse, seats: row.seats }));
  }
  return out;
}

/** A `license.update` audit entry as `license.changed`: the fields changed, what they were, and who. */
export function eventOfAuditRow(row: AuditOutboxRow): WebhookEvent {
  const { before, endedSessions, ...changes } = row.detail;
  return {
    id: eventId('a', row),
    type: 'license.changed',
    at: new Date(row.at).toISOString(),
    tenantId: row.tenantId,
    licenseId: row.licenseId,
    data: { changes, before: before ?? {}, endedSessions: endedSessions ?? 0, actor: row.actor },
  };
}

/** `Seat-Signature`, Stripe's scheme: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`. */
export function signatureHeader(secret: string, body: string, nowMs: number): string {
  const t = Math.floor(nowMs / 1000);
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${v1}`;
}

export interface RetrySchedule {
  /** The first retry's delay; each next one doubles (WEBHOOK_RETRY_BASE_MS). */
  baseMs: number;
  /** The longest delay between attempts (WEBHOOK_RETRY_MAX_MS). */
  maxMs: number;
  /** Retried until this long after the first attempt, then failed (WEBHOOK_GIVE_UP_SEC). */
  giveUpMs: number;
}

/** The delay after the `attempts`-th failed attempt: base, 2×base, 4×base … capped at max. */
export function retryDelay(attempts: number, s: Pick<RetrySchedule, 'baseMs' | 'maxMs'>): number {
  const exp = Math.min(Math.max(attempts - 1, 0), 40);
  return Math.min(s.baseMs * 2 ** exp, s.maxMs);
}

export type AttemptResult = { responseStatus: number } | { error: string };

/**
 * What an attempt leaves: delivered on a 2xx; otherwise pending with the next attempt's time,
 * or failed once the give-up time has passed since the first attempt (`createdAt`).
 */
export function afterAttempt(
  d: { attempts: number; createdAt: number },
  result: AttemptResult,
  now: number,
  s: RetrySchedule,
): { status: DeliveryStatus; attempts: number; nextAttemptAt: number } {
  const attempts = d.attempts + 1;
  if ('responseStatus' in result && result.responseStatus >= 200 && result.responseStatus < 300) return { status: 'delivered', attempts, nextAttemptAt: now };
  if (now - d.createdAt >= s.giveUpMs) return { status: 'failed', attempts, nextAttemptAt: now };
  return { status: 'pending', attempts, nextAttemptAt: now + retryDelay(attempts, s) };
}

/**
 * How far an outbox may be read: past `mark`, through the ids that follow it without a hole. A
 * hole is an id a transaction took and has not committed yet (PostgreSQL hands out ids at insert,
 * commits in any order), or one rolled back or deleted for good: it is waited for until the row
 * after it is `gapWaitMs` old, or until `settled` says that no transaction can fill it any more,
 * then passed. `seen` holds when each row after a hole was first seen (the caller keeps it between
 * calls), and `settled` is asked by that row's id; `ids` are the rows after `mark`, in order.
 */
export function advanceMark(
  mark: number,
  ids: ReadonlyArray<{ id: number; at: number }>,
  seen: Map<number, number>,
  now: number,
  gapWaitMs: number,
  settled: (id: number) => boolean = () => false,
): number {
  let m = mark;
  for (const r of ids) {
    if (r.id !== m + 1) {
      const first = seen.get(r.id) ?? now;
      seen.set(r.id, first);
      if (now - Math.min(first, r.at) < gapWaitMs && !settled(r.id)) break;
    }
    seen.delete(r.id);
    m = r.id;
  }
  for (const id of seen.keys()) if (id <= m) seen.delete(id);
  return m;
}

/**
 * Any address but a public unicast one: loopback, private, link-local, unique-local, unspecified,
 * CGNAT, multicast, broadcast, reserved and documentation ranges, and the IPv6 forms that carry an
 * IPv4 address (mapped, compatible, translated, NAT64, 6to4, Teredo), judged as ipaddr.js ranges
 * them. Matching the text missed some of these: `URL` writes `[::ffff:127.0.0.1]` as
 * `[::ffff:7f00:1]`, which connects to 127.0.0.1 without a lookup.
 */
export function isPrivateAddress(address: string): boolean {
  if (isIP(address) === 0) return true;
  const ip = ipaddr.process(address);
  return ip.range() !== 'unicast' || isCompatiblePrivate(ip);
}

/**
 * An IPv4-compatible IPv6 address (::a.b.c.d, the first 96 bits zero) of a private IPv4 one.
 * ipaddr.js judges one written dotted as its IPv4 address, but one written in hex (`URL` writes
 * `[::127.0.0.1]` as `[::7f00:1]`) as a unicast IPv6 address.
 */
function isCompatiblePrivate(ip: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  if (ip.kind() !== 'ipv6') return false;
  const parts = (ip as ipaddr.IPv6).parts;
  if (parts.slice(0, 6).some((p) => p !== 0)) return false;
  const v4 = new ipaddr.IPv4([parts[6]! >> 8, parts[6]! & 0xff, parts[7]! >> 8, parts[7]! & 0xff]);
  return v4.range() !== 'unicast';
}
