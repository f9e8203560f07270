// The dashboard's CSV downloads: denials and daily history over a date range and the sessions now,
// fetched with the admin token in the Authorization header (never in a URL) and saved through a
// Blob link, under the name the server gives.
import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { connectAndAdmit, granted, sign, startServer } from '../support/harness';
import { describeBrowser, useBrowser, withPages } from './browser';

const chrome = useBrowser();

async function save(page: Page, button: string): Promise<{ name: string; text: string }> {
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 10_000 }), page.click(button)]);
  return { name: download.suggestedFilename(), text: await readFile((await download.path())!, 'utf8') };
}

describeBrowser('dashboard CSV downloads', () => {
  it('downloads denials, history and sessions as CSV, the dates bounding denials and history', async () => {
    const { url, api } = await startServer({ routes: withPages });
    const { license, tenant } = await api.setup({ seats: 1 });
    await granted(url, await sign(license, { sid: 'holder', sub: 'amy', name: 'Amy, "A"' }));
    for (const sid of ['d1', 'd2']) await connectAndAdmit(url, await sign(license, { sid, sub: `=u-${sid}` }));

    const context = await chrome.newContext();
    const page = await chrome.newPage(context);
    const urls: string[] = [];
    page.on('request', (r) => urls.push(r.url()));
    await page.goto(`${url}/admin`);
    await page.fill('#token', tenant.adminToken);
    await page.click('#signin-form button[type=submit]');
    await page.locator('#export-denials').waitFor({ state: 'visible', timeout: 5000 });

    const denials = await save(page, '#export-denials');
    expect(denials.name).toBe(`${license.id}-denials.csv`);
    const lines = denials.text.trimEnd().split('\r\n');
    expect(lines[0]).toBe('at,licenseId,reason,sessionRef,userId,deviceId,instanceId');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain(`,no_free_seats,d2,'=u-d2,`);

    const sessions = await save(page, '#export-sessions');
    expect(sessions.name).toBe(`${license.id}-sessions.csv`);
    expect(sessions.text.split('\r\n')[0]).toMatch(/^id,licenseId,state,/);
    expect(sessions.text).toContain('"Amy, ""A"""');

    const history = await save(page, '#export-history');
    expect(history.name).toBe(`${license.id}-history.csv`);
    const days = history.text.trimEnd().split('\r\n');
    expect(days[0]).toBe('at,denials,peakSeatsInUse,seats,full,queuedGranted,unmetDemand,unmetAvgWaitSec');
    expect(days.at(-1)).toMatch(/,2,1,1,true,0,0,$/);

    // A range that ends before today: no denials in it, and no day bucket of today.
    const yesterday = await page.evaluate(() => {
      const d = new Date();
      d.setDate(d.getDate() - 1);
      return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    });
    await page.fill('#export-to', yesterday);
    expect((await save(page, '#export-denials')).text).toBe('at,licenseId,reason,sessionRef,userId,deviceId,instanceId\r\n');
    const past = (await save(page, '#export-history')).text.trimEnd().split('\r\n');
    expect(past.length).toBeLessThan(days.length);
    expect(past.slice(1).every((l) => l.includes(',0,'))).toBe(true);
    await page.fill('#export-to', '');
    await page.fill('#export-from', yesterday);
    expect((await save(page, '#export-denials')).text.trimEnd().split('\r\n')).toHaveLength(3);
    expect(await page.textContent('#export-status')).toBe(`Saved ${license.id}-denials.csv.`);
    // A range that ends before it starts is said, and nothing is fetched.
    const csvAsks = () => urls.filter((u) => u.includes('format=csv')).length;
    const asked = csvAsks();
    await page.fill('#export-from', '2026-11-29');
    await page.fill('#export-to', '2026-11-01');
    await page.click('#export-denials');
    expect(await page.textContent('#export-status')).toBe('The range ends before it starts: “From” (2026-11-29) is after “To” (2026-11-01).');
    expect(csvAsks()).toBe(asked);

    // The token went in a header, never in a URL.
    expect(urls.some((u) => u.includes('format=csv'))).toBe(true);
    expect(urls.filter((u) => u.includes(tenant.adminToken))).toEqual([]);
  });
});
