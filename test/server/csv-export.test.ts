// The reports as CSV (docs/contract.md 8.6): `?format=csv` on a license's denials, sessions and
// history gives the JSON's rows as text/csv with a header row, as a download; RFC 4180 quoting,
// and a cell a spreadsheet would run as a formula (names come from client tokens) neutralised.
import { describe, expect, it } from 'vitest';
import { csvCell, toCsv } from '../../server/http/csv';
import { OPERATOR_TOKEN, connectAndAdmit, granted, sign, startServer } from '../support/harness';

async function download(url: string, path: string, token: string) {
  const res = await fetch(`${url}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, type: res.headers.get('content-type'), disposition: res.headers.get('content-disposition'), text: await res.text() };
}

/** A small RFC 4180 reader, to check what the server wrote round-trips. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted && c === '"' && text[i + 1] === '"') {
      cell += '"';
      i++;
    } else if (c === '"') {
      quoted = !quoted;
    } else if (!quoted && c === ',') {
      row.push(cell);
      cell = '';
    } else if (!quoted && c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else {
      cell += c;
    }
  }
  expect(cell, 'the file ends with CRLF').toBe('');
  return rows;
}

describe('CSV export', () => {
  it('quotes per RFC 4180 and neutralises formula cells', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    for (const f of ['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '\rx']) expect(csvCell(f).replace(/^"/, '')).toMatch(/^'/);
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell(-3)).toBe('-3');
    expect(csvCell(null)).toBe('');
    expect(toCsv<{ a: number; b: string }>(['a', 'b'], [{ a: 1, b: 'x' }])).toBe('a,b\r\n1,x\r\n');
    expect(toCsv<{ a: number }>(['a'], [])).toBe('a\r\n');
  });

  it("gives denials, sessions and history as CSV with the JSON's rows; a bad format is 400, another tenant 403", async () => {
    const { url, api } = await startServer();
    const { license, admin, tenant } = await api.setup({ seats: 1 });
    await granted(url, await sign(license, { sid: 'holder', sub: 'amy', name: 'Doe, "Jo"' }));
    for (const sid of ['d1', 'd2', 'd3']) await connectAndAdmit(url, await sign(license, { sid, sub: `=cmd|' /C calc'!A0-${sid}`, dev: '@dev' }));

    const denials = await download(url, `/licenses/${license.id}/denials?format=csv`, tenant.adminToken);
    expect(denials.status).toBe(200);
    expect(denials.type).toBe('text/csv; charset=utf-8');
    expect(denials.disposition).toBe(`attachment; filename="${license.id}-denials.csv"`);
    const denialRows = parseCsv(denials.text);
    expect(denialRows[0]).toEqual(['at', 'licenseId', 'reason', 'sessionRef', 'userId', 'deviceId', 'instanceId']);
    const json = (await admin.ok('GET', `/licenses/${license.id}/denials`)).denials;
    expect(denialRows.length - 1).toBe(json.length);
    expect(json).toHaveLength(3);
    expect(denialRows.slice(1).map((r) => r[0])).toEqual(json.map((d: any) => d.at));
    expect(denialRows[1]).toEqual([json[0].at, license.id, 'no_free_seats', 'd3', `'=cmd|' /C calc'!A0-d3`, `'@dev`, '']);
    expect(denials.text).not.toMatch(/(^|,)[=@]/m);

    const sessions = await download(url, `/licenses/${license.id}/sessions?format=csv`, OPERATOR_TOKEN);
    expect(sessions.status).toBe(200);
    expect(sessions.disposition).toBe(`attachment; filename="${license.id}-sessions.csv"`);
    const sessionRows = parseCsv(sessions.text);
    expect(sessionRows[0]!.slice(0, 4)).toEqual(['id', 'licenseId', 'state', 'sessionRef']);
    const jsonSessions = (await admin.ok('GET', `/licenses/${license.id}/sessions`)).sessions;
    // Every field of the JSON's rows, section 8's included (group, leases, activity, warning, receipt).
    expect([...sessionRows[0]!].sort()).toEqual(Object.keys(jsonSessions[0]).sort());
    expect(sessionRows.length - 1).toBe(jsonSessions.length);
    const col = (name: string) => sessionRows[0]!.indexOf(name);
    expect(sessionRows[1]![col('name')]).toBe('Doe, "Jo"');
    expect(sessions.text).toContain('"Doe, ""Jo"""');
    expect(sessionRows[1]![col('id')]).toBe(jsonSessions[0].id);
    expect(sessionRows[1]![col('weight')]).toBe('1');

    const history = await download(url, `/licenses/${license.id}/history?format=csv&bucket=day`, tenant.adminToken);
    expect(history.status).toBe(200);
    expect(history.disposition).toBe(`attachment; filename="${license.id}-history.csv"`);
    const historyRows = parseCsv(history.text);
    const jsonHistory = await admin.ok('GET', `/licenses/${license.id}/history?bucket=day`);
    expect(historyRows[0]).toEqual(['at', 'denials', 'peakSeatsInUse', 'seats', 'full', 'queuedGranted', 'unmetDemand', 'unmetAvgWaitSec']);
    expect(historyRows.slice(1)).toEqual(
      jsonHistory.buckets.map((b: any) => [b.at, String(b.denials), String(b.peakSeatsInUse), String(b.seats), String(b.full), String(b.queuedGranted), String(b.unmetDemand), b.unmetAvgWaitSec === null ? '' : String(b.unmetAvgWaitSec)]),
    );
    expect(historyRows.at(-1)).toEqual([expect.any(String), '3', '1', '1', 'true', '0', '0', '']);

    // A date range: `since` and `until` hold for CSV as for JSON.
    const later = encodeURIComponent(new Date(Date.now() + 60_000).toISOString());
    const earlier = encodeURIComponent(new Date(Date.now() - 60_000).toISOString());
    expect(parseCsv((await download(url, `/licenses/${license.id}/denials?format=csv&since=${later}`, tenant.adminToken)).text)).toHaveLength(1);
    expect(parseCsv((await download(url, `/licenses/${license.id}/denials?format=csv&until=${earlier}`, tenant.adminToken)).text)).toHaveLength(1);
    expect(parseCsv((await download(url, `/licenses/${license.id}/denials?format=csv&since=${earlier}&until=${later}`, tenant.adminToken)).text)).toHaveLength(4);
    expect((await admin.ok('GET', `/licenses/${license.id}/denials?until=${earlier}`)).denials).toHaveLength(0);
    // Two days ago to yesterday: the day buckets that start in it, none of them today's.
    const daysAgo = (n: number) => encodeURIComponent(new Date(Date.now() - n * 86_400_000).toISOString());
    const pastDays = parseCsv((await download(url, `/licenses/${license.id}/history?format=csv&bucket=day&since=${daysAgo(2)}&until=${daysAgo(1)}`, tenant.adminToken)).text);
    expect(pastDays.slice(1).map((r) => r[1])).toEqual(['0', '0']);

    // Bad formats, and another tenant's license.
    for (const what of ['denials', 'sessions', 'history']) {
      const bad = await admin.call('GET', `/licenses/${license.id}/${what}?format=xlsx`);
      expect(bad.status, what).toBe(400);
      expect(bad.body.error.code).toBe('bad_request');
    }
    const other = await api.setup();
    for (const what of ['denials', 'sessions', 'history']) {
      const refused = await download(url, `/licenses/${license.id}/${what}?format=csv`, other.tenant.adminToken);
      expect(refused.status, what).toBe(403);
      expect(refused.type).toMatch(/json/);
      expect(refused.text).not.toContain('d3');
    }
  });
});
