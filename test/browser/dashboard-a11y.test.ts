// The dashboard for people on a keyboard, a screen reader, a dark screen or a phone: live updates
// patch the board in place (focus and scroll survive them), seat counts are announced politely,
// controls have names, and the layout holds in dark mode and at 390×844.
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { granted, nextEvent, sign, startServer } from '../support/harness';
import { LAPTOP, PHONE, describeBrowser, screenshot, useBrowser, withPages } from './browser';

const chrome = useBrowser();

async function signedIn(url: string, token: string, viewport = LAPTOP): Promise<Page> {
  const page = await chrome.newPage(await chrome.newContext(viewport));
  await page.goto(`${url}/admin`);
  await page.fill('#token', token);
  await page.click('#signin-form button[type=submit]');
  await page.locator('#board').waitFor({ state: 'visible', timeout: 5000 });
  return page;
}

/** The id of the session row holding the focused element, or what has focus when no row does. */
const focused = (page: Page) =>
  page.evaluate(() => {
    const el = document.activeElement;
    return el?.closest('tr')?.getAttribute('data-session') ?? `${el?.tagName.toLowerCase()}#${el?.id}`;
  });

describeBrowser('dashboard accessibility and live updates', () => {
  it('keeps keyboard focus and the scroll position through live updates: Enter on a focused Kick button kicks', async () => {
    const { url, api } = await startServer({ routes: withPages });
    const { license, tenant, admin } = await api.setup({ seats: 4 });
    // A short window, so the page scrolls.
    const page = await signedIn(url, tenant.adminToken, { width: 1024, height: 420 });
    const alice = await granted(url, await sign(license, { sid: 'a', name: 'Alice' }));
    const bob = await granted(url, await sign(license, { sid: 'b', name: 'Bob' }));
    const kickAlice = page.getByRole('button', { name: 'Kick Alice' });
    await kickAlice.waitFor({ timeout: 2000 });
    await page.getByRole('button', { name: 'Kick Bob' }).waitFor({ timeout: 2000 });
    await kickAlice.focus();
    await page.evaluate(() => window.scrollTo(0, 200));
    const scrollY = await page.evaluate(() => window.scrollY);
    expect(scrollY).toBeGreaterThan(0);

    // Other sessions change while Alice's Kick button has focus: a new seat, a second tab of Bob's
    // session, a change of the license through REST, and Bob's tabs leaving.
    const carol = await granted(url, await sign(license, { sid: 'c', name: 'Carol' }));
    await granted(url, await sign(license, { sid: 'b', name: 'Bob' }));
    await page.locator(`tr[data-session="${carol.grant.sessionId}"]`).waitFor({ timeout: 2000 });
    await page.locator(`tr[data-session="${bob.grant.sessionId}"] .tabs`, { hasText: '2' }).waitFor({ timeout: 2000 });
    await admin.ok('PATCH', `/licenses/${license.id}`, { deniedMessage: 'Ask the office for a seat' });
    await page.waitForFunction(() => (document.getElementById('f-deniedMessage') as HTMLTextAreaElement).value === 'Ask the office for a seat');
    await admin.ok('DELETE', `/sessions/${bob.grant.sessionId}`);
    await page.locator(`tr[data-session="${bob.grant.sessionId}"]`).waitFor({ state: 'detached', timeout: 2000 });

    expect(await focused(page)).toBe(alice.grant.sessionId);
    expect(await page.evaluate(() => window.scrollY)).toBe(scrollY);

    // The keyboard still works where it was: Enter opens the kick dialog, Enter again kicks.
    await page.keyboard.press('Enter');
    await page.locator('#kick-dialog').waitFor();
    expect(await focused(page)).toBe('input#kick-message');
    await page.keyboard.type('Your shift is over');
    const ended = nextEvent(alice.socket, 'session:ended');
    await page.keyboard.press('Enter');
    expect(await ended).toEqual({ reason: 'kicked', message: 'Your shift is over' });
    await page.locator(`tr[data-session="${alice.grant.sessionId}"]`).waitFor({ state: 'detached', timeout: 2000 });
    // The live update may remove the row before the kick's reply closes the dialog.
    await page.locator('#kick-dialog').waitFor({ state: 'detached', timeout: 2000 });
    // Alice's row is gone: focus goes to the next row's Kick button, not to the page.
    expect(await focused(page)).toBe(carol.grant.sessionId);
  });

  it('announces seat-count changes of the shown license in a polite live region', async () => {
    const { url, api } = await startServer({ routes: withPages });
    const { license, tenant } = await api.setup({ name: 'Planner', seats: 2 });
    const page = await signedIn(url, tenant.adminToken);
    const region = page.locator('[aria-live="polite"]#announcer');
    expect(await region.count()).toBe(1);
    expect(await region.textContent()).toBe('');
    await granted(url, await sign(license, { sid: 'a' }));
    await region.filter({ hasText: 'Planner: 1 of 2 seats in use.' }).waitFor({ timeout: 2000 });
    await granted(url, await sign(license, { sid: 'b' }));
    await region.filter({ hasText: 'Planner: 2 of 2 seats in use, full.' }).waitFor({ timeout: 2000 });
  });

  it('names its controls, regions and tables for assistive technology', async () => {
    const { url, api } = await startServer({ routes: withPages });
    const { license, tenant } = await api.setup({ name: 'Planner', seats: 2 });
    await granted(url, await sign(license, { sid: 'a', name: 'Alice' }));
    const page = await signedIn(url, tenant.adminToken);
    // After signing in, focus is on the board, not lost on the page.
    expect(await focused(page)).toBe('h2#licenses-heading');
    for (const [role, name] of [
      ['group', 'Licenses'],
      ['button', 'Kick Alice'],
      ['region', 'Sessions table'],
      ['table', 'Sessions holding a seat of Planner'],
      ['spinbutton', 'Seats'],
      ['spinbutton', 'Idle timeout (seconds)'],
      ['textbox', 'Denied message'],
      ['combobox', 'History range'],
      ['region', 'Audit log'],
      ['region', 'Audit log table'],
      ['table', 'Admin actions, newest first'],
      ['columnheader', 'Actions'],
      ['form', 'Settings'],
    ] as const) {
      expect(await page.getByRole(role, { name, exact: true }).count(), `${role} "${name}"`).toBe(1);
    }
    // Each field says what it takes: the hint is part of its description.
    expect(await page.getByRole('spinbutton', { name: 'Idle timeout (seconds)' }).getAttribute('aria-describedby')).toContain('hint-idleTimeoutSec');
    // The kick dialog is a labelled modal dialog.
    await page.getByRole('button', { name: 'Kick Alice' }).click();
    expect(await page.getByRole('dialog', { name: 'Kick Alice?' }).count()).toBe(1);
    await page.keyboard.press('Escape');
    await page.locator('#kick-dialog').waitFor({ state: 'detached' });
    // Focus goes back to the button that opened it.
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Kick Alice');
  });

  /** A license with two sessions, one with long names. */
  async function busyLicense() {
    const { url, api } = await startServer({ routes: withPages });
    const { license, tenant } = await api.setup({ name: 'Planner with a rather long license name for a phone', seats: 3 });
    await granted(url, await sign(license, { sid: 'portal-session-with-a-long-identifier-0123456789', sub: 'alice.longname@example.com', name: 'Alice Example', app: 'Planner', dev: 'laptop-1' }));
    await granted(url, await sign(license, { sid: 'b', sub: 'bob', name: 'Bob', app: 'Planner' }));
    return { url, tenant };
  }

  it('follows the system dark mode', async () => {
    const { url, tenant } = await busyLicense();
    const page = await signedIn(url, tenant.adminToken);
    await page.locator('#sessions tbody tr[data-session]').nth(1).waitFor();
    const colours = () =>
      page.evaluate(() => ({
        page: getComputedStyle(document.documentElement).backgroundColor,
        panel: getComputedStyle(document.querySelector('.panel')!).backgroundColor,
        text: getComputedStyle(document.body).color,
        input: getComputedStyle(document.getElementById('f-seats')!).backgroundColor,
      }));
    await page.emulateMedia({ colorScheme: 'light' });
    const light = await colours();
    await screenshot(page, 'dashboard-light');
    await page.emulateMedia({ colorScheme: 'dark' });
    const dark = await colours();
    expect(dark.page).not.toBe(light.page);
    expect(dark.panel).not.toBe(light.panel);
    expect(dark.text).not.toBe(light.text);
    expect(dark.input).not.toBe(light.input);
    await page.waitForTimeout(100); // the charts redraw in the dark scheme's colours
    await screenshot(page, 'dashboard-dark');
  });

  it('fits a phone (390×844) without a horizontal page scroll, light or dark', async () => {
    const { url, tenant } = await busyLicense();
    for (const scheme of ['light', 'dark'] as const) {
      const phone = await signedIn(url, tenant.adminToken, PHONE);
      await phone.emulateMedia({ colorScheme: scheme });
      await phone.locator('#sessions tbody tr[data-session]').nth(1).waitFor();
      await phone.locator('#history .charts[data-peak]').waitFor({ timeout: 5000 });
      const widths = await phone.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
      expect(widths.scroll, `${scheme}: page width ${widths.scroll} at a ${widths.inner} px viewport`).toBeLessThanOrEqual(widths.inner);
      await screenshot(phone, `dashboard-phone-${scheme}`);
    }
  });
});
