// /metrics has the gauges of every license, read from the store at scrape time: its seats, seats
// in use and denials by reason over the retention window, labelled with the license and tenant,
// whether or not this node has seen the license move since it started.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteSeatStore } from '../../server/store/sqlite-store';
import { connectAndAdmit, granted, sign, startServer, tempDir } from '../support/harness';

async function scrape(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

/** The value of the series with exactly these labels, or undefined when it is not there. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',');
  for (const line of text.split('\n')) {
    const m = line.match(/^(\w+)\{([^}]*)\} (\S+)$/);
    if (m && m[1] === name && m[2]!.split(',').sort().join(',') === want) return Number(m[3]);
  }
  return undefined;
}

describe('/metrics gauges', () => {
  it('lists every license, touched or not, with seats, seats in use and denials by reason', async () => {
    const store = SqliteSeatStore.open(':memory:');
    const { url, api } = await startServer({ store });
    const busy = await api.setup({ seats: 1 });
    const quiet = await api.setup({ seats: 7 });
    await granted(url, await sign(busy.license, { sid: 'a' }));
    for (const sid of ['b', 'c']) await connectAndAdmit(url, await sign(busy.license, { sid }));
    // A hook's refusal, and a denial older than the retention window (not counted).
    const base = { licenseId: busy.license.id, sessionRef: 'x', userId: null, deviceId: null, instanceId: null };
    await store.recordDenial({ ...base, reason: 'denied_by_app', at: Date.now() });
    await store.recordDenial({ ...base, reason: 'no_free_seats', at: Date.now() - 400 * 86_400_000 });

    const text = await scrape(url);
    const b = { license: busy.license.id, tenant: busy.tenant.id };
    const q = { license: quiet.license.id, tenant: quiet.tenant.id };
    expect(sample(text, 'seat_seats', b)).toBe(1);
    expect(sample(text, 'seat_seats_in_use', b)).toBe(1);
    expect(sample(text, 'seat_denials', { ...b, reason: 'no_free_seats' })).toBe(2);
    expect(sample(text, 'seat_denials', { ...b, reason: 'denied_by_app' })).toBe(1);
    expect(sample(text, 'seat_denials', { ...b, reason: 'kicked' })).toBe(0);
    // Never touched: its gauges are there all the same.
    expect(sample(text, 'seat_seats', q)).toBe(7);
    expect(sample(text, 'seat_seats_in_use', q)).toBe(0);
    expect(sample(text, 'seat_denials', { ...q, reason: 'no_free_seats' })).toBe(0);
  });

  it('has the gauges of licenses created before a restart', async () => {
    const databaseUrl = path.join(tempDir('seats-metrics-'), 'seats.db');
    const first = await startServer({ databaseUrl });
    const { license, tenant } = await first.api.setup({ seats: 3 });
    await granted(first.url, await sign(license, { sid: 'a', sub: 'amy' }));
    await first.server.close();

    const second = await startServer({ databaseUrl });
    const text = await scrape(second.url);
    expect(sample(text, 'seat_seats', { license: license.id, tenant: tenant.id })).toBe(3);
    expect(sample(text, 'seat_denials', { license: license.id, tenant: tenant.id, reason: 'no_free_seats' })).toBe(0);
    expect(sample(text, 'seat_seats_in_use', { license: license.id, tenant: tenant.id })).toBeGreaterThanOrEqual(0);
  });
});
