// The issue 12 policies on the dashboard (issue 13 §7): the queue with positions, live; the
// overage in use; reservations per group; the settings form's overage, queue and reservation
// fields with the server's 422 beside the row; the seat-cut confirmation listing what the server's
// preview says would end; the Webhooks panel (create with the secret shown once, deliveries,
// delete). Screenshots in light, dark and phone.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { io } from 'socket.io-client';
import { expect, it, onTestFinished } from 'vitest';
import type { Page } from 'playwright-core';
import { type AppSocket, granted, nextEvent, sign, startServer } from '../support/harness';
import { describeBrowser, PHONE, screenshot, useBrowser, withPages } from './browser';

const chrome = useBrowser();

function waiter(url: string, token: string): AppSocket {
  const socket: AppSocket = io(url, { auth: { token, queue: true }, transports: ['websocket'], reconnection: false, forceNew: true });
  onTestFinished(() => void socket.disconnect());
  return socket;
}

async function signIn(page: Page, url: string, token: string, licenseId: string): Promise<void> {
  await page.goto(`${url}/admin#license=${licenseId}`);
  await page.fill('#token', token);
  await page.click('#signin-form button[type=submit]');
  await page.locator('#license-title').waitFor();
}

describeBrowser('dashboard policies', () => {
  it('shows the queue live with positions, the overage in use and a reservation per group', async () => {
    const { url, api } = await startServer({ routes: withPages });
    const { license, tenant } = await api.setup({
      name: 'CAD',
      seats: 2,
      overage: 1.5,
      queue: true,
      reservations: [{ group: 'design', seats: 1 }],
      groupLimits: [{ group: 'design', max: 2 }],
    });
    // Capacity 3: two seats and one of overage; 'design' holds one (its reservation), others two.
    await granted(url, await sign(license, { sid: 'd1', sub: 'dana', grp: 'design' }));
    await granted(url, await sign(license, { sid: 'o1', sub: 'olaf' }));
    await granted(url, await sign(license, { sid: 'o2', sub: 'otto' }));

    const page = await chrome.newPage(await chrome.newContext());
    await signIn(page, url, tenant.adminToken, license.id);
    const card = page.locator(`.card[data-license="${license.id}"]`);
    await card.locator('text=overage in use: 1 of 1').waitFor({ timeout: 5000 });
    expect(await card.locator('.badge.overage').textContent()).toBe('overage +1');
    expect(await page.locator('#overage-figure').textContent()).toBe('overage ×1.5: 1 of 1 extra seat in use');
    expect(await page.textContent('#hint-seats')).toContain('3 in use now: seats × overage (1.5) below that ends the newest sessions.');
    // The group's row: reserved now, held, its limit.
    const row = page.locator('#pools tr[data-group="design"]');
    expect(await row.locator('th').textContent()).toBe('design');
    expect(await row.locator('td').nth(0).textContent()).toContain('1');
    expect(await row.locator('td').nth(0).textContent()).toContain('always');
    expect(await row.locator('td').nth(1).textContent()).toBe('1');
    expect(await row.locator('td').nth(2).textContent()).toBe('2');

    // Two wait; the board lists them in order, and the card says how many.
    const a = waiter(url, await sign(license, { sid: 'q1', sub: 'quinn', name: 'Quinn', app: 'cad' }));
    expect(await nextEvent(a, 'seat:queued')).toEqual({ position: 1, queueLength: 1 });
    const b = waiter(url, await sign(license, { sid: 'q2', sub: 'rosa' }));
    expect(await nextEvent(b, 'seat:queued')).toEqual({ position: 2, queueLength: 2 });
    await card.locator('text=2 waiting in the queue').waitFor({ timeout: 5000 });
    await page.locator('#queue tbody tr[data-position="2"]').waitFor({ timeout: 5000 });
    expect(await page.locator('#queue tbody tr').evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].slice(0, 4).map((td) => td.textContent)))).toEqual([
      ['1', 'quinn', 'Quinn', 'cad'],
      ['2', 'rosa', '—', '—'],
    ]);
    await screenshot(page, 'dashboard-policies-light');

    // The first leaves: the second moves up on the board, live.
    a.disconnect();
    await card.locator('text=1 waiting in the queue').waitFor({ timeout: 5000 });
    await page.waitForFunction(() => document.querySelectorAll('#queue tbody tr').length === 1 && document.querySelector('#queue tbody tr td:nth-child(2)')?.textContent === 'rosa');
    expect(await page.locator('#queue tbody tr td').first().textContent()).toBe('1');

    // A denied user asks for a seat: the request shows in the license's feed and on its card, live.
    const ask = (token: string, message: string) =>
      fetch(`${url}/api/v1/seat-requests`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ message }) });
    expect((await ask(await sign(license, { sid: 'x1', sub: 'xena', name: 'Xena' }), 'Deadline at noon, please')).status).toBe(201);
    await page.locator('#requests li.request').waitFor({ timeout: 5000 });
    expect(await page.locator('#requests li.request').textContent()).toContain('Xena: Deadline at noon, please');
    await card.locator('text=1 asked for a seat lately').waitFor({ timeout: 5000 });

    const dark = await chrome.newPage(await chrome.newContext());
    await dark.emulateMedia({ colorScheme: 'dark' });
    await signIn(dark, url, tenant.adminToken, license.id);
    await dark.locator('#queue tbody tr[data-position="1"]').waitFor();
    expect(await dark.locator('#requests li.request .who').textContent()).toBe('Xena');
    expect(await dark.locator(`.card[data-license="${license.id}"]`).textContent()).toContain('1 asked for a seat lately');
    await screenshot(dark, 'dashboard-policies-dark');
    const phone = await chrome.newPage(await chrome.newContext(PHONE));
    await signIn(phone, url, tenant.adminToken, license.id);
    await phone.locator('#queue tbody tr[data-position="1"]').waitFor();
    expect(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
    await screenshot(phone, 'dashboard-policies-phone');
  });

  it('edits overage, queue and a windowed reservation, shows the server refusal by its row, and confirms a cut with the preview', async () => {
    const { url, api } = await startServer({ routes: withPages });
    const { license, tenant, admin } = await api.setup({ name: 'Sim', seats: 3 });
    for (const [sid, name] of [['s1', 'Ann'], ['s2', 'Ben'], ['s3', 'Cat']]) await granted(url, await sign(license, { sid, name }));
    const page = await chrome.newPage(await chrome.newContext());
    await signIn(page, url, tenant.adminToken, license.id);

    await page.fill('#f-overage', '1.5');
    await page.check('#f-queue');
    await page.click('#reservations-add');
    const res = page.locator('#f-reservations li').first();
    await res.locator('[data-part="group"]').fill('night');
    await res.locator('[data-part="seats"]').fill('1');
    await res.locator('[data-part="windowed"]').check();
    // The zone defaults to the viewer's; an unknown one is refused beside the row.
    expect(await res.locator('[data-part="tz"]').inputValue()).toBe(await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone));
    await res.locator('[data-part="tz"]').fill('Mars/Olympus');
    await page.click('#settings-save');
    expect(await res.locator('.row-error').textContent()).toContain('Unknown time zone');
    await res.locator('[data-part="tz"]').fill('Europe/Amsterdam');
    await res.locator('[data-part="from"]').fill('22:00');
    await res.locator('[data-part="to"]').fill('06:00');
    await page.click('#settings-save');
    await page.locator('#settings-status:has-text("Saved")').waitFor({ timeout: 5000 });
    const saved = await admin.ok('GET', `/licenses/${license.id}`);
    expect(saved).toMatchObject({ overage: 1.5, queue: true, reservations: [{ group: 'night', seats: 1, window: { days: [1, 2, 3, 4, 5], from: '22:00', to: '06:00', tz: 'Europe/Amsterdam' } }] });
    await page.locator('#pools tr[data-group="night"]').waitFor();
    expect(await page.locator('#pools tr[data-group="night"] td').first().textContent()).toContain('Mon–Fri 22:00–06:00 Europe/Amsterdam');

    // A second reservation of the same group overlapping in time: the server's 422 names row 1.
    await page.click('#reservations-add');
    const second = page.locator('#f-reservations li').nth(1);
    await second.locator('[data-part="group"]').fill('night');
    await second.locator('[data-part="windowed"]').check();
    await second.locator('[data-part="tz"]').fill('Europe/Amsterdam');
    await second.locator('[data-part="from"]').fill('23:00');
    await second.locator('[data-part="to"]').fill('23:30');
    await page.click('#settings-save');
    await second.locator('.row-error:has-text("overlap")').waitFor({ timeout: 5000 });
    expect(await second.locator('.row-error').textContent()).toBe('This window overlaps that of reservation 1 of group “night”.');
    await screenshot(page.locator('#policy-fields'), 'dashboard-reservation-editor');
    // Every part is named with its row for assistive technology.
    for (const [role, name] of [
      ['spinbutton', 'Overage (× seats)'],
      ['checkbox', 'Let clients wait for a seat'],
      ['textbox', 'Reservation 2: Group'],
      ['spinbutton', 'Reservation 1: Seats'],
      ['checkbox', 'Reservation 2: Only in a weekly window'],
      ['checkbox', 'Reservation 1: Mon'],
      ['textbox', 'Reservation 2: Zone'],
      ['button', 'Remove reservation 2'],
      ['spinbutton', 'Seats'],
    ] as const) {
      expect(await page.getByRole(role, { name, exact: true }).count(), `${role} "${name}"`).toBe(1);
    }
    await second.locator('button.remove').click();

    // Lower the seats to 1 with overage 1.5 (capacity 1): the dialog lists what the server's preview
    // says would end, newest first, and Cancel changes nothing.
    await page.fill('#f-seats', '1');
    await page.fill('#f-reservations li [data-part="seats"]', '1');
    await page.click('#settings-save');
    await page.locator('#confirm-dialog').waitFor();
    expect(await page.locator('#confirm-dialog .ending li .name').allTextContents()).toEqual(['Cat', 'Ben']);
    expect(await page.locator('#confirm-dialog .ending li').first().textContent()).toContain('seats lowered');
    await page.click('#confirm-cancel');
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seats).toBe(3);
    await page.click('#settings-save');
    await page.click('#confirm-ok');
    await page.locator('#settings-status:has-text("Saved")').waitFor({ timeout: 5000 });
    const { sessions } = await admin.ok('GET', `/licenses/${license.id}/sessions`);
    expect(sessions.map((s: { name: string }) => s.name)).toEqual(['Ann']);
  });

  it('adds a webhook (secret shown once), lists its deliveries and deletes it after asking', async () => {
    const hits: string[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        hits.push(body);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
    const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const { url, api } = await startServer({ routes: withPages, env: { WEBHOOK_ALLOW_PRIVATE: 'on', WEBHOOK_POLL_MS: '50' } });
    const { license, tenant, admin } = await api.setup({ name: 'Hooked', seats: 1 });
    const page = await chrome.newPage(await chrome.newContext());
    await signIn(page, url, tenant.adminToken, license.id);
    await page.locator('#webhooks-summary:has-text("No webhooks yet")').waitFor({ timeout: 5000 });

    // A URL that is not http(s) is refused in the form.
    await page.fill('#webhook-url', 'ftp://example.com/x');
    await page.click('#webhook-create');
    expect(await page.locator('#webhook-url-error').textContent()).toContain('http or https');
    // One longer than the API takes is said, not cut to another address and saved.
    await page.fill('#webhook-url', `https://example.com/${'a'.repeat(2100)}`);
    expect(await page.inputValue('#webhook-url')).toHaveLength(2120);
    await page.click('#webhook-create');
    expect(await page.locator('#webhook-url-error').textContent()).toBe('The URL can be at most 2048 characters (it has 2120).');
    expect((await admin.ok('GET', '/webhooks')).webhooks).toEqual([]);
    await page.fill('#webhook-url', hookUrl);
    await page.uncheck('input[name="webhook-event"][value="license.full"]');
    await page.uncheck('input[name="webhook-event"][value="seat.queued"]');
    await page.check('input[name="webhook-event"][value="session.started"]');
    await page.selectOption('#webhook-license', license.id);
    await page.selectOption('#webhook-concurrency', '8');
    await page.selectOption('#webhook-batch-size', '50');
    await page.click('#webhook-create');
    await page.locator('#secret-value').waitFor();
    const secret = await page.locator('#secret-value').inputValue();
    expect(secret.length).toBeGreaterThan(10);
    await screenshot(page, 'dashboard-webhook-secret');
    await page.keyboard.press('Escape');
    const [hook] = (await admin.ok('GET', '/webhooks')).webhooks;
    expect(hook).toMatchObject({ url: hookUrl, events: ['session.started'], licenseId: license.id, concurrency: 8, batchSize: 50 });
    // The form is back to its defaults for the next webhook: nothing of this one is left ticked.
    expect(await page.inputValue('#webhook-url')).toBe('');
    expect(await page.isChecked('input[name="webhook-event"][value="session.started"]')).toBe(false);
    expect(await page.isChecked('input[name="webhook-event"][value="license.full"]')).toBe(true);
    expect(await page.inputValue('#webhook-concurrency')).toBe('1');
    // Its audit entry in words, and the filter offers it.
    await page.locator('#audit tr', { hasText: 'Webhook added' }).waitFor({ timeout: 5000 });
    expect(await page.locator('#audit-action option[value="webhook.create"]').textContent()).toBe('Webhook added');
    expect(await page.locator(`#webhooks tr[data-webhook="${hook.id}"] td`).nth(2).textContent()).toBe('Hooked');
    const atOnce = page.locator(`#webhooks tr[data-webhook="${hook.id}"] select.concurrency`);
    expect(await atOnce.inputValue()).toBe('8');
    // Changed in place.
    await atOnce.selectOption('2');
    await page.locator('#webhooks-status:has-text("up to 2 at once")').waitFor({ timeout: 5000 });
    expect((await admin.ok('GET', '/webhooks')).webhooks[0].concurrency).toBe(2);
    // From the keyboard: the control keeps the focus through the reload its change sets off.
    await atOnce.focus();
    const before = await atOnce.elementHandle();
    await atOnce.selectOption('4');
    await page.locator('#webhooks-status:has-text("up to 4 at once")').waitFor({ timeout: 5000 });
    // The list read again (the change's audit entry): the row is a new one.
    await page.waitForFunction((el) => !el?.isConnected, before, { timeout: 5000 });
    expect(await page.evaluate(() => document.activeElement?.matches('select.concurrency') ?? false)).toBe(true);
    expect(await atOnce.inputValue()).toBe('4');
    // Events per request: the same, its own select keeping the focus.
    const perRequest = page.locator(`#webhooks tr[data-webhook="${hook.id}"] select.batch-size`);
    expect(await perRequest.inputValue()).toBe('50');
    await perRequest.focus();
    const shown = await perRequest.elementHandle();
    await perRequest.selectOption('10');
    await page.locator('#webhooks-status:has-text("up to 10 events per request")').waitFor({ timeout: 5000 });
    expect((await admin.ok('GET', '/webhooks')).webhooks[0]).toMatchObject({ concurrency: 4, batchSize: 10 });
    await page.waitForFunction((el) => !el?.isConnected, shown, { timeout: 5000 });
    expect(await page.evaluate(() => document.activeElement?.matches('select.batch-size') ?? false)).toBe(true);
    expect(await perRequest.inputValue()).toBe('10');
    expect(await page.getByRole('combobox', { name: `Events per request to ${hookUrl}`, exact: true }).count()).toBe(1);

    await granted(url, await sign(license, { sid: 'w1' }));
    await expect.poll(() => hits.length, { timeout: 5000 }).toBeGreaterThan(0);
    await page.click(`#webhooks tr[data-webhook="${hook.id}"] button.deliveries`);
    await page.locator('#deliveries tbody tr').first().waitFor({ timeout: 5000 });
    const cells = await page.locator('#deliveries tbody tr').first().locator('td').allTextContents();
    expect(cells[0]).toContain('session.started');
    expect(cells[1]).toContain('delivered');
    expect(cells[2]).toBe('1');
    expect(cells[4]).toBe('HTTP 204');
    await screenshot(page, 'dashboard-webhooks');
    // On a laptop: the table with both settings' columns fits the panel (no sideways scrolling).
    expect(await page.locator('#webhooks-panel .scroll').first().evaluate((el) => el.scrollWidth <= el.clientWidth + 1)).toBe(true);
    // On a phone: the panel and its deliveries fit the width.
    const phone = await chrome.newPage(await chrome.newContext(PHONE));
    await signIn(phone, url, tenant.adminToken, license.id);
    await phone.click(`#webhooks tr[data-webhook="${hook.id}"] button.deliveries`);
    await phone.locator('#deliveries tbody tr').first().waitFor({ timeout: 5000 });
    expect(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
    await screenshot(phone.locator('#webhooks-panel'), 'dashboard-webhooks-phone');

    await page.click(`#webhooks tr[data-webhook="${hook.id}"] button.delete`);
    await page.click('#confirm-cancel');
    expect((await admin.ok('GET', '/webhooks')).webhooks).toHaveLength(1);
    await page.click(`#webhooks tr[data-webhook="${hook.id}"] button.delete`);
    await page.click('#confirm-ok');
    await page.locator('#webhooks-status:has-text("Deleted the webhook")').waitFor({ timeout: 5000 });
    expect((await admin.ok('GET', '/webhooks')).webhooks).toEqual([]);
    // The list follows the audit log: a webhook added through the API (another board) shows up.
    const other = await admin.ok('POST', '/webhooks', { url: `${hookUrl}/2`, events: ['license.changed'] });
    await page.locator(`#webhooks tr[data-webhook="${other.id}"]`).waitFor({ timeout: 5000 });
    expect(await page.textContent('#webhooks-status')).toContain('Deleted the webhook');
  });
});
