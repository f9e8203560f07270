// Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by playwright-core
// (no browser download). Under CI=true a missing browser fails the tests; locally they skip.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, errors, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect } from 'vitest';
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

/**
 * Whether screenshots are saved: yes, unless under CI=true (a CI machine keeps no artifacts, and
 * the captures were a third of the browser tests' time); SCREENSHOTS=1 saves them there too,
 * SCREENSHOTS=0 saves none anywhere.
 */
const SAVE_SHOTS = process.env.SCREENSHOTS === undefined || process.env.SCREENSHOTS === '' ? process.env.CI !== 'true' : process.env.SCREENSHOTS !== '0';

/**
 * Saves a screenshot as a test artifact (test-results/ is ignored by git). It is for people to look
 * at, not an assertion: Chromium's capture can stall on a loaded machine (microsoft/playwright#28995),
 * so one that takes longer than SHOT_TIMEOUT_MS is reported on stderr and the test goes on.
 */
export async function screenshot(target: Page | Locator, name: string, opts: { fullPage?: boolean } = {}): Promise<void> {
  if (!SAVE_SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, `${name}.png`);
  try {
    if ('goto' in target) await target.screenshot({ path: file, fullPage: opts.fullPage ?? true, timeout: SHOT_TIMEOUT_MS });
    else await target.screenshot({ path: file, timeout: SHOT_TIMEOUT_MS });
  } catch (err) {
    if (!(err instanceof errors.TimeoutError)) throw err;
    process.stderr.write(`screenshot "${name}" not saved: no capture within ${SHOT_TIMEOUT_MS} ms\n`);
  }
}

const SHOT_TIMEOUT_MS = 8000;
/**
 * How long a page step (a click, a fill, a wait with no timeout of its own) may take: under a
 * test's own 30 s, so a step that hangs fails with its name and call log.
 */
export const STEP_TIMEOUT_MS = 10_000;

export const LAPTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/**
 * One Chromium for the test file. Each test's browser contexts are closed after it (while its
 * server still runs), and a script error, a CSP violation or a failed load on any page fails it.
 */
export function useBrowser(): { newContext(viewport?: typeof LAPTOP): Promise<BrowserContext>; newPage(context: BrowserContext): Promise<Page> } {
  let browser: Browser | undefined;
  let pageErrors: Error[] = [];
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close()));
    const errors = pageErrors;
    pageErrors = [];
    expect(errors.map((e) => e.message)).toEqual([]);
  });
  return {
    async newContext(viewport = LAPTOP) {
      const context = await browser!.newContext({ viewport });
      context.setDefaultTimeout(STEP_TIMEOUT_MS);
      contexts.push(context);
      return context;
    },
    async newPage(context) {
      const page = await context.newPage();
      page.on('pageerror', (err) => pageErrors.push(err));
      // Console errors include Content-Security-Policy violations and failed loads. (An API's
      // 4xx reply is the page's to show, as the settings form does with a 422.)
      page.on('console', (m) => {
        const apiRefusal = m.location().url.includes('/api/v1/') && /status of 4\d\d/.test(m.text());
        if (m.type() === 'error' && !apiRefusal) pageErrors.push(new Error(`console: ${m.text()} (${m.location().url})`));
      });
      return page;
    },
  };
}
