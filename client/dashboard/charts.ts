// The two history charts of a license (uPlot, bundled): peak seats in use against the license's
// seats, and denials, per hour or per day. The buckets come aggregated from the store.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h } from './dom';

export interface HistoryBucket {
  at: string;
  denials: number;
  peakSeatsInUse: number;
}

export interface HistoryCharts {
  readonly element: HTMLElement;
  update(buckets: HistoryBucket[], seats: number, bucket: 'hour' | 'day'): void;
  destroy(): void;
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

  const axes = (bucket: 'hour' | 'day'): uPlot.Axis[] => {
    const stroke = color('--chart-axis', '#374151');
    const grid = { stroke: color('--chart-grid', '#eee') };
    return [
      { values: bucket === 'day' ? '{D} {MMM}' : undefined, stroke, grid, ticks: grid },
      { stroke, grid, ticks: grid, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000, 10000] },
    ];
  };

  const charts: HistoryCharts = {
    element,
    update(buckets, seats, bucket) {
      last = [buckets, seats, bucket];
      const xs = buckets.map((b) => Date.parse(b.at) / 1000);
      const peaks = buckets.map((b) => b.peakSeatsInUse);
      const denials = buckets.map((b) => b.denials);
      const limit = buckets.map(() => seats);
      // The numbers the charts hold, for people and tests that read the page rather than the pixels.
      element.dataset.bucket = bucket;
      element.dataset.denials = String(denials.reduce((a, b) => a + b, 0));
      element.dataset.peak = String(Math.max(0, ...peaks));
      const per = bucket === 'day' ? 'per day' : 'per hour';
      seatsBox.setAttribute('aria-label', `Peak seats in use ${per}: at most ${element.dataset.peak} of ${seats} seats`);
      denialsBox.setAttribute('aria-label', `Denials ${per}: ${element.dataset.denials} in this range`);
      seatsPlot?.destroy();
      denialsPlot?.destroy();
      const common = { width: width(), height: 200, legend: { show: true }, cursor: { drag: { x: true, y: false } } };
      seatsPlot = new uPlot(
        {
          ...common,
          scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max, seats) * 1.1] } },
          axes: axes(bucket),
          series: [
            {},
            {
              label: 'peak in use',
              stroke: color('--chart-seats', '#2563eb'),
              fill: color('--chart-seats-fill', 'rgba(37,99,235,0.12)'),
              width: 2,
              paths: uPlot.paths.stepped!({ align: 1 }),
            },
            { label: 'seats', stroke: color('--chart-limit', '#9ca3af'), dash: [6, 4], width: 1, points: { show: false } },
          ],
        },
        // One more point at the end of the last bucket, so its step is drawn across it.
        xs.length ? [[...xs, xs.at(-1)! + (bucket === 'day' ? 86_400 : 3_600)], [...peaks, peaks.at(-1)!], [...limit, seats]] : [xs, peaks, limit],
        seatsBox,
      );
      denialsPlot = new uPlot(
        {
          ...common,
          scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] } },
          axes: axes(bucket),
          series: [
            {},
            {
              label: 'denials',
              stroke: color('--chart-denials', '#dc2626'),
              fill: color('--chart-denials-fill', 'rgba(220,38,38,0.5)'),
              paths: uPlot.paths.bars!({ size: [0.7, 40] }),
              points: { show: false },
            },
          ],
        },
        [xs, denials],
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
