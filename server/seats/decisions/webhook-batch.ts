// The order a webhook's batch of outbox rows is delivered in (docs/contract.md "Webhooks"): the
// seat history and the license changes merged by time, a seat row first at the same time, as
// when they were read one row at a time.
import type { OutboxSource } from '../webhook-store';

export type Merged<S, A> = { source: Extract<OutboxSource, 'seat'>; row: S } | { source: Extract<OutboxSource, 'audit'>; row: A };

/**
 * Merges the rows read from each outbox (each in id order, at most `limit` of each). A list that
 * came back full may have more rows after its last that come before the other list's next row,
 * so the merge stops where a full list runs out; the rest is read again in the next batch.
 */
export function mergeOutbox<S extends { at: number }, A extends { at: number }>(seat: readonly S[], audit: readonly A[], limit: number): Array<Merged<S, A>> {
  const out: Array<Merged<S, A>> = [];
  const seatAll = seat.length < limit;
  const auditAll = audit.length < limit;
  let i = 0;
  let j = 0;
  for (;;) {
    const s = seat[i];
    const a = audit[j];
    if ((!s && !seatAll) || (!a && !auditAll) || (!s && !a)) return out;
    if (s && (!a || s.at <= a.at)) {
      out.push({ source: 'seat', row: s });
      i++;
    } else {
      out.push({ source: 'audit', row: a! });
      j++;
    }
  }
}

/** The most requests of one webhook in flight at once (`concurrency`, 1 to this). */
export const WEBHOOK_MAX_CONCURRENCY = 32;
/** The most events in one request (`batchSize`, 1 to this). */
export const WEBHOOK_MAX_BATCH = 100;

const within = (n: number, max: number) => Math.min(Math.max(1, Math.floor(n) || 1), max);

/**
 * How a webhook's next events go out, from their ordering keys in order (a session's id, or the
 * license's for events of no session): cut into at most `concurrency` requests in flight at once,
 * each of at most `batchSize` events in a row. Returns each request's count of events, in order.
 * A key in one request is in no other of the window: a request carries a session's events in the
 * order they happened, and two requests holding one session are never in flight at once, so a
 * session's events still arrive in order. The window ends before the first event that would break
 * that (or that does not fit); it holds at least one event while there is one.
 */
export function windowGroups(keys: readonly string[], concurrency: number, batchSize: number): number[] {
  const most = within(concurrency, WEBHOOK_MAX_CONCURRENCY);
  const size = within(batchSize, WEBHOOK_MAX_BATCH);
  const groups: number[] = [];
  /** The keys of the window's full requests. */
  const before = new Set<string>();
  let current = new Set<string>();
  let length = 0;
  for (const key of keys) {
    if (before.has(key)) break;
    if (length === size) {
      if (groups.length + 1 === most) break;
      groups.push(length);
      for (const k of current) before.add(k);
      current = new Set();
      length = 0;
      if (before.has(key)) break;
    }
    current.add(key);
    length++;
  }
  if (length > 0) groups.push(length);
  return groups;
}
