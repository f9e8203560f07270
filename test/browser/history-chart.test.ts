// The dashboard's history charts in Chromium: the limit line follows the seats each bucket had
// (a step where they were raised), "days at full" counts days against their own seats (raising
// the seats does not erase a past full day), buckets are the viewer's days and hours and the zone
// is said, the current bucket is drawn whole, and the legend reads the bucket under the pointer.
// Screenshots in light and dark.
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { describeBrowser, screenshot } from './browser';
import { H, held, serverWithStore, signIn, useZonedBrowser } from './history-support';

const open = useZonedBrowser();

/** The seats chart's legend (label: value) with the pointer over time `at` (ms), once drawn. */
async function hover(page: Page, at: number): Promise<Record<string, string>> {
  const chart = page.locator('#history .chart').first();
  await chart.scrollIntoViewIfNeeded();
  const read = async () => {
    const [min, max] = (await page.locator('#history .charts').getAttribute('data-seats-span'))!.split(' ').map(Number);
    const box = (await chart.locator('.u-over').boundingBox())!;
    await page.mouse.move(box.x + ((at / 1000 - min!) / (max! - min!)) * box.width, box.y + box.height / 2);
    const rows = await chart.locator('.u-legend tr.u-series').evaluateAll((trs) => trs.map((tr) => [tr.querySelector('.u-label')!.textContent!, tr.querySelector('.u-value')!.textContent!]));
    return Object.fromEntries(rows) as Record<string, string>;
  };
  // The charts are drawn again when a later reply arrives: hover until the legend reads a bucket.
  await expect.poll(async () => (await read()).hour, { timeout: 5000 }).not.toBe('');
  return read();
}

/** How the legend names the hour starting at `at` (ms): in the page's locale and zone. */
const hourLabel = (page: Page, at: number) =>
  page.evaluate((t) => new Intl.DateTimeFormat(undefined, { timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone, dateStyle: 'medium', timeStyle: 'short' }).format(t), at);

describeBrowser('dashboard history charts', () => {
  it('steps the limit line where the seats changed and keeps a past full day full after a raise', async () => {
    const { url, store, tenantToken, newLicense } = await serverWithStore();
    const now = Date.now();
    const license = await newLicense({ seats: 1, createdAt: now - 6 * H });
    // Full at one seat four hours ago, then raised to three; one of three an hour ago.
    // Within whole hours, so each stay falls in one hourly bucket whatever the time of day.
    const hour = Math.floor(now / H) * H;
    await held(store, license, 'amy', hour - 4 * H + 60_000, hour - 3.5 * H);
    await store.updateLicense(license.id, { seats: 3 }, hour - 2 * H);
    await held(store, license, 'bob', hour - 1 * H + 60_000, hour - 0.5 * H);

    for (const colorScheme of ['light', 'dark'] as const) {
      const page = await open({ timezoneId: 'Europe/Amsterdam', colorScheme });
      await signIn(page, url, tenantToken, license.id);
      const charts = page.locator('#history .charts');
      await expect.poll(() => charts.getAttribute('data-tz')).toBe('Europe/Amsterdam');
      const seats = (await charts.getAttribute('data-seats'))!.split(' ').map(Number);
      // Per hour over two days: one seat until the raise, three from its hour on.
      expect(seats.length).toBeGreaterThanOrEqual(48);
      const step = seats.indexOf(3);
      expect(step).toBeGreaterThan(0);
      expect(seats.slice(0, step).every((s) => s === 1)).toBe(true);
      expect(seats.slice(step).every((s) => s === 3)).toBe(true);
      expect(seats.length - step).toBeGreaterThanOrEqual(3);
      expect(await charts.getAttribute('data-full')).toBe('1');
      await page.locator('#history-summary', { hasText: 'days at full 1' }).waitFor({ timeout: 5000 });
      expect(await page.textContent('#history-summary')).toContain("of 3 · ");
      expect(await page.textContent('#history-zone')).toBe('Times in Europe/Amsterdam');
      await screenshot(page, `history-chart-${colorScheme}`);

      // Hovering the full hour's step, right of its middle, reads that hour in the legend, "at full"
      // yes (uPlot's nearest point was the next hour's there, with nothing after "at full"); an
      // hour that was not full says no.
      const fullHour = await hover(page, hour - 4 * H + 0.75 * H);
      expect(fullHour).toEqual({ hour: await hourLabel(page, hour - 4 * H), 'peak in use': '1', seats: '1', 'at full': 'yes' });
      await screenshot(page.locator('#history .chart').first(), `history-chart-hover-full-${colorScheme}`);
      expect(await hover(page, hour - 2 * H + 0.75 * H)).toEqual({ hour: await hourLabel(page, hour - 2 * H), 'peak in use': '0', seats: '3', 'at full': 'no' });

      // Per day: today (in Amsterdam) had one seat, then three, and was full.
      await page.selectOption('#range', 'day');
      await page.locator('#history .charts[data-bucket="day"]').waitFor({ timeout: 5000 });
      await expect.poll(async () => (await charts.getAttribute('data-seats'))!.split(' ').at(-1)).toBe('3');
      expect(Number(await charts.getAttribute('data-full'))).toBe(1);
      await page.locator('#history-summary', { hasText: 'days at full 1' }).waitFor({ timeout: 5000 });
      // The current day is drawn whole: the x scale ends where today ends in Amsterdam.
      const tomorrow = await page.evaluate(() => {
        const d = new Date();
        return new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).getTime() / 1000;
      });
      for (const span of ['data-seats-span', 'data-denials-span']) {
        const [min, max] = (await charts.getAttribute(span))!.split(' ').map(Number);
        expect(max, span).toBe(tomorrow);
        expect(min, span).toBeLessThan(max! - 59 * 86_400);
      }
      await screenshot(page, `history-chart-day-${colorScheme}`);
    }
  });
});
