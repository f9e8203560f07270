// GET /metrics names every tenant's licenses: it answers the operator (METRICS_TOKEN or ADMIN_TOKEN
// as a bearer token) and, when METRICS_TOKEN is unset, requests made on this host through no proxy.
import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { OPERATOR_TOKEN, granted, sign, startServer } from '../support/harness';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

async function scrape(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/metrics`, { headers });
  const text = await res.text();
  return { status: res.status, text, body: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined };
}
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** An address of this machine that is not loopback, if it has one. */
const outside = Object.values(networkInterfaces())
  .flat()
  .find((i) => i && !i.internal && i.family === 'IPv4')?.address;

describe('/metrics access', () => {
  it('without METRICS_TOKEN: this host reads it; a proxied request needs the operator token; a tenant admin is refused', async () => {
    const { url, api } = await startServer();
    const { license, tenant } = await api.setup();
    await granted(url, await sign(license, { sid: 's1' }));

    const local = await scrape(url);
    expect(local.status).toBe(200);
    expect(local.text).toMatch(new RegExp(`seat_seats_in_use\\{license="${license.id}",tenant="${tenant.id}"\\} 1`));

    // What a reverse proxy on this host passes on from an outside client.
    const proxied = await scrape(url, { 'x-forwarded-for': '203.0.113.7' });
    expect(proxied.status).toBe(401);
    expect(proxied.body.error).toMatchObject({ code: 'unauthorized' });
    expect(proxied.body.error.message).toMatch(/METRICS_TOKEN/);
    expect(proxied.text).not.toContain(license.id);
    expect((await scrape(url, { forwarded: 'for=203.0.113.7' })).status).toBe(401);

    expect((await scrape(url, { 'x-forwarded-for': '203.0.113.7', ...bearer(OPERATOR_TOKEN) })).status).toBe(200);
    expect((await scrape(url, { 'x-forwarded-for': '203.0.113.7', ...bearer('not-a-token-0123456789') })).status).toBe(401);
    const tenantAdmin = await scrape(url, bearer(tenant.adminToken));
    expect(tenantAdmin.status).toBe(403);
    expect(tenantAdmin.body.error.code).toBe('forbidden');
  });

  it.skipIf(!outside)('without METRICS_TOKEN: a request from another address is refused', async () => {
    const { url } = await startServer();
    const port = new URL(url).port;
    const remote = await scrape(`http://${outside}:${port}`);
    expect(remote.status).toBe(401);
    expect(remote.body.error.code).toBe('unauthorized');
    expect((await scrape(`http://${outside}:${port}`, bearer(OPERATOR_TOKEN))).status).toBe(200);
  });

  it('with METRICS_TOKEN: every request needs it (or the operator token), this host included', async () => {
    const { url } = await startServer({ env: { METRICS_TOKEN } });
    const none = await scrape(url);
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ error: { code: 'unauthorized', message: expect.stringMatching(/METRICS_TOKEN/) } });
    expect((await scrape(url, bearer('wrong-metrics-token-0123456789'))).status).toBe(401);
    const ok = await scrape(url, bearer(METRICS_TOKEN));
    expect(ok.status).toBe(200);
    expect(ok.text).toMatch(/seat_admissions_total|process_cpu/);
    expect((await scrape(url, bearer(OPERATOR_TOKEN))).status).toBe(200);
  });

  it("REST reads the client's address through TRUST_PROXY (req.ip, named in the refusal)", async () => {
    const trusted = await startServer({ env: { TRUST_PROXY: 'loopback' } });
    const viaTrusted = await scrape(trusted.url, { 'x-forwarded-for': '203.0.113.7' });
    expect(viaTrusted.status).toBe(401);
    expect(viaTrusted.body.error.message).toContain('came from 203.0.113.7');

    const untrusted = await startServer();
    const viaUntrusted = await scrape(untrusted.url, { 'x-forwarded-for': '203.0.113.7' });
    expect(viaUntrusted.status).toBe(401);
    expect(viaUntrusted.body.error.message).not.toContain('203.0.113.7');
    expect(viaUntrusted.body.error.message).toMatch(/came from (::1|127\.0\.0\.1|::ffff:127\.0\.0\.1) through a proxy: it carries a Forwarded, X-Forwarded-For or X-Real-IP header\)/);
  });
});
