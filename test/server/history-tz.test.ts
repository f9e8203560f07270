// GET /licenses/:id/history over REST (docs/contract.md, history): `tz` puts day buckets at the
// zone's midnights (23- and 25-hour days where the clocks change), an unknown zone is a 422 naming
// `tz`, and every bucket carries the seats in force and whether they were all taken, in JSON and CSV.
import { describe, expect, it } from 'vitest';
import { wallClock } from '../../server/seats/time-buckets';
import { connectAndAdmit, granted, sign, sleep, startServer } from '../support/harness';

const H = 3_600_000;

describe('history over REST', () => {
  it('refuses an unknown or malformed tz with a clear error naming it', async () => {
    const { api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1 });
    const path = `/licenses/${license.id}/history`;
    for (const tz of ['Mars/Olympus_Mons', 'Europe/Amsterdam%20', '', 'x'.repeat(65), '..%2F..%2Fetc%2Fpasswd']) {
      const r = await admin.call('GET', `${path}?bucket=day&tz=${tz}`);
      expect(r.status, tz).toBe(422);
      expect(r.body.error.code).toBe('out_of_range');
      expect(r.body.error.message).toMatch(/^tz: /);
    }
    // Two zones at once: a malformed query.
    expect((await admin.call('GET', `${path}?tz=UTC&tz=Europe/Amsterdam`)).status).toBe(400);
    // Nothing changed, and a known zone answers.
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seats).toBe(1);
    expect((await admin.ok('GET', `${path}?tz=Europe/Amsterdam`)).tz).toBe('Europe/Amsterdam');
    // Another tenant learns nothing from a zone check.
    const other = await api.setup({ seats: 1 });
    expect((await other.admin.call('GET', `${path}?tz=Mars/Olympus_Mons`)).status).toBe(422);
    expect((await other.admin.call('GET', `${path}?tz=UTC`)).status).toBe(403);
  });

  it.each(['Europe/Amsterdam', 'America/New_York', 'Asia/Kathmandu', 'UTC'])('day buckets start at local midnight in %s, the last one holding now', async (tz) => {
    const { api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1 });
    const reply = await admin.ok('GET', `/licenses/${license.id}/history?bucket=day&tz=${encodeURIComponent(tz)}`);
    expect(reply).toMatchObject({ bucket: 'day', tz });
    const starts: number[] = reply.buckets.map((b: { at: string }) => Date.parse(b.at));
    // The retention window (DENIAL_RETENTION_DAYS, 60 days by default) in whole local days.
    expect(starts.length).toBeGreaterThanOrEqual(60);
    for (const [i, t] of starts.entries()) {
      const w = wallClock(tz, t);
      expect([w.hour, w.minute, w.second], new Date(t).toISOString()).toEqual([0, 0, 0]);
      if (i > 0) expect([23 * H, 24 * H, 25 * H]).toContain(t - starts[i - 1]!);
    }
    const until = Date.parse(reply.until);
    expect(starts.at(-1)!).toBeLessThanOrEqual(Date.now());
    expect(until).toBeGreaterThan(Date.now());
    expect([23 * H, 24 * H, 25 * H]).toContain(until - starts.at(-1)!);
  });

  it('gives each bucket the seats in force and whether they were all taken, in JSON and CSV', async () => {
    // The grant and the raise in one hour bucket: not in the last seconds of an hour.
    const toNextHour = H - (Date.now() % H);
    if (toNextHour < 3000) await sleep(toNextHour + 100);
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1 });
    await granted(url, await sign(license, { sid: 'amy' }));
    await admin.ok('PATCH', `/licenses/${license.id}`, { seats: 3 });
    const path = `/licenses/${license.id}/history?bucket=hour&since=${encodeURIComponent(new Date(Date.now() - 2 * H).toISOString())}`;
    const { buckets } = await admin.ok('GET', path);
    expect(buckets).toHaveLength(3);
    // Before the license existed: its first seat count. This hour: full at one seat, then three.
    expect(buckets.map((b: any) => [b.seats, b.full, b.peakSeatsInUse])).toEqual([
      [1, false, 0],
      [1, false, 0],
      [3, true, 1],
    ]);
    expect(buckets[2].denialsByReason).toEqual({});

    const csv = await fetch(`${url}/api/v1${path}&format=csv`, { headers: { authorization: `Bearer ${admin.token}` } });
    const lines = (await csv.text()).trimEnd().split('\r\n');
    expect(lines[0]).toBe('at,denials,peakSeatsInUse,seats,full,queuedGranted,unmetDemand,unmetAvgWaitSec');
    // No queue: nothing granted from it, no unmet demand, no average wait (empty).
    expect(lines.slice(1).map((l) => l.split(',').slice(1).join(','))).toEqual(['0,0,1,false,0,0,', '0,0,1,false,0,0,', '0,1,3,true,0,0,']);
  });

  it('gives the bucket that holds since, even a since later than now, and none before a range that ends before it', async () => {
    const { api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1 });
    const at = (ms: number) => encodeURIComponent(new Date(ms).toISOString());
    const soon = await admin.ok('GET', `/licenses/${license.id}/history?bucket=day&since=${at(Date.now() + 1000)}`);
    expect(soon.buckets).toHaveLength(1);
    expect(Date.parse(soon.buckets[0].at)).toBeLessThanOrEqual(Date.now());
    const none = await admin.ok('GET', `/licenses/${license.id}/history?bucket=day&since=${at(Date.now() - 2 * 86_400_000)}&until=${at(Date.now() - 5 * 86_400_000)}`);
    expect(none.buckets).toEqual([]);
  });

  it('counts denials by reason per bucket', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 0 });
    for (const sid of ['a', 'b']) await connectAndAdmit(url, await sign(license, { sid }));
    const { buckets } = await admin.ok('GET', `/licenses/${license.id}/history?bucket=day&tz=Europe/Amsterdam`);
    expect(buckets.at(-1)).toMatchObject({ denials: 2, denialsByReason: { no_free_seats: 2 }, seats: 0, full: false });
  });
});
