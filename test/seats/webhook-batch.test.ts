// The order of a webhook's batch (server/seats/decisions/webhook-batch.ts): seat history and
// license changes merged by time, a seat row first at the same time, and never past the end of a
// list that came back full (its next rows, not read yet, may come first); and how its next events
// are cut into requests in flight at once (`concurrency`) of several events each (`batchSize`).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeOutbox, WEBHOOK_MAX_BATCH, windowGroups } from '../../server/seats/decisions/webhook-batch';

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

describe('windowGroups', () => {
  it.each([
    { name: 'one at a time', keys: ['a', 'b', 'c'], concurrency: 1, batchSize: 1, want: [1] },
    { name: 'up to the concurrency', keys: ['a', 'b', 'c', 'd', 'e'], concurrency: 4, batchSize: 1, want: [1, 1, 1, 1] },
    { name: 'fewer events than the concurrency', keys: ['a', 'b'], concurrency: 8, batchSize: 1, want: [1, 1] },
    { name: 'stops before a second event of a session', keys: ['a', 'b', 'a', 'c'], concurrency: 4, batchSize: 1, want: [1, 1] },
    { name: 'one event when the next is the same session', keys: ['a', 'a', 'b'], concurrency: 4, batchSize: 1, want: [1] },
    { name: 'nothing to send', keys: [], concurrency: 4, batchSize: 1, want: [] },
    { name: 'at least one with a concurrency below 1', keys: ['a', 'b'], concurrency: 0, batchSize: 1, want: [1] },
    { name: 'a batch carries a session twice, in order', keys: ['a', 'b', 'a', 'c'], concurrency: 1, batchSize: 10, want: [4] },
    { name: 'one request of up to batchSize', keys: ['a', 'b', 'c', 'd', 'e'], concurrency: 1, batchSize: 3, want: [3] },
    { name: 'requests of batchSize each, up to the concurrency', keys: ['a', 'b', 'c', 'd', 'e', 'f', 'g'], concurrency: 2, batchSize: 3, want: [3, 3] },
    { name: 'the last request takes what is left', keys: ['a', 'b', 'c', 'd', 'e'], concurrency: 4, batchSize: 2, want: [2, 2, 1] },
    { name: 'a session that goes on past a full request ends the window', keys: ['a', 'b', 'b', 'c'], concurrency: 4, batchSize: 2, want: [2] },
    { name: 'a session of an earlier request ends the window', keys: ['a', 'b', 'c', 'a'], concurrency: 4, batchSize: 2, want: [2, 1] },
    { name: 'a batch size above the most is the most', keys: Array.from({ length: 150 }, (_, i) => `s${i}`), concurrency: 1, batchSize: 1000, want: [WEBHOOK_MAX_BATCH] },
    { name: 'a batch size below 1 is 1', keys: ['a', 'b'], concurrency: 1, batchSize: 0, want: [1] },
  ])('$name', ({ keys, concurrency, batchSize, want }) => {
    expect(windowGroups(keys, concurrency, batchSize)).toEqual(want);
  });

  it('never puts a session in two requests in flight, and takes every event it can', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'), { maxLength: 40 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), (keys, concurrency, batchSize) => {
        const groups = windowGroups(keys, concurrency, batchSize);
        const taken = groups.reduce((a, n) => a + n, 0);
        expect(taken).toBeLessThanOrEqual(keys.length);
        if (keys.length > 0) expect(taken).toBeGreaterThan(0);
        expect(groups.length).toBeLessThanOrEqual(concurrency);
        const owner = new Map<string, number>();
        let at = 0;
        groups.forEach((n, g) => {
          expect(n).toBeGreaterThan(0);
          expect(n).toBeLessThanOrEqual(batchSize);
          for (const key of keys.slice(at, at + n)) {
            expect(owner.get(key) ?? g).toBe(g);
            owner.set(key, g);
          }
          at += n;
        });
        // The window stops only where the next event could not go: every request full and no room
        // for another, or its session is in an earlier request (or would be split from the last).
        const next = keys[taken];
        if (next !== undefined) {
          const last = groups.length - 1;
          const lastFull = groups[last] === batchSize;
          const blocked = (owner.has(next) && owner.get(next) !== last) || (lastFull && (groups.length === concurrency || owner.has(next)));
          expect(blocked).toBe(true);
        }
      }),
    );
  });
});
