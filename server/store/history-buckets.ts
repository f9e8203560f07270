// Folds what the history's queries read (per fine step: denials by reason, the peak and last
// seats in use, whether the seats were all taken; the queue waits that ended; the changes of the
// seat count) into the buckets
// the caller asked for. Pure: the store reads, this adds up.
import type { DenyReason } from '../../shared';
import type { HistoryBucket } from '../seats/types';

/** The rows of one fine step (`step`: its index from the first boundary, ascending). */
export interface StepMoves {
  step: number;
  peak: number;
  /** Seats in use after the step's last event. */
  last: number;
  /** At one of the step's events the seats in use reached the seat count then in force (> 0). */
  full: boolean;
}

export interface StepDenials {
  step: number;
  reason: string;
  count: number;
}

/** The queue waits that ended in one fine step. */
export interface StepWaits {
  step: number;
  granted: number;
  /** Left the queue without a seat, and their waits added up (ms). */
  left: number;
  leftWaitMs: number;
}

/** A change of the seat count, with the seats in use at that moment. */
export interface SeatChange {
  at: number;
  seats: number;
  inUse: number;
}

export interface HistoryRows {
  bounds: readonly number[];
  /** The fine step the rows are grouped by: divides every boundary's distance from the first. */
  stepMs: number;
  moves: readonly StepMoves[];
  denials: readonly StepDenials[];
  /** Ascending by step; absent, no waits. */
  waits?: readonly StepWaits[];
  /** Changes at or after the first boundary and before the last, oldest first. */
  changes: readonly SeatChange[];
  /** Seats in use and the seat count in force just before the first boundary. */
  inUseBefore: number;
  seatsBefore: number;
}

/**
 * One bucket per pair of boundaries. `seats` is the highest seat count in force at any moment of
 * the bucket; `full` says whether at some moment of it every seat in force was taken (seats in use
 * at or above the seats then in force, with at least one seat): a day full in the morning stays
 * full when the seats are raised in the afternoon.
 */
export function foldHistory(rows: HistoryRows): HistoryBucket[] {
  const { bounds, stepMs, moves, denials, changes } = rows;
  const buckets: HistoryBucket[] = [];
  const since = bounds[0]!;
  let inUse = rows.inUseBefore;
  let seats = rows.seatsBefore;
  let m = 0;
  let d = 0;
  let c = 0;
  let w = 0;
  const waits = rows.waits ?? [];
  const isFull = (used: number, of: number) => of > 0 && used >= of;
  for (let i = 0; i + 1 < bounds.length; i++) {
    const start = bounds[i]!;
    const end = bounds[i + 1]!;
    const endStep = (end - since) / stepMs;
    // A change at the bucket's first instant is in force for all of it.
    while (c < changes.length && changes[c]!.at <= start) seats = changes[c++]!.seats;
    let peak = inUse;
    let most = seats;
    let full = isFull(inUse, seats);
    for (; c < changes.length && changes[c]!.at < end; c++) {
      const change = changes[c]!;
      seats = change.seats;
      most = Math.max(most, seats);
      full ||= isFull(change.inUse, seats);
    }
    for (; m < moves.length && moves[m]!.step < endStep; m++) {
      peak = Math.max(peak, moves[m]!.peak);
      full ||= moves[m]!.full;
      inUse = moves[m]!.last;
    }
    let count = 0;
    const byReason: Partial<Record<DenyReason, number>> = {};
    for (; d < denials.length && denials[d]!.step < endStep; d++) {
      const { reason, count: n } = denials[d]!;
      count += n;
      byReason[reason as DenyReason] = (byReason[reason as DenyReason] ?? 0) + n;
    }
    let granted = 0;
    let left = 0;
    let leftWaitMs = 0;
    for (; w < waits.length && waits[w]!.step < endStep; w++) {
      granted += waits[w]!.granted;
      left += waits[w]!.left;
      leftWaitMs += waits[w]!.leftWaitMs;
    }
    buckets.push({
      at: start,
      denials: count,
      denialsByReason: byReason,
      peakSeatsInUse: peak,
      seats: most,
      full,
      queuedGranted: granted,
      unmetDemand: left,
      unmetAvgWaitSec: left > 0 ? Math.round(leftWaitMs / left / 1000) : null,
    });
  }
  return buckets;
}

/** The largest step (ms) that divides every boundary's distance from the first. */
export function stepOf(bounds: readonly number[]): number {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  return bounds.reduce((g, b) => gcd(b - bounds[0]!, g), 0) || 1;
}
