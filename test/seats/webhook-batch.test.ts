// The order of a webhook's batch (server/seats/decisions/webhook-batch.ts): seat history and
// license changes merged by time, a seat row first at the same time, and never past the end of a
// list that came back full (its next rows, not read yet, may come first).
import { describe, expect, it } from 'vitest';
import { mergeOutbox, windowSize } from '../../server/seats/decisions/webhook-batch';

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

describe('windowSize', () => {
  it.each([
    { name: 'one at a time', keys: ['a', 'b', 'c'], concurrency: 1, want: 1 },
    { name: 'up to the concurrency', keys: ['a', 'b', 'c', 'd', 'e'], concurrency: 4, want: 4 },
    { name: 'fewer events than the concurrency', keys: ['a', 'b'], concurrency: 8, want: 2 },
    { name: 'stops before a second event of a session', keys: ['a', 'b', 'a', 'c'], concurrency: 4, want: 2 },
    { name: 'one event when the next is the same session', keys: ['a', 'a', 'b'], concurrency: 4, want: 1 },
    { name: 'nothing to send', keys: [], concurrency: 4, want: 0 },
    { name: 'at least one with a concurrency below 1', keys: ['a', 'b'], concurrency: 0, want: 1 },
  ])('$name', ({ keys, concurrency, want }) => {
    expect(windowSize(keys, concurrency)).toBe(want);
  });
});
