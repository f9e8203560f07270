// What the history and summary browser tests share: a server on a store the test also writes to,
// so a license can have hours and days of past (created, full, raised) before the page opens, and
// a Chromium context in a chosen time zone and colour scheme.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { hashToken } from '../../server/seats/administration';
import type { SeatStore } from '../../server/seats/seat-store';
import { type License, POLICY_DEFAULTS } from '../../server/seats/types';
import { SqliteSeatStore } from '../../server/store/sqlite-store';
import { startServer, tempDir } from '../support/harness';
import { claimant } from '../store/store-dialects';
import { STEP_TIMEOUT_MS, launchBrowser, withPages } from './browser';

export const H = 3_600_000;
export const DAY = 24 * H;

/** A server on its own SQLite file, with a tenant whose admin token is returned. */
export async function serverWithStore(): Promise<{ url: string; store: SeatStore; tenantToken: string; newLicense(fields: Partial<License>): Promise<License> }> {
  const store = SqliteSeatStore.open(path.join(tempDir('seats-history-'), 'seats.db'));
  const { url } = await startServer({ store, routes: withPages });
  const tenantId = randomUUID();
  const tenantToken = `tat_${randomUUID()}`;
  await store.createTenant({ id: tenantId, name: 'Acme', createdAt: Date.now() - 30 * DAY }, hashToken(tenantToken));
  const newLicense = (fields: Partial<License>) =>
    store.createLicense({
      id: `lic_${randomUUID().slice(0, 8)}`,
      tenantId,
      name: 'Design studio',
      seats: 1,
      seatCap: null,
      seatKey: ['session'],
      idleTimeoutSec: 60,
      status: 'active',
      deniedMessage: 'No free seats',
      ...POLICY_DEFAULTS,
      secret: 's'.repeat(32),
      createdAt: Date.now(),
      updatedAt: Date.now(),
      ...fields,
    });
  return { url, store, tenantToken, newLicense };
}

/** A session of `key` holding a seat from `from` to `to` (past times, written straight to the store). */
export async function held(store: SeatStore, license: License, key: string, from: number, to: number): Promise<void> {
  const o = await store.admit({ licenseId: license.id, socketId: randomUUID(), nodeId: 'past-node', claimant: claimant(key), now: from });
  if (o.kind !== 'granted') throw new Error(`expected a grant, got ${o.kind}`);
  await store.endSession(o.session.id, 'ended_by_app', to);
}

/** One Chromium for the file; contexts in a time zone and colour scheme; page errors fail the test. */
export function useZonedBrowser() {
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  let errors: string[] = [];
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => browser?.close());
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close()));
    const seen = errors;
    errors = [];
    expect(seen).toEqual([]);
  });
  return async (opts: { timezoneId: string; colorScheme?: 'light' | 'dark'; viewport?: { width: number; height: number } }): Promise<Page> => {
    const context = await browser!.newContext({ viewport: opts.viewport ?? { width: 1280, height: 800 }, timezoneId: opts.timezoneId, colorScheme: opts.colorScheme ?? 'light' });
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()} (${m.location().url})`);
    });
    return page;
  };
}

export async function signIn(page: Page, url: string, token: string, licenseId: string): Promise<void> {
  await page.goto(`${url}/admin#license=${encodeURIComponent(licenseId)}`);
  await page.fill('#token', token);
  await page.click('#signin-form button[type=submit]');
  await page.locator('#history .charts[data-seats]').waitFor({ timeout: 10_000 });
}
