// The two history charts of a license (uPlot, bundled): peak seats in use against the seats in
// force in each bucket (a step where the seat count changed, a dot where every seat was taken),
// and denials, per hour or per day of the viewer's time zone. The buckets come aggregated from
// the store; both charts span from the first bucket's start to the last one's end, so the
// current bucket is drawn whole rather than clipped at the right edge.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h } from './dom';

export interface HistoryBucket {
  at: string;
  denials: number;
  peakSeatsInUse: number;
  /** The highest seat count in force in the bucket. */
  seats: number;
  /** Every seat in force was taken at some moment of the bucket. */
  full: boolean;
  /** Granted a seat from the queue in the bucket. */
  queuedGranted: number;
  /** Left the queue without a seat in the bucket (unmet demand), and their average wait. */
  unmetDemand: number;
  unmetAvgWaitSec: number | null;
  denialsByReason: Record<string, number>;
}

/** GET /licenses/:id/history's reply. */
export interface HistoryReply {
  bucket: 'hour' | 'day';
  tz: string;
  /** The end of the last bucket. */
  until: string;
  buckets: HistoryBucket[];
}

export interface HistoryCharts {
  readonly element: HTMLElement;
  update(reply: HistoryReply): void;
  destroy(): void;
}

/** The viewer's time zone (the browser's), in which the dashboard asks for its buckets. */
export function viewerZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** A colour of the page's scheme (style.css), so the charts follow light and dark mode. */
function color(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

export function historyCharts(): HistoryCharts {
  // Pictures for the eye; what they show is said in their labels.
  const seatsBox = h('div', { class: 'chart', role: 'img', 'aria-label': 'Peak seats in use over time' });
  const denialsBox = h('div', { class: 'chart', role: 'img', 'aria-label': 'Denials over time' });
  const element = h(
    'div',
    { class: 'charts' },
    h('figure', {}, h('figcaption', {}, 'Peak seats in use'), seatsBox),
    h('figure', {}, h('figcaption', {}, 'Denials'), denialsBox),
  );
  let seatsPlot: uPlot | undefined;
  let denialsPlot: uPlot | undefined;
  const width = () => Math.max(260, element.clientWidth > 700 ? Math.floor(element.clientWidth / 2) - 16 : element.clientWidth - 4);
  const resize = new ResizeObserver(() => {
    seatsPlot?.setSize({ width: width(), height: 200 });
    denialsPlot?.setSize({ width: width(), height: 200 });
  });
  resize.observe(element);
  // Drawn again in the other scheme's colours when the system switches between light and dark.
  let last: Parameters<HistoryCharts['update']> | undefined;
  const scheme = matchMedia('(prefers-color-scheme: dark)');
  const redraw = () => last && charts.update(...last);
  scheme.addEventListener('change', redraw);

  const axes = (bucket: HistoryReply['bucket']): uPlot.Axis[] => {
    const stroke = color('--chart-axis', '#374151');
    const grid = { stroke: color('--chart-grid', '#eee') };
    return [
      { values: bucket === 'day' ? '{D} {MMM}' : undefined, stroke, grid, ticks: grid },
      { stroke, grid, ticks: grid, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000, 10000] },
    ];
  };

  const charts: HistoryCharts = {
    element,
    update(reply) {
      last = [reply];
      const { buckets, bucket, tz } = reply;
      const xs = buckets.map((b) => Date.parse(b.at) / 1000);
      const ends = [...xs.slice(1), Date.parse(reply.until) / 1000];
      const peaks = buckets.map((b) => b.peakSeatsInUse);
      const denials = buckets.map((b) => b.denials);
      const limit = buckets.map((b) => b.seats);
      const full = buckets.map((b) => (b.full ? b.peakSeatsInUse : null));
      const seatsNow = limit.at(-1) ?? 0;
      // The numbers the charts hold, for people and tests that read the page rather than the pixels.
      element.dataset.bucket = bucket;
      element.dataset.tz = tz;
      element.dataset.denials = String(denials.reduce((a, b) => a + b, 0));
      element.dataset.peak = String(Math.max(0, ...peaks));
      element.dataset.seats = limit.join(' ');
      element.dataset.full = String(full.filter((f) => f !== null).length);
      const per = bucket === 'day' ? 'per day' : 'per hour';
      const most = Math.max(0, ...limit);
      const seatsSaid = most === seatsNow ? `${seatsNow} seats` : `${seatsNow} seats now, at most ${most} in this range`;
      seatsBox.setAttribute('aria-label', `Peak seats in use ${per}: at most ${element.dataset.peak} of ${seatsSaid}; ${element.dataset.full} ${bucket === 'day' ? 'days' : 'hours'} at full`);
      denialsBox.setAttribute('aria-label', `Denials ${per}: ${element.dataset.denials} in this range`);
      seatsPlot?.destroy();
      denialsPlot?.destroy();
      // Both charts span whole buckets, the current one to its end; dates are the zone's.
      const span: uPlot.Scale = { time: true, range: () => [xs[0] ?? 0, ends.at(-1) ?? 1] };
      // The legend names the bucket under the cursor by its start, in the zone.
      const label = new Intl.DateTimeFormat(undefined, bucket === 'day' ? { timeZone: tz, dateStyle: 'medium' } : { timeZone: tz, dateStyle: 'medium', timeStyle: 'short' });
      /** The bucket a time falls in: the last one starting at or before it. */
      const bucketAt = (t: number) => {
        let i = 0;
        while (i + 1 < xs.length && xs[i + 1]! <= t) i++;
        return i;
      };
      const when: uPlot.Series = {
        label: bucket === 'day' ? 'day' : 'hour',
        value: (_u, v) => (v === null || !xs.length ? '' : label.format(xs[bucketAt(v)]! * 1000)),
      };
      // The span each chart drew, for tests: it ends where the last (the current) bucket ends.
      const spanOf = (key: string) => (u: uPlot) => void (element.dataset[key] = `${u.scales.x!.min} ${u.scales.x!.max}`);
      const common = {
        width: width(),
        height: 200,
        legend: { show: true },
        cursor: { drag: { x: true, y: false } },
        tzDate: (ts: number) => uPlot.tzDate(new Date(ts * 1000), tz),
      };
      seatsPlot = new uPlot(
        {
          ...common,
          scales: { x: span, y: { range: (_u, _min, max) => [0, Math.max(1, max, most) * 1.1] } },
          hooks: { ready: [spanOf('seatsSpan')] },
          // Each step is drawn across its bucket, so the legend reads the bucket under the pointer;
          // uPlot's nearest point was the next bucket's over the right half of every step.
          cursor: { ...common.cursor, dataIdx: (_u, _series, nearest, t) => (xs.length ? bucketAt(t) : nearest) },
          axes: axes(bucket),
          series: [
            when,
            {
              label: 'peak in use',
              stroke: color('--chart-seats', '#2563eb'),
              fill: color('--chart-seats-fill', 'rgba(37,99,235,0.12)'),
              width: 2,
              paths: uPlot.paths.stepped!({ align: 1 }),
              points: { show: false },
            },
            // The seat count of each bucket: it steps where the seats were changed.
            {
              label: 'seats',
              stroke: color('--chart-limit', '#9ca3af'),
              dash: [6, 4],
              width: 1.5,
              paths: uPlot.paths.stepped!({ align: 1 }),
              points: { show: false },
            },
            // A dot where every seat was taken; the legend says yes or no (its height is the peak's).
            {
              label: 'at full',
              value: (_u, v, _series, idx) => (typeof idx !== 'number' ? '--' : v === null ? 'no' : 'yes'),
              stroke: color('--chart-denials', '#dc2626'),
              paths: () => null,
              points: { show: true, size: 9, width: 2, fill: color('--chart-denials', '#dc2626') },
            },
          ],
        },
        // One more point at the end of the last bucket, so its step is drawn across it.
        xs.length
          ? [[...xs, ends.at(-1)!], [...peaks, peaks.at(-1)!], [...limit, limit.at(-1)!], [...full, null]]
          : [xs, peaks, limit, full],
        seatsBox,
      );
      denialsPlot = new uPlot(
        {
          ...common,
          scales: { x: span, y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] } },
          hooks: { ready: [spanOf('denialsSpan')] },
          axes: axes(bucket),
          series: [
            when,
            {
              label: 'denials',
              stroke: color('--chart-denials', '#dc2626'),
              fill: color('--chart-denials-fill', 'rgba(220,38,38,0.5)'),
              paths: uPlot.paths.bars!({ size: [0.7, 40] }),
              points: { show: false },
            },
          ],
        },
        // Each bar in the middle of its bucket, so the current one sits inside the chart.
        [xs.map((x, i) => (x + ends[i]!) / 2), denials],
        denialsBox,
      );
    },
    destroy() {
      resize.disconnect();
      scheme.removeEventListener('change', redraw);
      seatsPlot?.destroy();
      denialsPlot?.destroy();
    },
  };
  return charts;
}
