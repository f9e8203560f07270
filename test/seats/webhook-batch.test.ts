// The order of a webhook's batch (server/seats/decisions/webhook-batch.ts): seat history and
// license changes merged by time, a seat row first at the same time, and never past the end of a
// list that came back full (its next rows, not read yet, may come first); and how many of its next
// events go in its next request (`batchSize`, none of a session in a request still in flight).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deliveryLimits, mergeOutbox, nextRequest, WEBHOOK_MAX_BATCH, WEBHOOK_MAX_CONCURRENCY } from '../../server/seats/decisions/webhook-batch';

const rows = (...ats: number[]) => ats.map((at, i) => ({ id: i + 1, at }));
const order = (seat: ReturnType<typeof rows>, audit: ReturnType<typeof rows>, limit: number) =>
  mergeOutbox(seat, audit, limit).map((r) => `${r.source[0]}${r.row.id}`);

describe('mergeOutbox', () => {
  it.each([
    { name: 'both lists whole', seat: rows(1, 3, 5), audit: rows(2, 4), limit: 10, want: ['s1', 'a1', 's2', 'a2', 's3'] },
    { name: 'a seat row first at the same time', seat: rows(2, 2), audit: rows(2), limit: 10, want: ['s1', 's2', 'a1'] },
    { name: 'no license changes', seat: rows(1, 2, 3), audit: [], limit: 10, want: ['s1', 's2', 's3'] },
    { name: 'license changes only', seat: [], audit: rows(1, 2), limit: 10, want: ['a1', 'a2'] },
    { name: 'nothing', seat: [], audit: [], limit: 10, want: [] },
    // The seat list is full: its next row may be before the change at 9.
    { name: 'stops where a full seat list runs out', seat: rows(1, 2, 3), audit: rows(9), limit: 3, want: ['s1', 's2', 's3'] },
    { name: 'stops where a full audit list runs out', seat: rows(9), audit: rows(1, 2), limit: 2, want: ['a1', 'a2'] },
    { name: 'a full list with nothing else to wait for', seat: rows(1, 2), audit: [], limit: 2, want: ['s1', 's2'] },
    { name: 'both full: as far as the first to run out', seat: rows(1, 4), audit: rows(2, 3), limit: 2, want: ['s1', 'a1', 'a2'] },
  ])('$name', ({ seat, audit, limit, want }) => {
    expect(order(seat, audit, limit)).toEqual(want);
  });

  it('always takes at least one row when there is one, so a batch never stalls', () => {
    for (let limit = 1; limit <= 3; limit++) {
      for (const [seat, audit] of [[rows(5), rows(1)], [rows(1), rows(5)], [rows(1, 1, 1).slice(0, limit), rows(1, 1, 1).slice(0, limit)]] as const) {
        expect(mergeOutbox(seat, audit, limit).length).toBeGreaterThan(0);
      }
    }
  });
});

describe('nextRequest', () => {
  const none = new Set<string>();
  it.each([
    { name: 'one event per request', keys: ['a', 'b', 'c'], busy: none, batchSize: 1, want: 1 },
    { name: 'up to the batch size', keys: ['a', 'b', 'c', 'd', 'e'], busy: none, batchSize: 3, want: 3 },
    { name: 'fewer events than the batch size', keys: ['a', 'b'], busy: none, batchSize: 10, want: 2 },
    { name: 'a session twice in one request, in order', keys: ['a', 'b', 'a', 'c'], busy: none, batchSize: 10, want: 4 },
    { name: 'nothing to send', keys: [], busy: none, batchSize: 4, want: 0 },
    { name: 'the next event waits for its session in flight', keys: ['a', 'b'], busy: new Set(['a']), batchSize: 4, want: 0 },
    { name: 'ends before a session in flight', keys: ['b', 'c', 'a', 'd'], busy: new Set(['a']), batchSize: 4, want: 2 },
  ])('$name', ({ keys, busy, batchSize, want }) => {
    expect(nextRequest(keys, busy, batchSize)).toBe(want);
  });

  it('never takes a busy session, never more than the batch size, and stops only where it must', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e'), { maxLength: 30 }),
        fc.subarray(['a', 'b', 'c', 'd', 'e']),
        fc.integer({ min: 1, max: 8 }),
        (keys, busyList, batchSize) => {
          const busy = new Set(busyList);
          const n = nextRequest(keys, busy, batchSize);
          expect(n).toBeLessThanOrEqual(batchSize);
          expect(keys.slice(0, n).some((k) => busy.has(k))).toBe(false);
          if (n < keys.length && n < batchSize) expect(busy.has(keys[n]!)).toBe(true);
        },
      ),
    );
  });
});

describe('deliveryLimits', () => {
  it.each([
    { given: { concurrency: 4, batchSize: 50 }, want: { concurrency: 4, batchSize: 50 } },
    { given: { concurrency: 0, batchSize: 0 }, want: { concurrency: 1, batchSize: 1 } },
    { given: { concurrency: 1000, batchSize: 1000 }, want: { concurrency: WEBHOOK_MAX_CONCURRENCY, batchSize: WEBHOOK_MAX_BATCH } },
    { given: { concurrency: Number.NaN, batchSize: 2.7 }, want: { concurrency: 1, batchSize: 2 } },
  ])('$given → $want', ({ given, want }) => {
    expect(deliveryLimits(given)).toEqual(want);
  });
});
