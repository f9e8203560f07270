// The live seat dashboard in headless Chromium: sign-in, live rows, kick, denials and their chart,
// settings validated by the server, and user strings rendered as text.
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { adminSocket, closeSocket, connectAndAdmit, granted, nextEvent, sign, sleep, startServer } from '../support/harness';
import { LAPTOP, PHONE, describeBrowser, screenshot, useBrowser, withPages } from './browser';

const chrome = useBrowser();

/** A fresh page with its own storage. */
async function newPage(viewport = LAPTOP): Promise<Page> {
  return chrome.newPage(await chrome.newContext(viewport));
}

async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(`${url}/admin`);
  await page.fill('#token', token);
  await page.click('#signin-form button[type=submit]');
  await page.locator('#board').waitFor({ state: 'visible', timeout: 5000 });
}

const seatsInUse = (page: Page) => page.locator('#seats-in-use');
const rows = (page: Page) => page.locator('#sessions tbody tr[data-session]');

describeBrowser('dashboard', () => {
  it('signs in with a tenant admin token, sees only its tenant, and keeps the token out of the URL', async () => {
    const { url, api } = await startServer({ routes: withPages });
    const mine = await api.setup({ name: 'Planner Pro', seats: 3 });
    const other = await api.setup({ name: 'Other tenant license', seats: 2 });
    const page = await newPage();
    await signIn(page, url, mine.tenant.adminToken);
    await page.locator(`.card[data-license="${mine.license.id}"]`).waitFor();
    expect(await page.locator('.card').count()).toBe(1);
    expect(await page.locator(`.card[data-license="${other.license.id}"]`).count()).toBe(0);
    expect(await page.locator('#license-title').textContent()).toContain('Planner Pro');
    expect(page.url()).not.toContain(mine.tenant.adminToken);
    expect(await page.locator('#who').textContent()).toBe(`tenant admin: ${mine.tenant.name}`);
    await screenshot(page, 'dashboard-signed-in-tenant');
    // Served under a strict CSP: only the server's own scripts, no inline code.
    const csp = (await fetch(`${url}/admin`)).headers.get('content-security-policy');
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');

    // The operator sees every tenant.
    const op = await newPage();
    await signIn(op, url, api.token);
    await op.locator(`.card[data-license="${other.license.id}"]`).waitFor();
    expect(await op.locator('.card').count()).toBe(2);

    // A wrong token is refused with the server's words, and the board stays hidden.
    const bad = await newPage();
    await bad.goto(`${url}/admin`);
    await bad.fill('#token', 'not-a-token-at-all-0000');
    await bad.click('#signin-form button[type=submit]');
    await bad.locator('#signin-error', { hasText: 'not valid' }).waitFor({ timeout: 5000 });
    expect(await bad.locator('#board').isHidden()).toBe(true);
  });

  it('a tab\'s word that crosses the last tab\'s on the way (two nodes telling each its own) leaves no row stale', async () => {
    const { url, api, server } = await startServer({ routes: withPages });
    const { license, tenant } = await api.setup({ seats: 3, idleTimeoutSec: 30 });
    const page = await newPage();
    await signIn(page, url, tenant.adminToken);
    await page.locator('#sessions tbody td.muted', { hasText: 'No sessions' }).waitFor();
    const watcher = adminSocket(url, tenant.adminToken);
    await nextEvent(watcher, 'admin:snapshot');
    const told = nextEvent<any>(watcher, 'admin:session');
    const tab = await granted(url, await sign(license, { sid: 'portal-a', name: 'Alice' }));
    const grant = await told;
    const row = page.locator(`tr[data-session="${tab.grant.sessionId}"]`);
    // The page read the tab's leaving asks for (RELOAD_MS on): done before the late word below, so
    // that word's own read is the one to come, not one already due within a few milliseconds.
    const reread = page.waitForResponse((r) => r.url().includes(`/licenses/${license.id}/sessions`));
    await closeSocket(tab.socket);
    await row.locator('.badge.idle').waitFor({ timeout: 1500 });
    await reread;
    // The row shows the late word below for as long as the board's next read takes (RELOAD_MS,
    // 400 ms, and the read): noted by the page itself, so a loaded machine's slow polling cannot
    // miss it (a CI run did, with 1.5 s to see it).
    await page.evaluate((id) => {
      const seen = window as unknown as { sawActive?: boolean };
      seen.sawActive = false;
      const look = () => {
        if (document.querySelector(`tr[data-session="${id}"] .badge.active`)) seen.sawActive = true;
      };
      new MutationObserver(look).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    }, tab.grant.sessionId);
    // What another node's late word says: a tab of the session left, one still open.
    (server.io.of('/admin') as unknown as { emit(event: string, payload: unknown): void }).emit('admin:session', { ...grant, event: 'detached' });
    await page.waitForFunction(() => (window as unknown as { sawActive?: boolean }).sawActive === true, undefined, { timeout: 5000 });
    // The board reads the page again, and the row shows the store's state.
    await row.locator('.badge.idle').waitFor({ timeout: 5000 });
    expect(await row.locator('.countdown').textContent()).toMatch(/releases in 0:[23]\d/);
  });

  it('shows connecting clients as rows; a second tab of one portal session adds no seat; idle rows count down', async () => {
    const { url, api } = await startServer({ routes: withPages });
    const { license, tenant } = await api.setup({ seats: 3, idleTimeoutSec: 30 });
    const page = await newPage();
    await signIn(page, url, tenant.adminToken);
    await page.locator('#sessions tbody td.muted', { hasText: 'No sessions' }).waitFor();

    const aliceToken = await sign(license, { sid: 'portal-a', sub: 'alice', name: 'Alice Example', app: 'Planner', dev: 'laptop-1' });
    const tab1 = await granted(url, aliceToken);
    const row = page.locator(`tr[data-session="${tab1.grant.sessionId}"]`);
    await row.waitFor({ timeout: 1500 });
    expect(await row.locator('.name').textContent()).toBe('Alice Example');
    expect(await row.textContent()).toContain('Planner');
    expect(await row.textContent()).toContain('laptop-1');
    await page.locator('#seats-in-use', { hasText: '1' }).waitFor({ timeout: 1500 });

    const tab2 = await granted(url, aliceToken);
    expect(tab2.grant.resumed).toBe(true);
    await row.locator('.tabs', { hasText: '2' }).waitFor({ timeout: 1500 });
    expect(await rows(page).count()).toBe(1);
    expect(await seatsInUse(page).textContent()).toBe('1');

    await granted(url, await sign(license, { sid: 'portal-b', sub: 'bob', name: 'Bob' }));
    await page.locator('#seats-in-use', { hasText: '2' }).waitFor({ timeout: 1500 });
    expect(await rows(page).count()).toBe(2);
    expect(await page.locator(`.card[data-license="${license.id}"] .in-use`).textContent()).toBe('2');

    // Alice closes both tabs: her seat is held idle, with a live countdown to its release.
    await closeSocket(tab1.socket);
    await closeSocket(tab2.socket);
    await row.locator('.badge.idle').waitFor({ timeout: 1500 });
    const first = await row.locator('.countdown').textContent();
    expect(first).toMatch(/releases in 0:(2\d|30)/);
    await page.waitForFunction(
      ([id, before]) => document.querySelector(`tr[data-session="${id}"] .countdown`)?.textContent !== before,
      [tab1.grant.sessionId, first] as const,
      { timeout: 2500 },
    );
    await screenshot(page, 'dashboard-sessions-laptop');
    await page.setViewportSize(PHONE);
    await screenshot(page, 'dashboard-sessions-phone');
  });

  it('kicks from the dashboard: the client gets session:ended with the message and the seat frees on the board', async () => {
    const { url, api } = await startServer({ routes: withPages });
    const { license, tenant } = await api.setup({ seats: 1 });
    const page = await newPage();
    await signIn(page, url, tenant.adminToken);
    const { socket, grant } = await granted(url, await sign(license, { sid: 'portal-k', name: 'Kicked Person' }));
    const row = page.locator(`tr[data-session="${grant.sessionId}"]`);
    await row.waitFor({ timeout: 1500 });
    await page.locator(`.card[data-license="${license.id}"] .badge.full`).waitFor({ timeout: 1500 });

    await row.locator('button.kick').click();
    await page.fill('#kick-message', 'Freeing a seat for the night shift');
    await screenshot(page, 'dashboard-kick-dialog');
    const ended = nextEvent(socket, 'session:ended');
    await page.click('#kick-confirm');
    expect(await ended).toEqual({ reason: 'kicked', message: 'Freeing a seat for the night shift' });
    await row.waitFor({ state: 'detached', timeout: 1500 });
    await page.locator('#seats-in-use', { hasText: '0' }).waitFor({ timeout: 1500 });
    expect(await page.locator(`.card[data-license="${license.id}"] .badge.full`).count()).toBe(0);
    expect((await api.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(0);
    // The audit log says who did it.
    await page.locator('#audit tbody tr', { hasText: 'session.kick' }).waitFor({ timeout: 1500 });
    expect(await page.locator('#audit tbody tr', { hasText: 'session.kick' }).first().textContent()).toContain('tenant-admin');
  });

  it('keeps a session that started while the first page of sessions was being read', async () => {
    const { url, api } = await startServer({ routes: withPages });
    const { license, tenant } = await api.setup({ seats: 5 });
    await granted(url, await sign(license, { sid: 'before', name: 'Before' }));
    const page = await newPage();
    // The first page is read at once but answered only once a session has started after the read.
    let read!: () => void;
    const pageRead = new Promise<void>((r) => (read = r));
    let answer!: () => void;
    const answerNow = new Promise<void>((r) => (answer = r));
    let held = false;
    let readAgain!: () => void;
    const reread = new Promise<void>((r) => (readAgain = r));
    await page.route(/\/api\/v1\/licenses\/[^/]+\/sessions\?/, async (route) => {
      if (held) {
        readAgain();
        return route.continue();
      }
      held = true;
      const response = await route.fetch();
      read();
      await answerNow;
      await route.fulfill({ response });
    });
    await signIn(page, url, tenant.adminToken);
    await pageRead;
    const late = await granted(url, await sign(license, { sid: 'late', name: 'Late Starter' }));
    // The board heard it (the row shows from what the board knows) before the stale page lands.
    await page.locator(`tr[data-session="${late.grant.sessionId}"]`).waitFor({ timeout: 5000 });
    answer();
    // The stale page (without it) lands: the board reads the page again, and the row is on it.
    await Promise.race([reread, sleep(5000).then(() => Promise.reject(new Error('the page was not read again')))]);
    await page.locator(`tr[data-session="${late.grant.sessionId}"]`).waitFor({ timeout: 5000 });
    await expect.poll(() => rows(page).count(), { timeout: 5000 }).toBe(2);
  });

  it('shows a denial in the feed and in the chart data, and the license as full', async () => {
    const { url, api } = await startServer({ routes: withPages });
    const { license, tenant } = await api.setup({ seats: 1 });
    const page = await newPage();
    await signIn(page, url, tenant.adminToken);
    await page.locator('#history .charts[data-denials="0"]').waitFor({ timeout: 5000 });

    await granted(url, await sign(license, { sid: 'holder' }));
    const denied = await connectAndAdmit(url, await sign(license, { sid: 'latecomer', sub: 'carol' }));
    expect(denied.result.kind).toBe('denied');

    await page.locator('#denials li.denial', { hasText: 'carol' }).waitFor({ timeout: 1500 });
    expect(await page.locator('#denials li.denial').first().textContent()).toContain('no_free_seats');
    await page.locator('#history .charts[data-denials="1"]').waitFor({ timeout: 2000 });
    await page.locator('#history .charts[data-peak="1"]').waitFor({ timeout: 2000 });
    await page.locator('#history-summary', { hasText: 'denials in the window 1' }).waitFor({ timeout: 2000 });
    await page.locator('.detail-head .badge.full').waitFor({ timeout: 1500 });

    // The per-day view holds the same denial.
    await page.selectOption('#range', 'day');
    await page.locator('#history .charts[data-bucket="day"][data-denials="1"]').waitFor({ timeout: 2000 });
    await screenshot(page, 'dashboard-denials-chart');
  });

  it('renders a display name with markup as text', async () => {
    const { url, api } = await startServer({ routes: withPages });
    const { license, tenant } = await api.setup({ seats: 2 });
    const page = await newPage();
    let alerted = false;
    page.on('dialog', (d) => {
      alerted = true;
      void d.dismiss();
    });
    await signIn(page, url, tenant.adminToken);
    const evil = '<img src=x onerror=alert(1)>';
    const { grant } = await granted(url, await sign(license, { sid: 'x', name: evil, app: '<b>bold</b>' }));
    const row = page.locator(`tr[data-session="${grant.sessionId}"]`);
    await row.waitFor({ timeout: 1500 });
    expect(await row.locator('.name').textContent()).toBe(evil);
    expect(await row.textContent()).toContain('<b>bold</b>');
    expect(await page.locator('#sessions img, #sessions b').count()).toBe(0);
    await row.locator('button.kick').click();
    expect(await page.locator('#kick-dialog .name').textContent()).toBe(evil);
    expect(await page.locator('#kick-dialog img').count()).toBe(0);
    await page.waitForTimeout(200);
    expect(alerted).toBe(false);
  });

  it('validates settings in words of the form, and shows changes from REST and other dashboards live', async () => {
    const { url, api } = await startServer({ routes: withPages });
    const { license, tenant, admin } = await api.setup({ seats: 2, seatCap: 5, idleTimeoutSec: 60 });
    const page = await newPage();
    await signIn(page, url, tenant.adminToken);
    await page.locator('#f-seats').waitFor();
    expect(await page.inputValue('#f-seats')).toBe('2');

    await page.fill('#f-idleTimeoutSec', '99999');
    await page.click('#settings button[type=submit]');
    await page.locator('#err-idleTimeoutSec', { hasText: 'Idle timeout must be between 1 and 3600 seconds.' }).waitFor({ timeout: 2000 });

    await page.fill('#f-idleTimeoutSec', '60');
    await page.fill('#f-seats', '9');
    await page.click('#settings button[type=submit]');
    await page.locator('#err-seats', { hasText: "Seats can't be more than the plan's cap of 5." }).waitFor({ timeout: 2000 });
    expect(await page.locator('#err-idleTimeoutSec').textContent()).toBe('');
    await screenshot(page, 'dashboard-settings-error');

    await page.fill('#f-seats', '4');
    await page.fill('#f-deniedMessage', 'Ask Dana for a seat');
    await page.click('#settings button[type=submit]');
    await page.locator('#settings-status', { hasText: 'Saved' }).waitFor({ timeout: 2000 });
    expect(await api.ok('GET', `/licenses/${license.id}`)).toMatchObject({ seats: 4, deniedMessage: 'Ask Dana for a seat' });

    // A change through REST reaches an open dashboard within a second, without a reload.
    await admin.ok('PATCH', `/licenses/${license.id}`, { seats: 3 });
    await page.locator(`.card[data-license="${license.id}"] .card-count`, { hasText: '/ 3 seats' }).waitFor({ timeout: 1000 });
    expect(await page.inputValue('#f-seats')).toBe('3');

    // Suspend from another dashboard: this one shows it, and the audit log names it.
    const other = await newPage(PHONE);
    await signIn(other, url, tenant.adminToken);
    await other.click('#status-toggle');
    await other.click('#confirm-dialog #confirm-ok');
    await page.locator(`.card[data-license="${license.id}"] .badge.suspended`).waitFor({ timeout: 1000 });
    await page.locator('#status-toggle', { hasText: 'Restore' }).waitFor({ timeout: 1000 });
    await page.locator('#audit tbody tr', { hasText: 'license.update' }).first().waitFor({ timeout: 1000 });
    await screenshot(other, 'dashboard-phone-suspended');
    await page.click('#status-toggle');
    await other.locator('#status-toggle', { hasText: 'Suspend' }).waitFor({ timeout: 1000 });
    expect((await api.ok('GET', `/licenses/${license.id}`)).status).toBe('active');
  });
});
