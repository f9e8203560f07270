// The dashboard's history charts in Chromium: the limit line follows the seats each bucket had
// (a step where they were raised), "days at full" counts days against their own seats (raising
// the seats does not erase a past full day), buckets are the viewer's days and hours and the zone
// is said, and the current bucket is drawn whole. Screenshots in light and dark.
import { expect, it } from 'vitest';
import { describeBrowser, screenshot } from './browser';
import { H, held, serverWithStore, signIn, useZonedBrowser } from './history-support';

const open = useZonedBrowser();

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
