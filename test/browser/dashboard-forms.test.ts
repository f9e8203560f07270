// The settings form explains itself: allowed ranges shown up front, each error beside its own field
// in the form's words (whether the page or the server found it), and a confirmation naming the
// sessions that would end before seats are lowered below those in use or the license is suspended.
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { granted, nextEvent, sign, startServer, until } from '../support/harness';
import { describeBrowser, screenshot, useBrowser, withPages } from './browser';

const chrome = useBrowser();

async function signedIn(url: string, token: string): Promise<Page> {
  const page = await chrome.newPage(await chrome.newContext());
  await page.goto(`${url}/admin`);
  await page.fill('#token', token);
  await page.click('#signin-form button[type=submit]');
  await page.locator('#board').waitFor({ state: 'visible', timeout: 5000 });
  await page.locator('#f-seats').waitFor();
  return page;
}

/** The error shown in the same field block as the control, and whether the control points to it. */
const besideField = (page: Page, name: string) =>
  page.evaluate((name) => {
    const input = document.getElementById(`f-${name}`)!;
    const error = input.closest('.field')?.querySelector('.field-error');
    return {
      text: error?.textContent ?? null,
      invalid: input.getAttribute('aria-invalid'),
      described: (input.getAttribute('aria-describedby') ?? '').split(' ').includes(error?.id ?? '-'),
    };
  }, name);

const save = (page: Page) => page.click('#settings button[type=submit]');

describeBrowser('dashboard settings form', () => {
  it('shows the allowed ranges up front and puts each error beside its own field, in words', async () => {
    const { url, api } = await startServer({ routes: withPages });
    const { license, tenant } = await api.setup({ seats: 2, seatCap: 5, idleTimeoutSec: 60 });
    const page = await signedIn(url, tenant.adminToken);

    // The bounds before anything is typed: the server's idle-timeout bounds and the plan's cap.
    expect(await page.textContent('#hint-idleTimeoutSec')).toContain('Between 1 and 3600 seconds');
    expect(await page.getAttribute('#f-idleTimeoutSec', 'min')).toBe('1');
    expect(await page.getAttribute('#f-idleTimeoutSec', 'max')).toBe('3600');
    expect(await page.textContent('#hint-seats')).toContain("A whole number from 0 to 5 (the plan's cap).");
    expect(await page.getAttribute('#f-seats', 'max')).toBe('5');
    // The denied message is a textarea.
    expect(await page.evaluate(() => document.getElementById('f-deniedMessage')?.tagName)).toBe('TEXTAREA');

    // Two wrong fields at once: each error beside its own field.
    await page.fill('#f-seats', '2.5');
    await page.fill('#f-idleTimeoutSec', '99999');
    await page.fill('#f-deniedMessage', '   ');
    await save(page);
    expect(await besideField(page, 'seats')).toEqual({ text: 'Seats must be a whole number.', invalid: 'true', described: true });
    expect(await besideField(page, 'idleTimeoutSec')).toEqual({ text: 'Idle timeout must be between 1 and 3600 seconds.', invalid: 'true', described: true });
    expect(await besideField(page, 'deniedMessage')).toEqual({ text: 'Enter the message people see when no seat is free.', invalid: 'true', described: true });
    expect(await page.textContent('#settings-status')).toBe('3 fields need a change before saving.');
    // Focus goes to the first field to mend.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('f-seats');
    await screenshot(page, 'dashboard-form-errors');

    // Mending a field clears its error; the others stay until saved again.
    await page.fill('#f-seats', '9');
    expect((await besideField(page, 'seats')).text).toBe('');
    await page.fill('#f-idleTimeoutSec', '60');
    await page.fill('#f-deniedMessage', 'Ask Dana for a seat');
    await save(page);
    expect(await besideField(page, 'seats')).toEqual({ text: "Seats can't be more than the plan's cap of 5.", invalid: 'true', described: true });
    expect((await besideField(page, 'idleTimeoutSec')).text).toBe('');

    // What only the server knows (here: a character that reverses the text direction) comes back
    // from the REST API and is placed beside its field too, in the same kind of words.
    await page.fill('#f-seats', '3');
    await page.fill('#f-deniedMessage', 'Ask \u202eDana');
    await save(page);
    await page.locator('#err-deniedMessage', { hasText: "Denied message can't contain control characters" }).waitFor({ timeout: 2000 });
    expect((await besideField(page, 'seats')).text).toBe('');
    // No raw validator text anywhere on the page.
    expect(await page.locator('#license').textContent()).not.toMatch(/expected|received|deniedMessage|idleTimeoutSec/);
    expect((await api.ok('GET', `/licenses/${license.id}`)).seats).toBe(2);

    await page.fill('#f-deniedMessage', 'Ask Dana for a seat');
    await save(page);
    await page.locator('#settings-status', { hasText: 'Saved' }).waitFor({ timeout: 2000 });
    expect(await api.ok('GET', `/licenses/${license.id}`)).toMatchObject({ seats: 3, deniedMessage: 'Ask Dana for a seat' });
    expect(await page.locator('#settings [aria-invalid]').count()).toBe(0);
  });

  it('asks before lowering seats below those in use, naming the sessions that would end, newest first; Cancel changes nothing', async () => {
    const { url, api } = await startServer({ routes: withPages });
    const { license, tenant, admin } = await api.setup({ seats: 3 });
    const page = await signedIn(url, tenant.adminToken);
    const ann = await granted(url, await sign(license, { sid: 'a', name: 'Ann' }));
    await new Promise((r) => setTimeout(r, 20));
    const ben = await granted(url, await sign(license, { sid: 'b', name: 'Ben' }));
    await new Promise((r) => setTimeout(r, 20));
    const cat = await granted(url, await sign(license, { sid: 'c', name: 'Cat' }));
    await page.locator('#seats-in-use', { hasText: '3' }).waitFor({ timeout: 2000 });

    await page.fill('#f-seats', '1');
    await save(page);
    const dialog = page.getByRole('alertdialog', { name: 'Lower seats to 1?' });
    await dialog.waitFor({ timeout: 2000 });
    expect(await dialog.locator('#confirm-lead').textContent()).toBe('3 seats are in use. Lowering to 1 ends 2 sessions now, newest first:');
    expect(await dialog.locator('.ending li .name').allTextContents()).toEqual(['Cat', 'Ben']);
    // The safe answer has the focus.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('confirm-cancel');
    await screenshot(page, 'dashboard-confirm-lower-seats');

    await page.keyboard.press('Enter'); // Cancel
    await page.locator('#confirm-dialog').waitFor({ state: 'detached' });
    expect(await page.textContent('#settings-status')).toBe('Not saved: nothing changed.');
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seats).toBe(3);
    expect((await admin.ok<{ sessions: unknown[] }>('GET', `/licenses/${license.id}/sessions`)).sessions).toHaveLength(3);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('settings-save');

    // Escape cancels too.
    await save(page);
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await page.locator('#confirm-dialog').waitFor({ state: 'detached' });
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seats).toBe(3);

    // Confirmed: the two newest end with seats_reduced, the oldest keeps its seat.
    await save(page);
    const catEnded = nextEvent(cat.socket, 'session:ended');
    const benEnded = nextEvent(ben.socket, 'session:ended');
    await page.click('#confirm-dialog #confirm-ok');
    expect(await catEnded).toMatchObject({ reason: 'seats_reduced' });
    expect(await benEnded).toMatchObject({ reason: 'seats_reduced' });
    await page.locator('#settings-status', { hasText: 'Saved' }).waitFor({ timeout: 2000 });
    await page.locator('#sessions tbody tr[data-session]').nth(1).waitFor({ state: 'detached', timeout: 2000 });
    expect(await page.locator('#sessions tbody tr[data-session]').getAttribute('data-session')).toBe(ann.grant.sessionId);
  });

  it('asks before suspending, naming every session; Cancel changes nothing', async () => {
    const { url, api } = await startServer({ routes: withPages });
    const { license, tenant, admin } = await api.setup({ name: 'Planner', seats: 2 });
    const page = await signedIn(url, tenant.adminToken);
    const ann = await granted(url, await sign(license, { sid: 'a', name: 'Ann' }));
    await granted(url, await sign(license, { sid: 'b', name: 'Ben' }));
    await page.locator('#seats-in-use', { hasText: '2' }).waitFor({ timeout: 2000 });

    await page.click('#status-toggle');
    const dialog = page.getByRole('alertdialog', { name: 'Suspend Planner?' });
    await dialog.waitFor({ timeout: 2000 });
    expect(await dialog.locator('#confirm-lead').textContent()).toContain('ends all 2 sessions');
    expect(await dialog.locator('.ending li').count()).toBe(2);
    expect(await dialog.locator('#confirm-ok').textContent()).toBe('Suspend and end 2 sessions');
    await screenshot(page, 'dashboard-confirm-suspend');
    await dialog.locator('#confirm-cancel').click();
    await page.locator('#confirm-dialog').waitFor({ state: 'detached' });
    await new Promise((r) => setTimeout(r, 200));
    expect((await admin.ok('GET', `/licenses/${license.id}`)).status).toBe('active');
    expect(ann.socket.connected).toBe(true);

    const ended = nextEvent(ann.socket, 'session:ended');
    await page.click('#status-toggle');
    await page.click('#confirm-dialog #confirm-ok');
    expect(await ended).toMatchObject({ reason: 'license_suspended' });
    await until(async () => (await admin.ok('GET', `/licenses/${license.id}`)).status === 'suspended');
    await page.locator('#status-toggle', { hasText: 'Restore' }).waitFor({ timeout: 2000 });
  });
});
