// When SQLite's next commit waits for more transactions to share it (sqlite-store.ts). A commit
// costs mostly the pages it writes to the WAL: about as much for one admission as for twenty, and
// more than an admission's own statements. While connects stream in (the sockets of a ramp or a
// reconnect storm, each read on its own turn of the event loop) a commit that waits a few
// milliseconds carries many more of them. A caller that waits for each answer before it sends the
// next (a loop, a client with a few requests in flight) brings nothing new during a wait: it only
// loses the time. And while the process has time to spare, a commit's cost does not hold anyone
// back, but a wait does. So a commit waits only while the event loop is busy, and only while
// waiting pays: once waits brought in nothing new several times in a row, none waits for a while.
// One fruitless wait is not enough: in a ramp of 10,000 connects about one wait in twenty found
// nothing new, and a quiet second after each kept commits to about five transactions (about 30
// with three in a row; README, Performance). PostgreSQL's `commit_delay` likewise waits only while
// other transactions are active (`commit_siblings`).

/** How long a commit waits for more. */
export const COMMIT_DELAY_MS = 10;
/** A group this large commits at once: its commit's pages are mostly its own by then. */
export const COMMIT_TARGET = 32;
/** Waits in a row that brought in nothing new before a quiet spell. */
export const FRUITLESS_WAITS = 3;
/** After those, how long no commit waits. */
export const QUIET_MS = 1000;
/** The event loop's utilization (0 to 1) from which commits may wait: the process is short of time. */
export const BUSY = 0.75;
/** A stream has ended when no commit came for this long. */
export const STREAM_GAP_MS = 2 * COMMIT_DELAY_MS;

export interface Pace {
  /** The last wait paid: transactions are streaming in. */
  streaming: boolean;
  /** When the last commit ended. */
  lastDrain: number;
  /** Until when no commit waits. */
  quietUntil: number;
  /** Fruitless waits in a row since the last one that paid. */
  fruitless: number;
}

export const STILL: Pace = { streaming: false, lastDrain: -Infinity, quietUntil: 0, fruitless: 0 };

/**
 * Whether the transactions pending wait before they commit: only while the event loop is busy
 * (`utilization`, lately); not when one of them is due first (an idle release), nor a full group,
 * nor in a quiet spell; and only as part of a stream (the last wait paid and commits keep
 * coming), or when several arrived in one turn.
 */
export function shouldWait(pace: Pace, pending: number, first: boolean, now: number, utilization: number): boolean {
  if (utilization < BUSY || first || pending >= COMMIT_TARGET || now < pace.quietUntil) return false;
  return pending >= 2 || (pace.streaming && now - pace.lastDrain < STREAM_GAP_MS);
}

/**
 * After a wait: it paid when it brought in any new transaction. The FRUITLESS_WAITS-th fruitless
 * one in a row starts a quiet spell.
 */
export function afterWait(pace: Pace, before: number, after: number, now: number): Pick<Pace, 'streaming' | 'quietUntil' | 'fruitless'> {
  if (after > before) return { streaming: true, quietUntil: now, fruitless: 0 };
  const fruitless = pace.fruitless + 1;
  if (fruitless < FRUITLESS_WAITS) return { streaming: false, quietUntil: now, fruitless };
  return { streaming: false, quietUntil: now + QUIET_MS, fruitless: 0 };
}
