// The demo app at /demo in headless Chromium (granted, a shared seat across tabs, a denial with the
// license's message, a kick, an app-side end), and `npm start`'s demo setup with DEMO on and off.
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { expect, it } from 'vitest';
import type { SeatServerConfig } from '../../server/config';
import { DEMO_LICENSE_ID, setupDemo } from '../../server/demo-setup';
import { startProcess, startServer, tempDir } from '../support/harness';
import { LAPTOP, PHONE, describeBrowser, screenshot, useBrowser, withPages } from './browser';

const chrome = useBrowser();

/** A browser profile of its own: its own cookie, so its own portal session and seat. */
const newBrowserProfile = (viewport = LAPTOP) => chrome.newContext(viewport);

async function openDemo(context: BrowserContext, url: string): Promise<Page> {
  const page = await chrome.newPage(context);
  await page.goto(`${url}/demo`);
  return page;
}

const seatState = (page: Page, state: string) => page.locator(`#seat[data-state="${state}"]`).waitFor({ timeout: 5000 });

async function demoServer(config: Partial<SeatServerConfig> = {}) {
  // Inactivity at its production bound, so no tab goes quiet for long enough here.
  const running = await startServer({ routes: withPages, config: { demo: true, inactivityTimeoutMinSec: 300, ...config } });
  const setup = await setupDemo(running.server);
  expect(setup).toMatchObject({ created: true, present: true });
  return running;
}

describeBrowser('demo app', () => {
  it('shows "granted"; a second tab of the same browser shares the seat, another browser takes another', async () => {
    const { url, api } = await demoServer();
    const alice = await newBrowserProfile();
    const tab1 = await openDemo(alice, url);
    await seatState(tab1, 'granted');
    expect(await tab1.locator('#state').textContent()).toBe('granted');
    expect(await tab1.locator('#headline').textContent()).toContain('took a new seat');
    await screenshot(tab1, 'demo-granted');

    const tab2 = await openDemo(alice, url);
    await seatState(tab2, 'granted');
    expect(await tab2.locator('#headline').textContent()).toContain('joined a seat');
    expect((await api.ok('GET', `/licenses/${DEMO_LICENSE_ID}`)).seatsInUse).toBe(1);
    const { sessions } = await api.ok('GET', `/licenses/${DEMO_LICENSE_ID}/sessions`);
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({ sockets: 2, app: 'Demo WebUI' });

    const bob = await newBrowserProfile(PHONE);
    const bobTab = await openDemo(bob, url);
    await seatState(bobTab, 'granted');
    expect((await api.ok('GET', `/licenses/${DEMO_LICENSE_ID}`)).seatsInUse).toBe(2);
    await screenshot(bobTab, 'demo-granted-phone');
  });

  it('a denied demo tab shows the license\'s message', async () => {
    const { url, api } = await demoServer();
    await api.ok('PATCH', `/licenses/${DEMO_LICENSE_ID}`, { seats: 1, deniedMessage: 'The demo is full: ask Dana to free a seat' });
    const first = await openDemo(await newBrowserProfile(), url);
    await seatState(first, 'granted');
    const second = await openDemo(await newBrowserProfile(), url);
    await seatState(second, 'denied');
    expect(await second.locator('#message').textContent()).toBe('The demo is full: ask Dana to free a seat');
    expect(await second.locator('#facts').textContent()).toContain('no_free_seats');
    await screenshot(second, 'demo-denied');
  });

  it('shows a kick with its message, and ends its own session from the button', async () => {
    const { url, api } = await demoServer({ kickCooldownSec: 60 });
    const context = await newBrowserProfile();
    const page = await openDemo(context, url);
    await seatState(page, 'granted');
    const other = await openDemo(await newBrowserProfile(), url);
    await seatState(other, 'granted');

    const { sessions } = await api.ok('GET', `/licenses/${DEMO_LICENSE_ID}/sessions`);
    const otherSid = (await other.locator('#facts dd').nth(1).textContent())!;
    await api.ok('DELETE', `/sessions/${otherSid}`, { message: 'Closing for maintenance' });
    await seatState(other, 'ended');
    expect(await other.locator('#headline').textContent()).toContain('An administrator kicked this session');
    expect(await other.locator('#message').textContent()).toBe('Closing for maintenance');
    await screenshot(other, 'demo-kicked');
    expect(sessions.map((s: { id: string }) => s.id)).toContain(otherSid);
    // Straight back during the kick's cool-down: not "no seat" while seats are free, but when to try again.
    await other.click('#again');
    await seatState(other, 'denied');
    expect(await other.locator('#headline').textContent()).toMatch(/Kicked a moment ago: try again in (59|60) s\./);

    await page.click('#end');
    await seatState(page, 'ended');
    expect(await page.locator('#headline').textContent()).toContain('The app ended this session');
    expect((await api.ok('GET', `/licenses/${DEMO_LICENSE_ID}`)).seatsInUse).toBe(0);
  });
});

describeBrowser('npm start', () => {
  it('creates the demo on an empty database and prints the dashboard and demo URLs; DEMO=off turns it off', async () => {
    const dir = tempDir();
    const on = await startProcess({ DEMO: 'on', DATABASE_URL: path.join(dir, 'on.db') });
    await expect.poll(() => on.output(), { timeout: 10_000 }).toContain(`${on.url}/demo`);
    expect(on.output()).toContain(`${on.url}/admin`);
    expect(on.output()).toMatch(/Demo tenant admin token[^\n]*\n\s+tat_/);
    expect(on.output()).toContain('DEMO=off');
    expect((await fetch(`${on.url}/demo`)).status).toBe(200);
    expect((await fetch(`${on.url}/admin`)).status).toBe(200);
    expect((await on.api.ok('GET', `/licenses/${DEMO_LICENSE_ID}`)).seats).toBe(3);
    // The page a newcomer opens is granted a seat.
    const page = await openDemo(await newBrowserProfile(), on.url);
    await seatState(page, 'granted');
    await page.context().close();
    await on.stop();

    const off = await startProcess({ DEMO: 'off', DATABASE_URL: path.join(dir, 'off.db') });
    await expect.poll(() => off.output(), { timeout: 10_000 }).toContain(`${off.url}/admin`);
    expect(off.output()).not.toContain('/demo');
    expect((await fetch(`${off.url}/demo`)).status).toBe(404);
    expect((await fetch(`${off.url}/demo/token`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${off.url}/admin`)).status).toBe(200);
    expect((await off.api.call('GET', `/licenses/${DEMO_LICENSE_ID}`)).status).toBe(404);
    await off.stop();
  });
});
