// The session table at scale in Chromium: a license with 10,000 live sessions renders one page (50
// rows, never 10,000 in the DOM), searching narrows it, paging steps through it, and a live change
// of a session on the page patches its row in place while its Kick button keeps focus. Prints the
// figures (time to first rows, time to apply a live change, JS heap, DOM size) and saves
// screenshots in light, dark and on a phone.
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { io } from 'socket.io-client';
import { granted, nextEvent, sign } from '../support/harness';
import { bulkSessions } from '../support/bulk-sessions';
import { describeBrowser, screenshot } from './browser';
import { serverWithStore, useZonedBrowser } from './history-support';

const open = useZonedBrowser();
const N = 10_000;
/** The table's part of the screen, beside the full-page screenshot. */
async function tableShot(page: Page, name: string): Promise<void> {
  await screenshot(page, name);
  await page.locator('#sessions-heading').scrollIntoViewIfNeeded();
  await page.evaluate(() => document.getElementById('sessions-heading')!.scrollIntoView());
  await screenshot(page, `${name}-table`, { fullPage: false });
}
const user = (i: number) => `user-${String(i).padStart(5, '0')}`;

describeBrowser('session table at scale', () => {
  it('shows 10,000 sessions a page at a time: search, paging, and a live change patched in place with focus kept', async () => {
    const { url, store, tenantToken, newLicense } = await serverWithStore();
    const license = await newLicense({ seats: N + 10, idleTimeoutSec: 600 });
    const t0 = Date.now() - 2 * N * 1000;
    const started = Date.now();
    await bulkSessions(store, license.id, N, t0, (i) => ({ sessionRef: user(i), userId: user(i), name: `Person ${i}`, app: i % 2 ? 'cad' : 'viewer' }));
    process.stdout.write(`[session-table] ${N} sessions written in ${Date.now() - started} ms\n`);
    // One session through a real socket: the newest, so first when sorted newest first.
    const live = await granted(url, await sign(license, { sid: 'live-one', sub: 'zz-live', name: 'Live One', app: 'cad' }));

    // What travels: the snapshot (each license's newest 200 sessions) against every session at once,
    // and the server's time for one page of 50 (median of 5).
    const board = io(`${url}/admin`, { auth: { token: tenantToken }, transports: ['websocket'], forceNew: true, reconnection: false });
    const snapshot: any = await nextEvent(board, 'admin:snapshot');
    board.disconnect();
    expect(snapshot.sessions).toHaveLength(200);
    expect(snapshot.sessionTotals[license.id]).toBe(N + 1);
    const rest = (query: string) => fetch(`${url}/api/v1/licenses/${license.id}/sessions${query}`, { headers: { authorization: `Bearer ${tenantToken}` } });
    const everyBytes = (await (await rest('')).text()).length;
    const median = async (query: string) => {
      const ms: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        await (await rest(query)).json();
        ms.push(performance.now() - t);
      }
      return ms.sort((a, b) => a - b)[2]!;
    };
    // By start time the store reads just the page; a text search sorts the whole license.
    const byStartMs = await median('?limit=50&offset=5000');
    const searchedMs = await median('?limit=50&offset=5000&q=person');
    process.stdout.write(
      `[session-table] snapshot ${(JSON.stringify(snapshot).length / 1e3).toFixed(0)} kB (every session would be ${(everyBytes / 1e6).toFixed(1)} MB); ` +
        `GET a page of 50 at offset 5000: by start time ${byStartMs.toFixed(0)} ms, searched ${searchedMs.toFixed(0)} ms (medians of 5)\n`,
    );

    const page = await open({ timezoneId: 'UTC' });
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    /**
     * Does `act` in the page (a click on `selector`, or typing `text` into it) and measures, on the
     * page's clock, the milliseconds until the pager reads `want` (watched by a MutationObserver).
     */
    const timed = (act: { selector: string; text?: string }, want: string) =>
      page.evaluate(
        ([act, want]) =>
          new Promise<number>((resolve) => {
            const t = performance.now();
            const done = () => document.getElementById('sessions-range')?.textContent === want;
            const seen = new MutationObserver(() => {
              if (!done()) return;
              seen.disconnect();
              resolve(performance.now() - t);
            });
            seen.observe(document.body, { subtree: true, childList: true, characterData: true });
            const el = document.querySelector<HTMLInputElement>(act.selector)!;
            if (act.text === undefined) el.click();
            else {
              el.value = act.text;
              el.dispatchEvent(new Event('input', { bubbles: true }));
            }
          }),
        [act, want] as const,
      );
    const until = (want: string) => page.waitForFunction((w) => document.getElementById('sessions-range')?.textContent === w, want, { timeout: 20_000 });
    const all = (N + 1).toLocaleString('en-US');
    await page.goto(`${url}/admin#license=${encodeURIComponent(license.id)}`);
    await page.fill('#token', tenantToken);
    const firstRender = await timed({ selector: '#signin-form button[type=submit]' }, `1–50 of ${all}`);
    const rows = page.locator('#sessions tbody tr[data-session]');
    expect(await rows.count()).toBe(50);
    expect(await rows.first().locator('td.user').textContent()).toBe(user(0));
    const domNodes = await page.evaluate(() => document.getElementsByTagName('*').length);

    // Paging: the next page is the next 50, oldest first.
    const nextPage = await timed({ selector: '#sessions-next' }, `51–100 of ${all}`);
    expect(await rows.first().locator('td.user').textContent()).toBe(user(50));
    expect(await rows.count()).toBe(50);

    // Search narrows it (server side): one user, then a name fragment over many.
    // Includes the search box's 250 ms pause for typing.
    const search = await timed({ selector: '#sessions-search', text: user(1234) }, `1–1 of 1 matching (of ${all})`);
    expect(await rows.locator('td.user').allTextContents()).toEqual([user(1234)]);
    await page.fill('#sessions-search', 'Person 999');
    await until(`1–11 of 11 matching (of ${all})`);
    await page.fill('#sessions-search', '');
    await page.selectOption('#sessions-state', 'idle');
    await expect.poll(() => page.locator('#sessions tbody tr.empty').textContent()).toBe('No sessions match.');
    await page.selectOption('#sessions-state', '');

    // Newest first: the live session heads the page. Focus its Kick button, then let its socket go.
    await page.selectOption('#sessions-order', 'desc');
    await expect.poll(() => rows.first().locator('td.user').textContent()).toBe('zz-live');
    await tableShot(page, 'session-table-10k-light');
    const row = rows.first();
    await row.locator('button.kick').focus();
    await page.evaluate(() => {
      const tr = document.querySelector('#sessions tbody tr[data-session]')!;
      (window as any).__sameRow = tr;
      (window as any).__patchedAt = 0;
      new MutationObserver(() => {
        if (tr.querySelector('td.state .badge.idle') && !(window as any).__patchedAt) (window as any).__patchedAt = performance.now() + performance.timeOrigin;
      }).observe(tr, { subtree: true, childList: true, characterData: true, attributes: true });
    });
    const cut = Date.now();
    live.socket.disconnect();
    await expect.poll(() => row.locator('td.state .badge').textContent()).toBe('idle');
    const patchedAt = await page.evaluate(() => (window as any).__patchedAt as number);
    const liveChange = patchedAt - cut;
    // The same row element, patched in place, and the Kick button still has focus.
    expect(await page.evaluate(() => document.querySelector('#sessions tbody tr[data-session]') === (window as any).__sameRow)).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Kick Live One');
    expect(await rows.count()).toBe(50);
    // A new session heads the page at once; the focused Kick button moves down a row with its row.
    const two = await granted(url, await sign(license, { sid: 'live-two', sub: 'zz-two', name: 'Live Two' }));
    await expect.poll(() => rows.first().locator('td.user').textContent(), { timeout: 1500 }).toBe('zz-two');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Kick Live One');
    expect(await rows.nth(1).locator('td.user').textContent()).toBe('zz-live');
    expect(await rows.count()).toBe(50);
    await expect.poll(() => page.locator('#sessions-range').textContent()).toBe(`1–50 of ${(N + 2).toLocaleString('en-US')}`);
    two.socket.disconnect();

    const memory = await page.evaluate(() => (performance as any).memory?.usedJSHeapSize as number | undefined);
    const metrics = (await cdp.send('Performance.getMetrics')).metrics;
    const metric = (name: string) => metrics.find((m) => m.name === name)?.value;
    process.stdout.write(
      `[session-table] ${N + 1} sessions: first 50 rows ${Math.round(firstRender)} ms after sign-in; next page ${Math.round(nextPage)} ms; search ${Math.round(search)} ms (250 ms of it the typing pause); live change patched ${Math.round(liveChange)} ms after the socket closed; ` +
        `JS heap ${((metric('JSHeapUsedSize') ?? memory ?? 0) / 1e6).toFixed(1)} MB (performance.memory ${memory ? (memory / 1e6).toFixed(1) : 'n/a'} MB); ` +
        `DOM nodes ${domNodes} (CDP Nodes ${metric('Nodes')}); since the page opened: layouts ${metric('LayoutCount')}, script ${((metric('ScriptDuration') ?? 0) * 1000).toFixed(0)} ms, layout ${((metric('LayoutDuration') ?? 0) * 1000).toFixed(0)} ms\n`,
    );
    expect(firstRender).toBeLessThan(10_000);

    // Dark and phone.
    const dark = await open({ timezoneId: 'UTC', colorScheme: 'dark' });
    await dark.goto(`${url}/admin#license=${encodeURIComponent(license.id)}`);
    await dark.fill('#token', tenantToken);
    await dark.click('#signin-form button[type=submit]');
    await expect.poll(() => dark.locator('#sessions tbody tr[data-session]').count(), { timeout: 20_000 }).toBe(50);
    await tableShot(dark, 'session-table-10k-dark');
    const phone = await open({ timezoneId: 'UTC', viewport: { width: 390, height: 844 } });
    await phone.goto(`${url}/admin#license=${encodeURIComponent(license.id)}`);
    await phone.fill('#token', tenantToken);
    await phone.click('#signin-form button[type=submit]');
    await expect.poll(() => phone.locator('#sessions tbody tr[data-session]').count(), { timeout: 20_000 }).toBe(50);
    // The controls fit the phone's width: nothing scrolls the page sideways.
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await tableShot(phone, 'session-table-10k-phone');
  }, 240_000);

  it('e-mail user ids and names break at their dots and @, not mid-word, beside idle countdowns on a laptop and a phone', async () => {
    const { url, tenantToken, newLicense } = await serverWithStore();
    const license = await newLicense({ seats: 5, idleTimeoutSec: 600 });
    const people = [
      { sub: 'maximiliane.wolfeschlegelsteinhausen@subsidiary-example-company.co.uk', name: 'Maximiliane Wolfeschlegelsteinhausen', dev: 'workstation-finance-floor-3-desk-12', app: 'Financial Consolidation & Reporting Workbench' },
      { sub: 'j.doe@example.com', name: 'Jane Doe', dev: 'laptop-jd', app: 'cad' },
      { sub: 'christopher.alexander.montgomery@engineering.example.org', name: 'christopher.alexander.montgomery@engineering.example.org', dev: 'desk-7', app: 'viewer' },
    ];
    const sockets = [];
    for (const [i, p] of people.entries()) sockets.push(await granted(url, await sign(license, { sid: `mail-${i}`, ...p })));
    // Two go idle: their State cells read "idle releases in 9:59", which takes width from the others.
    sockets[0]!.socket.disconnect();
    sockets[2]!.socket.disconnect();
    try {
      for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
        const page = await open({ timezoneId: 'UTC', viewport });
        await page.goto(`${url}/admin#license=${encodeURIComponent(license.id)}`);
        await page.fill('#token', tenantToken);
        await page.click('#signin-form button[type=submit]');
        await expect.poll(() => page.locator('#sessions .countdown').count()).toBe(2);
        await tableShot(page, `session-table-emails-${viewport.width}`);
        // The cells say the values whole (the break opportunities are <wbr>, not text).
        expect(await page.locator('#sessions td.user').allTextContents()).toEqual(people.map((p) => p.sub));
        // Where each value's lines end: after '@', '-', '_', '/' or a space, or before a '.' that a
        // longer piece follows (not '.uk', '.org', the '.co' of '.co.uk').
        const badBreaks = await page.evaluate(() => {
          const out: string[] = [];
          for (const td of document.querySelectorAll('#sessions td.user, #sessions td.name, #sessions td.device')) {
            const chars: { ch: string; top: number }[] = [];
            const walk = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
            for (let node = walk.nextNode(); node; node = walk.nextNode()) {
              for (let i = 0; i < node.textContent!.length; i++) {
                const range = document.createRange();
                range.setStart(node, i);
                range.setEnd(node, i + 1);
                const rect = range.getClientRects()[0];
                if (rect) chars.push({ ch: node.textContent![i]!, top: Math.round(rect.top) });
              }
            }
            for (let i = 1; i < chars.length; i++) {
              const [before, after] = [chars[i - 1]!, chars[i]!];
              if (after.top <= before.top) continue;
              const text = chars.map((c) => c.ch).join('');
              if (/[@/_\s-]/.test(before.ch) || (after.ch === '.' && /^\.[^@/_\s.-]{4,}/.test(text.slice(i)))) continue;
              out.push(`${td.className}: "${text.slice(0, i)}|${text.slice(i)}"`);
            }
          }
          return out;
        });
        expect(badBreaks, `at ${viewport.width} px`).toEqual([]);
        // A time reads on one line: the Started cells ("1:06:16 AM") and the idle countdowns ("releases in 9:58").
        const splitTimes = await page.evaluate(() =>
          [...document.querySelectorAll('#sessions td.started, #sessions .countdown[data-expires]')]
            .filter((el) => {
              const range = document.createRange();
              range.selectNodeContents(el);
              return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size > 1;
            })
            .map((el) => el.textContent),
        );
        expect(splitTimes, `at ${viewport.width} px`).toEqual([]);
        // The headings take two lines at most ("Tabs and / leases"); on a phone the rows are cards without them.
        if (viewport.width > 720) {
          const headingLines = await page.evaluate(() =>
            [...document.querySelectorAll('#sessions thead th')].map((th) => {
              const range = document.createRange();
              range.selectNodeContents(th);
              return `${th.textContent}: ${new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size}`;
            }),
          );
          expect(headingLines.filter((h) => Number(h.split(': ')[1]) > 2)).toEqual([]);
        }
        // And the table still fits its box: nothing scrolls sideways.
        const overflow = await page.evaluate(() => {
          const table = document.querySelector('#sessions')!;
          return table.getBoundingClientRect().width - table.parentElement!.clientWidth;
        });
        expect(overflow, `at ${viewport.width} px`).toBeLessThanOrEqual(0);
      }
    } finally {
      sockets[1]!.socket.disconnect();
    }
  });

  it('long user ids, names and devices wrap inside their columns; no header, state badge or Kick button is broken mid-word', async () => {
    const { url, tenantToken, newLicense } = await serverWithStore();
    const license = await newLicense({ seats: 5, idleTimeoutSec: 600 });
    const sockets = [];
    for (const i of [0, 1]) {
      sockets.push(
        await granted(
          url,
          await sign(license, {
            sid: `long-${i}`,
            sub: `user.with.a.very.long.identifier.number.${i}@subsidiary-example-company.co.uk`,
            name: `Maximiliane Alexandra Wolfeschlegelsteinhausen-Bergerdorff ${i}`,
            app: 'Financial Consolidation & Reporting Workbench',
            dev: `workstation-finance-floor-3-desk-${i}`,
          }),
        ),
      );
    }
    try {
      for (const width of [1920, 1024]) {
        const page = await open({ timezoneId: 'UTC', viewport: { width, height: 900 } });
        await page.goto(`${url}/admin#license=${encodeURIComponent(license.id)}`);
        await page.fill('#token', tenantToken);
        await page.click('#signin-form button[type=submit]');
        await page.locator('#sessions button.kick').first().waitFor();
        await tableShot(page, `session-table-long-values-${width}`);
        // One word (no space in it) laid out on more than one line was broken inside it.
        const broken = await page.evaluate(() => {
          const out: string[] = [];
          for (const el of document.querySelectorAll('#sessions th, #sessions .badge, #sessions button')) {
            const text = el.textContent!.trim();
            if (!text || text.includes(' ')) continue;
            const range = document.createRange();
            range.selectNodeContents(el);
            const lines = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top))).size;
            if (lines > 1) out.push(`${el.tagName} "${text}" on ${lines} lines`);
          }
          return out;
        });
        expect(broken, `at ${width} px`).toEqual([]);
        // The long values still fit: the table is no wider than its box.
        const overflow = await page.evaluate(() => {
          const table = document.querySelector('#sessions')!;
          return table.getBoundingClientRect().width - table.parentElement!.clientWidth;
        });
        expect(overflow, `at ${width} px`).toBeLessThanOrEqual(0);
      }
    } finally {
      for (const s of sockets) s.socket.disconnect();
    }
  });
});
