// The demo app at /demo in headless Chromium (granted, a shared seat across tabs, a denial with the
// license's message, a kick, an app-side end), its dark mode, and `npm start`'s demo setup with
// DEMO on and off.
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

/**
 * The colours a reader sees of each element: its text, the background behind it (its own and its
 * ancestors' composited down to the page's), and their WCAG contrast ratio.
 */
function colours(page: Page, selectors: string[]) {
  return page.evaluate((selectors) => {
    const rgba = (css: string) => {
      const [r, g, b, a = 1] = css.match(/[\d.]+/g)!.map(Number);
      return [r!, g!, b!, a] as const;
    };
    const behind = (el: Element | null): [number, number, number] => {
      if (!el) return [255, 255, 255];
      const [r, g, b, a] = rgba(getComputedStyle(el).backgroundColor);
      if (a >= 1) return [r, g, b];
      const under = behind(el.parentElement);
      return [r * a + under[0] * (1 - a), g * a + under[1] * (1 - a), b * a + under[2] * (1 - a)];
    };
    const luminance = ([r, g, b]: readonly number[]) => {
      const c = [r!, g!, b!].map((v) => (v / 255 <= 0.04045 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4));
      return 0.2126 * c[0]! + 0.7152 * c[1]! + 0.0722 * c[2]!;
    };
    return Object.fromEntries(
      selectors.map((sel) => {
        const el = document.querySelector(sel)!;
        const text = rgba(getComputedStyle(el).color);
        const bg = behind(el);
        const [hi, lo] = [luminance(text), luminance(bg)].sort((x, y) => y - x);
        return [sel, { text: getComputedStyle(el).color, background: bg.map(Math.round).join(' '), backgroundLuminance: luminance(bg), contrast: (hi! + 0.05) / (lo! + 0.05) }];
      }),
    );
  }, selectors);
}

describeBrowser('demo app: dark mode', () => {
  it('follows the system into dark mode in the dashboard\'s colours, every text readable', async () => {
    const { url, api } = await demoServer();
    await api.ok('PATCH', `/licenses/${DEMO_LICENSE_ID}`, { seats: 1, deniedMessage: 'The demo is full: ask Dana to free a seat' });
    const granted = await openDemo(await newBrowserProfile(), url);
    await seatState(granted, 'granted');
    const denied = await openDemo(await newBrowserProfile(PHONE), url);
    await seatState(denied, 'denied');
    // The inactivity warning's banner, shown here by hand for its colours (demo-inactivity.test.ts
    // brings it about for real).
    await granted.evaluate(() => {
      document.getElementById('warning')!.hidden = false;
      document.getElementById('warning-text')!.textContent = 'No activity for a while: this seat goes to others in 30 s.';
    });
    const texts = ['#warning', 'main > h1', 'main > p.muted', 'main a', '#state', '#headline', '.facts dt', '.facts dd', '.log li', '.log time'];
    const light = { granted: await colours(granted, [...texts, '#end']), denied: await colours(denied, ['#message']) };
    await screenshot(granted, 'demo-light');
    await screenshot(denied, 'demo-denied-light-phone');

    // The system switches to dark: the open pages follow at once.
    for (const page of [granted, denied]) await page.emulateMedia({ colorScheme: 'dark' });
    const dark = { granted: await colours(granted, [...texts, '#end']), denied: await colours(denied, ['#message']) };
    await screenshot(granted, 'demo-dark');
    await screenshot(denied, 'demo-denied-dark-phone');
    // The dashboard's dark page and panels (palette.css): #0b1120 and #111827, its text #e5e7eb.
    const page = await granted.evaluate(() => [getComputedStyle(document.documentElement).backgroundColor, getComputedStyle(document.querySelector('.panel')!).backgroundColor, getComputedStyle(document.body).color]);
    expect(page).toEqual(['rgb(11, 17, 32)', 'rgb(17, 24, 39)', 'rgb(229, 231, 235)']);
    for (const [sel, c] of Object.entries({ ...dark.granted, ...dark.denied })) {
      const before = { ...light.granted, ...light.denied }[sel]!;
      expect(c.text, sel).not.toBe(before.text);
      // Dark text on light in light mode, light text on dark in dark mode (but the red button, light on red in both).
      if (sel !== '#end') {
        expect(c.backgroundLuminance, sel).toBeLessThan(0.05);
        expect(before.backgroundLuminance, sel).toBeGreaterThan(0.5);
      }
      // WCAG AA for body text, in both schemes.
      expect(c.contrast, `${sel} in dark`).toBeGreaterThanOrEqual(4.5);
      expect(before.contrast, `${sel} in light`).toBeGreaterThanOrEqual(4.5);
    }
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
