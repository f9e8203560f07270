// The dashboard's license card shows a license's activations against its maxActivations
// ("2 of 3 activations"), and follows a deactivation live.
import { expect, it } from 'vitest';
import { granted, sign, startServer, until } from '../support/harness';
import { describeBrowser, useBrowser, withPages } from './browser';

const chrome = useBrowser();

describeBrowser('dashboard activations', () => {
  it('shows "N of M activations" on the card of a license that counts them, and the count a deactivation leaves', async () => {
    const { url, api } = await startServer({ routes: withPages });
    const { license, tenant, admin } = await api.setup({ name: 'POS', seats: 3, seatKey: ['device'], maxActivations: 3 });
    const plain = await admin.ok('POST', '/licenses', { name: 'Planner', seats: 2 });
    for (const dev of ['till-1', 'till-2']) await granted(url, await sign(license, { dev }));
    const page = await chrome.newPage(await chrome.newContext());
    await page.goto(`${url}/admin`);
    await page.fill('#token', tenant.adminToken);
    await page.click('#signin-form button[type=submit]');
    const card = page.locator(`.card[data-license="${license.id}"]`);
    await card.locator('text=2 of 3 activations').waitFor({ timeout: 5000 });
    // A license without a limit shows no activations line.
    expect(await page.locator(`.card[data-license="${plain.id}"]`).textContent()).not.toContain('activations');
    await admin.ok('DELETE', `/licenses/${license.id}/activations/till-1`);
    await card.locator('text=1 of 3 activations').waitFor({ timeout: 5000 });
  });

  it('deactivates devices named ".." and "." from the license panel, and the license and its other devices stay', async () => {
    const { url, api } = await startServer({ routes: withPages });
    const { license, tenant, admin } = await api.setup({ name: 'Dots', seats: 3, seatKey: ['device'], maxActivations: 5 });
    const good = await granted(url, await sign(license, { dev: 'good-device' }));
    for (const dev of ['..', '.']) await granted(url, await sign(license, { dev }));
    const page = await chrome.newPage(await chrome.newContext());
    await page.goto(`${url}/admin`);
    await page.fill('#token', tenant.adminToken);
    await page.click('#signin-form button[type=submit]');
    const rows = page.locator('#activations tr[data-device]');
    await until(async () => (await rows.count()) === 3, 5000);
    for (const dev of ['..', '.']) {
      await page.click(`#activations tr[data-device="${dev}"] button.deactivate`);
      await page.locator('#confirm-dialog').waitFor();
      await page.click('#confirm-ok');
      await page.locator(`#activations tr[data-device="${dev}"]`).waitFor({ state: 'detached', timeout: 5000 });
      expect(await page.textContent('#activations-status')).toBe(`Deactivated ${dev}.`);
    }
    expect((await admin.call('GET', `/licenses/${license.id}`)).status).toBe(200);
    expect((await admin.ok('GET', `/licenses/${license.id}/activations`)).activations.map((a: any) => a.deviceId)).toEqual(['good-device']);
    expect(good.socket.connected).toBe(true);
  });
});
