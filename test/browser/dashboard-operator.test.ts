// The operator's views on the board (issue 13 sections 6 and 7), in Chromium: tenants created
// from the board (their token shown once) and their names on the license cards, a token rotated,
// a license deleted (its card goes here and on a tenant admin's board), the license form's new
// settings with their ranges and field-level errors, sessions with a leases badge, an inactivity
// countdown and an offline hold, activations with a Deactivate button, and an audit log that says
// what changed from what to what. Screenshots in light and dark mode and at phone width.
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { granted, nextEvent, OPERATOR_TOKEN, sign, startServer, until } from '../support/harness';
import { describeBrowser, PHONE, screenshot, useBrowser, withPages } from './browser';

const chrome = useBrowser();

async function signedIn(url: string, token: string, viewport?: typeof PHONE): Promise<Page> {
  const page = await chrome.newPage(await chrome.newContext(viewport));
  await page.goto(`${url}/admin`);
  await page.fill('#token', token);
  await page.click('#signin-form button[type=submit]');
  await page.locator('#board').waitFor({ state: 'visible', timeout: 5000 });
  return page;
}

/** Light, dark and phone screenshots of the page as it is. */
async function shots(page: Page, name: string): Promise<void> {
  await screenshot(page, `${name}-light`);
  await page.emulateMedia({ colorScheme: 'dark' });
  await screenshot(page, `${name}-dark`);
  await page.emulateMedia({ colorScheme: 'light' });
}

describeBrowser('dashboard: what an operator needs', () => {
  it('creates a tenant from the board, shows its token once, names it on license cards, and rotates its token', async () => {
    const { url, api } = await startServer({ routes: withPages });
    const page = await signedIn(url, OPERATOR_TOKEN);
    await page.locator('#tenants-panel').waitFor({ state: 'visible' });

    // A field-level error for an empty name, nothing created.
    await page.click('#tenant-create');
    expect(await page.textContent('#tenant-name-error')).toBe('Enter a name for the tenant.');
    expect(await page.getAttribute('#tenant-name', 'aria-invalid')).toBe('true');

    await page.fill('#tenant-name', 'Acme Engineering');
    await page.click('#tenant-create');
    const dialog = page.locator('#secret-dialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('Shown only once.');
    const token = await page.inputValue('#secret-value');
    expect(token).toMatch(/^tat_/);
    await shots(page, 'operator-token-once');
    // Copy says whether it copied (or how to copy by hand); the focus starts on it.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('secret-copy');
    await page.keyboard.press('Enter');
    await page.locator('#copy-status', { hasText: /Copied\.|copy it yourself/ }).waitFor({ timeout: 3000 });
    await page.click('#secret-done');
    await dialog.waitFor({ state: 'detached' });

    const [tenant] = (await api.ok('GET', '/tenants')).tenants;
    expect(tenant.name).toBe('Acme Engineering');
    await page.locator(`#tenants tr[data-tenant="${tenant.id}"]`).waitFor();
    // The token works, and a license of the tenant shows its name (not its id) on the card.
    const license = await api.as(token).ok('POST', '/licenses', { name: 'CAD seats', seats: 3 });
    const card = page.locator(`.card[data-license="${license.id}"]`);
    await card.locator('.card-tenant', { hasText: 'Acme Engineering' }).waitFor({ timeout: 5000 });
    expect(await card.textContent()).not.toContain(tenant.id);
    // The tenant's license count follows.
    await page.locator(`#tenants tr[data-tenant="${tenant.id}"] td[data-label="Licenses"]`, { hasText: /^1$/ }).waitFor({ timeout: 5000 });
    await shots(page, 'operator-tenants');

    // Rotating asks first; Cancel changes nothing.
    await page.click(`#tenants tr[data-tenant="${tenant.id}"] button.rotate-token`);
    await page.locator('#confirm-dialog').waitFor();
    await page.click('#confirm-cancel');
    expect((await api.as(token).call('GET', '/licenses')).status).toBe(200);
    await page.click(`#tenants tr[data-tenant="${tenant.id}"] button.rotate-token`);
    await page.click('#confirm-ok');
    await page.locator('#secret-dialog').waitFor();
    const rotated = await page.inputValue('#secret-value');
    await page.click('#secret-done');
    expect(rotated).not.toBe(token);
    expect((await api.as(token).call('GET', '/licenses')).status).toBe(401);
    expect((await api.as(rotated).call('GET', '/licenses')).status).toBe(200);

    // Phone width: the tenants panel stacks.
    const phone = await signedIn(url, OPERATOR_TOKEN, PHONE);
    await phone.locator(`#tenants tr[data-tenant="${tenant.id}"]`).waitFor();
    await shots(phone, 'operator-tenants-phone');
    // A token shown once shows whole at a phone's width too: wrapped, none of it out of sight.
    await phone.click(`#tenants tr[data-tenant="${tenant.id}"] button.rotate-token`);
    await phone.click('#confirm-ok');
    await phone.locator('#secret-dialog').waitFor();
    const fits = await phone.evaluate(() => {
      const field = document.getElementById('secret-value') as HTMLTextAreaElement;
      return { value: field.value, wide: field.scrollWidth <= field.clientWidth, tall: field.scrollHeight <= field.clientHeight + 1, inView: field.getBoundingClientRect().right <= window.innerWidth };
    });
    expect(fits).toMatchObject({ wide: true, tall: true, inView: true });
    expect(fits.value).toMatch(/^tat_/);
    await screenshot(phone, 'operator-token-once-phone', { fullPage: false });
    await phone.click('#secret-done');
  });

  it('deletes a license from the board: the sessions are told, the card goes here and on the tenant’s board', async () => {
    const { url, api } = await startServer({ routes: withPages });
    const { license, tenant, admin } = await api.setup({ name: 'Old plan', seats: 2 });
    const keep = await admin.ok('POST', '/licenses', { name: 'Keep', seats: 1 });
    const held = await granted(url, await sign(license, { sid: 'p1', name: 'Ada' }));

    const page = await signedIn(url, OPERATOR_TOKEN);
    const watcher = await signedIn(url, tenant.adminToken);
    await page.click(`.card[data-license="${license.id}"]`);
    await page.click('#license-delete');
    await page.locator('#confirm-dialog').waitFor();
    const question = await page.textContent('#confirm-dialog');
    expect(question).toContain('Delete Old plan?');
    expect(question).toContain('Ada');
    await shots(page, 'operator-delete-confirm');
    // Listened for only now: the sign-ins above may take seconds on a loaded machine.
    const told = nextEvent(held.socket, 'session:ended');
    await page.click('#confirm-ok');

    expect(await told).toEqual({ reason: 'license_deleted', message: 'This license was deleted' });
    for (const p of [page, watcher]) await p.locator(`.card[data-license="${license.id}"]`).waitFor({ state: 'detached', timeout: 5000 });
    expect(await watcher.locator(`.card[data-license="${keep.id}"]`).count()).toBe(1);
    expect((await admin.call('GET', `/licenses/${license.id}`)).status).toBe(404);
    // The deletion reads well in the audit log.
    await page.locator('#audit tr', { hasText: 'License deleted' }).waitFor();
  });

  it("moves a license to another tenant (REST): its card goes from the old tenant's board and comes on the new one's; the audit log names both", async () => {
    const { url, api } = await startServer({ routes: withPages });
    const from = await api.setup({ name: 'Roaming plan', seats: 2 });
    const to = await api.ok('POST', '/tenants', { name: 'Harbour Office' });
    await api.ok('POST', '/licenses', { tenantId: to.id, name: 'Harbour desk', seats: 1 });
    const oldBoard = await signedIn(url, from.tenant.adminToken);
    const newBoard = await signedIn(url, to.adminToken);
    const page = await signedIn(url, OPERATOR_TOKEN);
    await oldBoard.locator(`.card[data-license="${from.license.id}"]`).waitFor();
    expect(await newBoard.locator(`.card[data-license="${from.license.id}"]`).count()).toBe(0);

    await api.ok('PATCH', `/licenses/${from.license.id}`, { tenantId: to.id });
    await oldBoard.locator(`.card[data-license="${from.license.id}"]`).waitFor({ state: 'detached', timeout: 5000 });
    await newBoard.locator(`.card[data-license="${from.license.id}"]`).waitFor({ timeout: 5000 });
    const moved = page.locator('#audit tr', { hasText: 'License moved to another tenant' });
    await moved.waitFor();
    expect(await moved.textContent()).toContain('Harbour Office');
    // The tenants panel counts it under its new tenant.
    await page.locator(`#tenants tr[data-tenant="${to.id}"] td[data-label="Licenses"]`, { hasText: '2' }).waitFor();
    await page.locator(`#tenants tr[data-tenant="${from.tenant.id}"] td[data-label="Licenses"]`, { hasText: '0' }).waitFor();
    await page.locator('#audit-heading').scrollIntoViewIfNeeded();
    await shots(page, 'operator-license-move');
  });

  it("shows the new settings with their ranges, a field-level error, and saves them; the audit log shows from what to what", async () => {
    const { url, api } = await startServer({ routes: withPages, config: { inactivityTimeoutMinSec: 30, inactivityTimeoutMaxSec: 7200 } });
    const { license, tenant } = await api.setup({ name: 'Lab', seats: 4 });
    const page = await signedIn(url, tenant.adminToken);
    await page.locator('#f-inactivityTimeoutSec').waitFor();

    expect(await page.textContent('#hint-inactivityTimeoutSec')).toContain('Empty: off. Between 30 and 7200 seconds');
    expect(await page.getAttribute('#f-inactivityTimeoutSec', 'min')).toBe('30');
    expect(await page.getAttribute('#f-inactivityTimeoutSec', 'max')).toBe('7200');
    expect(await page.textContent('#hint-maxActivations')).toContain('Empty: unlimited. From 1 to 1000000');
    expect(await page.textContent('#hint-leaseIntervalSec')).toContain('Between 10 and 2592000 seconds');
    expect(await page.textContent('#hint-offlineGraceSec')).toContain('0: off.');
    expect(await page.textContent('#hint-inactivityWarningSec')).toContain('Between 0 and 86400 seconds');
    expect(await page.inputValue('#f-inactivityTimeoutSec')).toBe('');

    await page.fill('#f-inactivityTimeoutSec', '10');
    await page.fill('#f-leaseIntervalSec', '5');
    // A number input takes 1e3 as 1000: the form does not.
    await page.fill('#f-seats', '1e3');
    await page.click('#settings-save');
    const errorOf = (name: string) => page.textContent(`#err-${name}`);
    expect(await errorOf('seats')).toBe('Seats must be a number.');
    expect(await errorOf('inactivityTimeoutSec')).toBe('Inactivity timeout must be between 30 and 7200 seconds.');
    expect(await errorOf('leaseIntervalSec')).toBe('Lease interval must be between 10 and 2592000 seconds.');
    expect(await page.getAttribute('#f-inactivityTimeoutSec', 'aria-invalid')).toBe('true');
    // The first field at fault has the focus.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('f-seats');
    await shots(page, 'operator-settings-errors');
    expect((await api.ok('GET', `/licenses/${license.id}`)).inactivityTimeoutSec).toBeNull();
    expect((await api.ok('GET', `/licenses/${license.id}`)).seats).toBe(4);

    await page.fill('#f-seats', '4');
    await page.fill('#f-inactivityTimeoutSec', '600');
    await page.fill('#f-leaseIntervalSec', '120');
    await page.fill('#f-maxActivations', '3');
    await page.click('#settings-save');
    await page.locator('#settings-status', { hasText: 'Saved' }).waitFor();
    expect(await api.ok('GET', `/licenses/${license.id}`)).toMatchObject({ inactivityTimeoutSec: 600, leaseIntervalSec: 120, maxActivations: 3 });

    // Emptying an optional field turns it off again (null).
    await page.fill('#f-maxActivations', '');
    await page.click('#settings-save');
    await until(async () => (await api.ok('GET', `/licenses/${license.id}`)).maxActivations === null, 5000);

    const row = page.locator('#audit tr', { hasText: 'License changed' }).first();
    await row.locator('li', { hasText: 'max activations: 3 → unlimited' }).waitFor({ timeout: 5000 });
    const older = page.locator('#audit tr', { hasText: 'inactivity timeout (s): off → 600' });
    await older.waitFor();
    expect(await older.textContent()).toContain('lease interval (s): 3600 → 120');
    // Times say their zone.
    expect(await page.locator('#audit time').first().textContent()).toMatch(/(UTC|GMT)/);
    // The filter: only secret rotations (there are none).
    await page.selectOption('#audit-action', 'license.secret-rotate');
    await page.locator('#audit td', { hasText: 'No admin actions match.' }).waitFor();
    await page.selectOption('#audit-action', '');
    await page.locator('#audit tr', { hasText: 'License changed' }).first().waitFor();
    await page.locator('#audit-heading').scrollIntoViewIfNeeded();
    await shots(page, 'operator-audit');
  });

  it('creates a license from the board: the same fields and ranges, errors beside their fields, the secret shown once', async () => {
    const { url, api } = await startServer({ routes: withPages, config: { inactivityTimeoutMinSec: 30, inactivityTimeoutMaxSec: 7200 } });
    const { tenant } = await api.setup({ name: 'Existing' });
    const page = await signedIn(url, OPERATOR_TOKEN);
    await page.locator(`#tenants tr[data-tenant="${tenant.id}"]`).waitFor();
    await page.click('#license-new');
    await page.locator('#new-license-dialog').waitFor();
    expect(await page.textContent('#n-inactivityTimeoutSec-hint')).toContain('Between 30 and 7200 seconds');
    expect(await page.textContent('#n-leaseIntervalSec-hint')).toContain('Between 10 and 2592000 seconds');

    await page.fill('#n-seats', '3');
    await page.fill('#n-inactivityTimeoutSec', '5');
    await page.click('#new-license-ok');
    expect(await page.textContent('#n-name-err')).toBe('Enter a name for the license.');
    expect(await page.textContent('#n-inactivityTimeoutSec-err')).toBe('Inactivity timeout must be between 30 and 7200 seconds.');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('n-name');
    await shots(page, 'operator-new-license-errors');
    expect((await api.ok('GET', '/licenses')).licenses).toHaveLength(1);

    await page.fill('#n-name', 'Drafting');
    await page.selectOption('#n-tenantId', tenant.id);
    await page.selectOption('#n-seatKey', 'user-device');
    await page.fill('#n-inactivityTimeoutSec', '900');
    await page.fill('#n-maxActivations', '4');
    await page.click('#new-license-ok');
    await page.locator('#secret-dialog').waitFor();
    const secret = await page.inputValue('#secret-value');
    await page.click('#secret-done');
    const made = (await api.ok('GET', '/licenses')).licenses.find((l: any) => l.name === 'Drafting');
    expect(made).toMatchObject({ tenantId: tenant.id, seats: 3, seatKey: ['user', 'device'], inactivityTimeoutSec: 900, maxActivations: 4 });
    expect(secret.length).toBeGreaterThan(20);
    // The secret signs tokens for it; the board shows and selects the new license.
    await granted(url, await sign({ id: made.id, secret }, { sub: 'u', dev: 'd' }));
    await page.locator(`.card[data-license="${made.id}"][aria-pressed="true"]`).waitFor({ timeout: 5000 });
    expect(await page.inputValue('#f-inactivityTimeoutSec')).toBe('900');

    // At phone width the form fits the screen and scrolls within the dialog.
    const phone = await signedIn(url, OPERATOR_TOKEN, PHONE);
    await phone.click('#license-new');
    await phone.locator('#new-license-dialog').waitFor();
    expect(await phone.evaluate(() => document.getElementById('new-license-dialog')!.getBoundingClientRect().width)).toBeLessThanOrEqual(390);
    await screenshot(phone, 'operator-new-license-phone', { fullPage: false });
  });

  it('counts down a late inactivity warning from the time it told, not from a deadline gone by', async () => {
    // Sweeps 4 s apart: the first after the grant comes past the deadline (2 s) and its flush, so
    // the warning goes out late and tells of a release its 3 s after it.
    const { url, api } = await startServer({ routes: withPages, config: { sweepIntervalMs: 4000 } });
    const { license, tenant } = await api.setup({ name: 'Late warning', seats: 1, inactivityTimeoutSec: 2, inactivityWarningSec: 3 });
    const client = await granted(url, await sign(license, { sid: 'quiet', name: 'Quiet' }));
    const warning = nextEvent(client.socket, 'seat:warning', 8000);
    const page = await signedIn(url, tenant.adminToken);
    const told = Date.parse((await warning).releasesAt);
    const countdown = page.locator('#sessions tr', { hasText: 'Quiet' }).locator('[data-releases]');
    await countdown.waitFor({ timeout: 3000 });
    expect(Date.parse((await countdown.getAttribute('data-releases'))!)).toBe(told);
    expect(await countdown.textContent()).toMatch(/released in 0:0[1-3] unless used/);
  });

  it('marks a session with leases, counts down its inactivity release once warned, shows its offline hold, and deactivates a device', async () => {
    const { url, api } = await startServer({ routes: withPages });
    const { license, tenant } = await api.setup({
      name: 'Field app',
      seats: 3,
      seatKey: ['device'],
      maxActivations: 3,
      inactivityTimeoutSec: 30,
      inactivityWarningSec: 27,
      offlineGraceSec: 600,
    });
    const page = await signedIn(url, tenant.adminToken);
    const watched = granted(url, await sign(license, { dev: 'tablet-1', name: 'Kiosk' }));
    void watched.catch(() => {});
    // A client without a socket: an HTTP lease on another device.
    const leaseToken = await sign(license, { dev: 'scanner-9', name: 'Scanner' });
    const lease = await fetch(`${url}/api/v1/leases`, { method: 'POST', headers: { authorization: `Bearer ${leaseToken}` } });
    expect(lease.status).toBe(201);
    await watched;

    const scanner = page.locator('#sessions tr', { hasText: 'scanner-9' });
    await scanner.locator('.badge.lease', { hasText: '1 lease' }).waitFor({ timeout: 5000 });
    // Warned three seconds after its last activity; the countdown ticks down each second.
    const kiosk = page.locator('#sessions tr', { hasText: 'tablet-1' });
    const countdown = kiosk.locator('[data-releases]');
    await countdown.waitFor({ timeout: 8000 });
    expect(await kiosk.locator('.badge.warning').textContent()).toBe('inactive');
    const first = await countdown.textContent();
    expect(first).toMatch(/released in 0:[0-2]\d unless used/);
    await until(async () => (await countdown.textContent()) !== first, 3000);
    expect(await page.textContent('#announcer')).toMatch(/released for inactivity at/);
    // Activity clears the warning: the countdown goes from the row, patched in place.
    const row = await kiosk.elementHandle();
    (await watched).socket.emit('session:activity');
    await countdown.waitFor({ state: 'detached', timeout: 3000 });
    expect(await kiosk.elementHandle().then((r) => r?.evaluate((el, before) => el === before, row))).toBe(true);
    // Offline grace: the hold is shown with its zone.
    expect(await kiosk.locator('.hold').textContent()).toMatch(/offline hold until .*(UTC|GMT)/);

    // Activations: both devices, each with a Deactivate button that asks first.
    const rows = page.locator('#activations tr[data-device]');
    await until(async () => (await rows.count()) === 2, 5000);
    await shots(page, 'operator-sessions-activations');
    await page.click('#activations tr[data-device="scanner-9"] button.deactivate');
    await page.locator('#confirm-dialog').waitFor();
    await page.click('#confirm-ok');
    await page.locator('#activations tr[data-device="scanner-9"]').waitFor({ state: 'detached', timeout: 5000 });
    expect((await api.ok('GET', `/licenses/${license.id}/activations`)).activations.map((a: any) => a.deviceId)).toEqual(['tablet-1']);
    await scanner.waitFor({ state: 'detached', timeout: 5000 });

    const phone = await signedIn(url, tenant.adminToken, PHONE);
    await phone.locator('#sessions tr', { hasText: 'tablet-1' }).waitFor();
    await shots(phone, 'operator-sessions-phone');
  });

  it('lists a license\'s activations a page at a time, with a search by device id', async () => {
    const { url, api } = await startServer({ routes: withPages });
    const { license, tenant } = await api.setup({ name: 'Tills', seats: 100, seatKey: ['device'] });
    for (let i = 0; i < 60; i += 10) {
      await Promise.all(Array.from({ length: 10 }, async (_, j) => (await granted(url, await sign(license, { dev: `till-${String(i + j).padStart(2, '0')}` }))).socket.close()));
    }
    expect((await api.ok('GET', `/licenses/${license.id}/activations`)).activations).toHaveLength(60);
    const page = await signedIn(url, tenant.adminToken);
    const rows = page.locator('#activations tr[data-device]');
    await page.locator('#activations-summary', { hasText: '60 devices activated' }).waitFor({ timeout: 10_000 });
    expect(await rows.count()).toBe(50);
    expect(await page.textContent('#activations-more')).toBe('Show 10 more (10 not shown)');
    await page.click('#activations-more');
    expect(await rows.count()).toBe(60);
    expect(await page.isHidden('#activations-more')).toBe(true);
    await page.fill('#activations-search', 'TILL-4');
    // First activated first: the ten activated at once may come in any order among themselves.
    expect((await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-device')))).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `till-4${i}`));
    await page.fill('#activations-search', 'nobody');
    expect(await page.textContent('#activations tbody')).toBe('No device id contains “nobody”.');
  });
});
