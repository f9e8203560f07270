// Where the history's buckets start in a time zone (docs/contract.md, history `tz`): an hour
// bucket starts at a local full hour, a day bucket at local midnight, so a day is 23 or 25 hours
// long across a daylight-saving change. Pure functions over Intl (Node's full ICU): no clock, no
// database, so the boundaries are tested with table rows and properties.

export type BucketUnit = 'hour' | 'day';

const HOUR = 3_600_000;
const DAY = 86_400_000;

const formats = new Map<string, Intl.DateTimeFormat>();

/** A formatter per zone, made once: building one costs far more than using it. */
function format(tz: string): Intl.DateTimeFormat {
  let f = formats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(tz, f);
  }
  return f;
}

/** True for a zone Intl knows (an IANA name such as `Europe/Amsterdam`, or `UTC`). */
export function isTimeZone(tz: string): boolean {
  if (tz.length === 0 || tz.length > 64) return false;
  try {
    format(tz);
    return true;
  } catch {
    return false; // RangeError: not a time zone
  }
}

interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The local wall-clock time at instant `t` in `tz`. */
export function wallClock(tz: string, t: number): Wall {
  const w: Record<string, number> = {};
  for (const p of format(tz).formatToParts(t)) if (p.type !== 'literal') w[p.type] = Number(p.value);
  return { year: w.year!, month: w.month!, day: w.day!, hour: w.hour!, minute: w.minute!, second: w.second! };
}

/** The zone's offset from UTC at `t`, in ms (Europe/Amsterdam in summer: +7,200,000). */
export function offsetAt(tz: string, t: number): number {
  const w = wallClock(tz, t);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(t / 1000) * 1000;
}

/** A local date as a sortable number, 20261025. */
const dateKey = (w: Pick<Wall, 'year' | 'month' | 'day'>) => w.year * 10_000 + w.month * 100 + w.day;

/** The first instant in [lo, hi] where `pred` holds, for a `pred` false then true over the range. */
function firstWhere(lo: number, hi: number, pred: (t: number) => boolean): number {
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (pred(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * The first instant of the local date `year-month-day` in `tz`: its midnight, or, where the clocks
 * skip midnight (a change at 00:00, as in America/Havana), the moment they jump.
 */
export function startOfLocalDay(tz: string, year: number, month: number, day: number): number {
  const guess = Date.UTC(year, month - 1, day);
  for (const candidate of [guess - offsetAt(tz, guess), guess - offsetAt(tz, guess - offsetAt(tz, guess))]) {
    const w = wallClock(tz, candidate);
    if (candidate % 1000 === 0 && w.hour === 0 && w.minute === 0 && w.second === 0 && dateKey(w) === dateKey({ year, month, day })) return candidate;
  }
  // No local midnight: the day starts at the first instant of its date. Offsets lie within
  // -12 h and +14 h, so that instant is within this window.
  const key = dateKey({ year, month, day });
  return firstWhere(guess - 15 * HOUR, guess + 13 * HOUR, (t) => dateKey(wallClock(tz, t)) >= key);
}

/** The start of the bucket that holds instant `t`. */
export function bucketStart(unit: BucketUnit, tz: string, t: number): number {
  if (tz === 'UTC') return t - mod(t, unit === 'day' ? DAY : HOUR);
  if (unit === 'day') {
    const w = wallClock(tz, t);
    return startOfLocalDay(tz, w.year, w.month, w.day);
  }
  const off = offsetAt(tz, t);
  const start = t - mod(t + off, HOUR);
  // A change of offset between the full hour and `t` (half-hour changes, as on Lord Howe
  // Island): the bucket starts at the change.
  return offsetAt(tz, start) === off ? start : firstWhere(start, t, (x) => offsetAt(tz, x) === off);
}

/** The start of the bucket after the one that starts at (or holds) `start`. */
export function nextBucketStart(unit: BucketUnit, tz: string, start: number): number {
  const from = bucketStart(unit, tz, start);
  if (unit === 'hour') {
    const next = bucketStart('hour', tz, from + HOUR);
    return next > from ? next : from + HOUR;
  }
  // The next local date, whatever the length of this one.
  const w = wallClock(tz, from);
  const d = new Date(Date.UTC(w.year, w.month - 1, w.day + 1));
  return startOfLocalDay(tz, d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate());
}

/**
 * The bucket boundaries from the bucket that holds `from` to the first boundary at or after
 * `until`: n + 1 ascending instants for n buckets, bucket i being [bounds[i], bounds[i + 1]).
 * None when `until` is not after the start of the bucket that holds `from`.
 */
export function bucketBounds(unit: BucketUnit, tz: string, from: number, until: number): number[] {
  const bounds = [bucketStart(unit, tz, from)];
  if (until <= bounds[0]!) return [];
  while (bounds.at(-1)! < until) bounds.push(nextBucketStart(unit, tz, bounds.at(-1)!));
  return bounds;
}

/** Evenly spaced boundaries (a store test's fixed-width buckets): since, since + size, … up to `until`. */
export function evenBounds(since: number, until: number, size: number): number[] {
  const n = Math.max(0, Math.ceil((until - since) / size));
  return Array.from({ length: n + 1 }, (_, i) => since + i * size);
}

const mod = (a: number, b: number) => ((a % b) + b) % b;
