// The printable usage summary of a license (/admin/licenses/:id/summary) in Chromium: reached from
// the dashboard with its token, it shows the peak by day, days at full against each day's own
// seats, denials by day and reason, and the unmet demand (claimants that left the queue without a
// seat, with their average wait) and the queue's grants; printed (print media, and a
// PDF) it has no controls. Screenshots on screen in light and dark, and as printed.
import { expect, it } from 'vitest';
import { bucketStart } from '../../server/seats/time-buckets';
import { describeBrowser, screenshot } from './browser';
import { DAY, H, held, serverWithStore, signIn, useZonedBrowser } from './history-support';
import { BULK_NODE, keepBulkNodeAlive } from '../support/bulk-sessions';

const open = useZonedBrowser();

describeBrowser('usage summary page', () => {
  it('shows peak, days at full and denials by day and reason, and prints without controls', async () => {
    const { url, store, tenantToken, newLicense } = await serverWithStore();
    // Times on the page's days (New York), whatever the time of day the test runs at.
    const now = Date.now();
    const day = (ago: number, hour: number) => bucketStart('day', 'America/New_York', now - ago * DAY) + hour * H;
    const license = await newLicense({ seats: 1, createdAt: day(5, 0), queue: true });
    // Rows of a node that beats: the server's node liveness would take a silent one's rows (and its
    // queued places) for orphans and let them go while the test writes the past.
    await keepBulkNodeAlive(store);
    // Three days ago: full at one seat, one denied for no free seats.
    const someone = (key: string) => ({ sessionRef: key, userId: null, deviceId: null, instanceId: null, app: null, name: null, weight: 1 });
    const amy = await store.admit({ licenseId: license.id, socketId: 'a', nodeId: BULK_NODE, claimant: someone('amy'), now: day(3, 9) });
    const zed = await store.admit({ licenseId: license.id, socketId: 'z', nodeId: BULK_NODE, claimant: someone('zed'), now: day(3, 9) + 60_000 });
    expect([amy.kind, zed.kind]).toEqual(['granted', 'denied']);
    await store.endSession((amy as { session: { id: string } }).session.id, 'ended_by_app', day(3, 10));
    // Four days ago: cy holds the seat 9:00 to 12:00; q1 waits from 9:30 and leaves (its place
    // given up at 11:00, after 90 minutes); q2 waits from 10:00 and gets the seat at 12:00.
    const cy = await store.admit({ licenseId: license.id, socketId: 'c', nodeId: BULK_NODE, claimant: someone('cy'), now: day(4, 9) });
    const queue = (key: string, at: number) => store.admit({ licenseId: license.id, socketId: `s-${key}`, nodeId: BULK_NODE, claimant: someone(key), now: at, queue: true });
    expect([(await queue('q1', day(4, 9) + 30 * 60_000)).kind, (await queue('q2', day(4, 10))).kind]).toEqual(['queued', 'queued']);
    await store.leaveQueue('s-q1', day(4, 10) + 30 * 60_000);
    await store.purgeQueue(day(4, 11));
    await store.endSession((cy as { session: { id: string } }).session.id, 'ended_by_app', day(4, 12));
    const [q2] = await store.listSessions(license.id);
    await store.endSession(q2!.id, 'ended_by_app', day(4, 13));
    // Two days ago raised to two; yesterday one of two in use and one refused by the app's hook.
    await store.updateLicense(license.id, { seats: 2 }, day(2, 9));
    await held(store, license, 'bob', day(1, 9), day(1, 10));
    await store.recordDenial({ licenseId: license.id, at: day(1, 11), reason: 'denied_by_app', sessionRef: 'x', userId: null, deviceId: null, instanceId: null });

    for (const colorScheme of ['light', 'dark'] as const) {
      const page = await open({ timezoneId: 'America/New_York', colorScheme });
      await signIn(page, url, tenantToken, license.id);
      await page.click('#summary-link');
      await page.waitForURL(`**/admin/licenses/${license.id}/summary`);
      const rows = page.locator('#days tbody tr');
      await rows.first().waitFor({ timeout: 10_000 });
      expect(await rows.count()).toBe(30);
      expect(await page.textContent('#title')).toBe('Usage summary: Design studio');
      expect(await page.textContent('#subtitle')).toContain('days in America/New_York');
      expect(await page.textContent('#fig-peak b')).toBe('1');
      // The days at full at one seat stay full though the license has two seats now.
      expect(await page.textContent('#fig-full b')).toBe('2 of 30');
      const full = page.locator('#days tbody tr.full');
      expect(await full.count()).toBe(2);
      expect(await full.locator('td').first().textContent()).toBe('1');
      expect(await page.textContent('#fig-denials b')).toBe('2');
      expect(await page.textContent('#fig-no_free_seats b')).toBe('1');
      expect(await page.textContent('#fig-denied_by_app b')).toBe('1');
      const head = await page.locator('#days thead th').allTextContents();
      expect(head).toEqual([
        'Day', 'Seats', 'Peak in use', 'At full', 'Denials', 'Refused by the app', 'No free seat', 'Granted from the queue', 'Unmet demand (queue)', 'Average wait',
      ]);
      expect(await page.textContent('#days tfoot')).toContain('2 days');
      // Four days ago: one left the queue without a seat after 90 minutes, one was granted from it.
      expect(await full.first().locator('td').allTextContents()).toEqual(['1', '1', 'full', '0', '0', '0', '1', '1', '90 min']);
      expect(await page.textContent('#fig-queue b')).toBe('1');
      expect(await page.textContent('#fig-queue span')).toBe('unmet demand: left the queue without a seat, after 90 min on average');
      expect(await page.textContent('#fig-queue-granted b')).toBe('1');
      // Today's row: two seats, nobody queued.
      expect(await rows.last().locator('td').allTextContents()).toEqual(['2', '0', '', '0', '0', '0', '0', '0', '']);
      await screenshot(page, `summary-${colorScheme}`);

      // A date of the viewer's zone, `n` days ago.
      const daysAgo = (n: number) =>
        page.evaluate((n) => {
          const d = new Date(Date.now() - n * 86_400_000);
          return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
        }, n);
      const yesterday = await daysAgo(1);
      // A range that ends before it starts is said, and nothing changes.
      const shown = await rows.count();
      const address = page.url();
      await page.fill('#from', yesterday);
      await page.fill('#to', await daysAgo(3));
      await page.click('#period button[type=submit]');
      await page.locator('#status', { hasText: 'The range ends before it starts' }).waitFor({ timeout: 5000 });
      expect(await page.getAttribute('#to', 'aria-invalid')).toBe('true');
      expect(await rows.count()).toBe(shown);
      expect(page.url()).toBe(address);
      // A shorter period from the form: the days of it only, in the address too.
      await page.fill('#to', yesterday);
      await page.click('#period button[type=submit]');
      await expect.poll(() => rows.count()).toBe(1);
      expect(await page.getAttribute('#to', 'aria-invalid')).toBe('false');
      expect(page.url()).toContain(`from=${yesterday}&to=${yesterday}`);
      expect(await page.textContent('#fig-denials b')).toBe('1');

      // As printed: no controls, black on white.
      await page.emulateMedia({ media: 'print' });
      expect(await page.isVisible('#period')).toBe(false);
      expect(await page.isVisible('#back')).toBe(false);
      expect(await page.isVisible('#days')).toBe(true);
      expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(255, 255, 255)');
      // Every text is black: the labels of the figures and a full day's mark too.
      const colours = await page.evaluate(() => [...new Set([...document.querySelectorAll('main *')].filter((el) => el.checkVisibility() && el.childNodes.length > 0 && [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent!.trim())).map((el) => getComputedStyle(el).color))]);
      expect(colours).toEqual(['rgb(0, 0, 0)']);
      await screenshot(page, `summary-print-${colorScheme}`);
      const pdf = await page.pdf({ format: 'A4' });
      expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    }
  });

  it('fits a phone: the wide table scrolls in its own region, the page does not', async () => {
    const { url, store, tenantToken, newLicense } = await serverWithStore();
    const license = await newLicense({ seats: 1, createdAt: Date.now() - 2 * DAY });
    await held(store, license, 'amy', Date.now() - DAY, Date.now() - DAY + H);
    await store.recordDenial({ licenseId: license.id, at: Date.now() - DAY, reason: 'denied_by_app', sessionRef: 'x', userId: null, deviceId: null, instanceId: null });
    const page = await open({ timezoneId: 'Europe/Amsterdam', colorScheme: 'dark', viewport: { width: 390, height: 844 } });
    await signIn(page, url, tenantToken, license.id);
    await page.goto(`${url}/admin/licenses/${license.id}/summary`);
    await page.locator('#days tbody tr').first().waitFor({ timeout: 10_000 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await screenshot(page, 'summary-phone-dark');
  });

  it('says so when the address names a time zone nobody knows, as the API does, with no page error', async () => {
    const { url, tenantToken, newLicense } = await serverWithStore();
    const license = await newLicense({});
    const page = await open({ timezoneId: 'UTC' });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await signIn(page, url, tenantToken, license.id);
    await page.goto(`${url}/admin/licenses/${license.id}/summary?tz=Europe/Amsterdm`);
    await page.waitForFunction(() => /unknown time zone/.test(document.querySelector('#status')?.textContent ?? ''), null, { timeout: 10_000 });
    expect(await page.textContent('#status')).toContain('unknown time zone "Europe/Amsterdm"');
    expect(errors).toEqual([]);
  });

  it('asks for the dashboard sign-in when the tab has no token, and shows nothing else', async () => {
    const { url, newLicense } = await serverWithStore();
    const license = await newLicense({});
    const page = await open({ timezoneId: 'UTC' });
    await page.goto(`${url}/admin/licenses/${license.id}/summary`);
    await page.locator('#status a[href^="/admin#license="]').waitFor({ timeout: 10_000 });
    expect(await page.textContent('#status')).toContain('Sign in on the seat dashboard first');
    expect(await page.locator('#days').count()).toBe(0);
  });
});
