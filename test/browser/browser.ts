// Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by playwright-core
// (no browser download). Under CI=true a missing browser fails the tests; locally they skip.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { describe } from 'vitest';
import { mountPages } from '../../server/http/pages';
import type { SeatServerOptions } from '../../server/seat-server';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
const mustRun = process.env.CI === 'true';

/** `describe` when the browser can run (always under CI), else a skip that says why. */
export function describeBrowser(name: string, fn: () => void): void {
  if (!available && !mustRun) {
    process.stdout.write(`skipping "${name}": no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)\n`);
    describe.skip(name, fn);
    return;
  }
  describe(name, fn);
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Playwright gives each launch a fresh temporary profile; these keep Chromium off the network.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Mounts the dashboard and demo pages on a test server. */
export const withPages: SeatServerOptions['routes'] = (app, ctx) => mountPages(app, ctx);

const SHOTS = path.resolve(import.meta.dirname, '../../test-results/browser');

/** Saves a screenshot as a test artifact (test-results/ is ignored by git). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

export const LAPTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };
