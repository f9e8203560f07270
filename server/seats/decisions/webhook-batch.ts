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

/** A webhook's settings as the sender uses them, kept within their bounds (a row edited by hand to 0 would send nothing). */
export function deliveryLimits(w: { concurrency: number; batchSize: number }): { concurrency: number; batchSize: number } {
  const within = (n: number, max: number) => Math.min(Math.max(1, Math.floor(n) || 1), max);
  return { concurrency: within(w.concurrency, WEBHOOK_MAX_CONCURRENCY), batchSize: within(w.batchSize, WEBHOOK_MAX_BATCH) };
}

/**
 * How many of a webhook's next events (their ordering keys in order: a session's id, or the
 * license's for events of no session) go in its next request: up to `batchSize` in a row, ending
 * before the first whose key is `busy` (in a request sent but not yet answered and recorded). A
 * request carries a session's events in the order they happened, and no session is in two
 * requests in flight, so a session's events arrive in order. 0: the next event must wait for an
 * answer.
 */
export function nextRequest(keys: readonly string[], busy: ReadonlySet<string>, batchSize: number): number {
  let n = 0;
  while (n < keys.length && n < batchSize && !busy.has(keys[n]!)) n++;
  return n;
}
