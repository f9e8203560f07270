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

/** The most events of one webhook in flight at once (`concurrency`, 1 to this). */
export const WEBHOOK_MAX_CONCURRENCY = 32;

/**
 * How many of `keys` (the ordering keys of a webhook's next events, in order: a session's id, or
 * the license's for events of no session) go out together: at most `concurrency`, and none whose
 * key is already among them, so two events of one session are never in flight at once and a
 * session's events arrive in the order they happened. At least one while there is one.
 */
export function windowSize(keys: readonly string[], concurrency: number): number {
  const seen = new Set<string>();
  let n = 0;
  while (n < keys.length && n < Math.max(1, concurrency) && !seen.has(keys[n]!)) seen.add(keys[n++]!);
  return n;
}
