// Reservation windows (docs/contract.md, "Overage, reservations and group limits"): when a
// reservation holds, by ISO weekdays and local times in an IANA time zone. Wall-clock times are
// read through Intl for each instant, so a window follows its zone across daylight-saving changes.

/** `{ days, from, to, tz }`: ISO weekdays 1 (Monday) to 7, `"HH:MM"` local times, an IANA zone. */
export interface ReservationWindow {
  days: number[];
  from: string;
  to: string;
  tz: string;
}

const MINUTES_PER_DAY = 24 * 60;
const formats = new Map<string, Intl.DateTimeFormat>();

/** Whether `tz` is a time zone Intl knows (IANA names, and `UTC`). */
export function isTimeZone(tz: string): boolean {
  try {
    formatOf(tz);
    return true;
  } catch {
    return false;
  }
}

function formatOf(tz: string): Intl.DateTimeFormat {
  let f = formats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formats.set(tz, f);
  }
  return f;
}

const WEEKDAY: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

/** The ISO weekday and the minute of the day at instant `at` (epoch ms) on the wall clocks of `tz`. */
export function wallClock(at: number, tz: string): { day: number; minute: number } {
  let day = 0;
  let hour = 0;
  let minute = 0;
  for (const part of formatOf(tz).formatToParts(at)) {
    if (part.type === 'weekday') day = WEEKDAY[part.value] ?? 0;
    else if (part.type === 'hour') hour = Number(part.value);
    else if (part.type === 'minute') minute = Number(part.value);
  }
  return { day, minute: hour * 60 + minute };
}

/** `"HH:MM"` as minutes of the day; `"24:00"` is the end of the day. */
export function minuteOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return h * 60 + m;
}

/**
 * Whether the window holds at `at`. `from` is inclusive and `to` exclusive; a window whose `to` is
 * at or before its `from` runs past midnight into the next day (a day in `days` names the day it
 * starts on); `from` equal to `to` is the whole day.
 */
export function windowHolds(w: ReservationWindow, at: number): boolean {
  const { day, minute } = wallClock(at, w.tz);
  const from = minuteOf(w.from);
  const to = minuteOf(w.to);
  if (from === to) return w.days.includes(day);
  if (from < to) return w.days.includes(day) && minute >= from && minute < to;
  const yesterday = day === 1 ? 7 : day - 1;
  return (w.days.includes(day) && minute >= from) || (w.days.includes(yesterday) && minute < to);
}

/** The weekly minutes a window covers, as [start, end) intervals of the week (minute 0: Monday 00:00). */
function weeklySpans(w: ReservationWindow): Array<[number, number]> {
  const from = minuteOf(w.from);
  const to = minuteOf(w.to);
  const length = from === to ? MINUTES_PER_DAY : (to - from + MINUTES_PER_DAY) % MINUTES_PER_DAY;
  const week = 7 * MINUTES_PER_DAY;
  const spans: Array<[number, number]> = [];
  for (const d of w.days) {
    const start = (d - 1) * MINUTES_PER_DAY + (from === to ? 0 : from);
    const end = start + length;
    if (end <= week) spans.push([start, end]);
    else spans.push([start, week], [0, end - week]);
  }
  return spans;
}

/** Whether two windows in one zone ever hold at the same time (no window: always holds). */
export function windowsOverlap(a: ReservationWindow | undefined, b: ReservationWindow | undefined): boolean {
  if (!a || !b) return true;
  return weeklySpans(a).some(([s1, e1]) => weeklySpans(b).some(([s2, e2]) => s1 < e2 && s2 < e1));
}
