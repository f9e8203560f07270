// The demo app and inactivity release in headless Chromium: a tab left alone shows the warning
// with a countdown, then "released for inactivity"; moving the mouse brings the seat back by itself.
import { expect, it } from 'vitest';
import { DEMO_LICENSE_ID, setupDemo } from '../../server/demo-setup';
import { startServer } from '../support/harness';
import { describeBrowser, screenshot, useBrowser, withPages } from './browser';

const chrome = useBrowser();

describeBrowser('demo app: inactivity', () => {
  it('warns with a countdown, releases the seat, and takes it back on the next mouse move', async () => {
    // The demo license takes the smallest inactivity timeout the server allows: 4 s here, warned 1 s before.
    const running = await startServer({ routes: withPages, config: { demo: true, inactivityTimeoutMinSec: 4 } });
    expect(await setupDemo(running.server)).toMatchObject({ created: true });
    expect(await running.api.ok('GET', `/licenses/${DEMO_LICENSE_ID}`)).toMatchObject({ inactivityTimeoutSec: 4, inactivityWarningSec: 1 });
    const page = await chrome.newPage(await chrome.newContext());
    await page.goto(`${running.url}/demo`);
    await page.locator('#seat[data-state="granted"]').waitFor({ timeout: 5000 });
    const first = (await running.api.ok('GET', `/licenses/${DEMO_LICENSE_ID}/sessions`)).sessions[0].id;

    await page.locator('#warning:not([hidden])').waitFor({ timeout: 8000 });
    expect(await page.locator('#warning-text').textContent()).toMatch(/this seat goes to others in \d+ s/);
    await screenshot(page, 'demo-inactivity-warning');

    await page.locator('#seat[data-state="ended"]').waitFor({ timeout: 8000 });
    expect(await page.locator('#headline').textContent()).toContain('without activity');
    expect(await page.locator('#warning').isHidden()).toBe(true);
    expect((await running.api.ok('GET', `/licenses/${DEMO_LICENSE_ID}`)).seatsInUse).toBe(0);
    await screenshot(page, 'demo-inactivity-released');

    // The user comes back: no button, no login; a new seat.
    await page.mouse.move(200, 200);
    await page.mouse.move(220, 240);
    await page.locator('#seat[data-state="granted"]').waitFor({ timeout: 5000 });
    const { sessions } = await running.api.ok('GET', `/licenses/${DEMO_LICENSE_ID}/sessions`);
    expect(sessions).toHaveLength(1);
    expect(sessions[0].id).not.toBe(first);
  });
});
