// The start page at `/`: links to the dashboard, the demo (only when on), the API document and
// /healthz, all of which answer, under the pages' CSP and with no inline script or style.
import { describe, expect, it } from 'vitest';
import { CSP } from '../../server/http/html';
import { startServer } from '../support/harness';
import { withPages } from './http-edge-support';

describe('the start page', () => {
  it('links the dashboard, the demo (only when on), the API document and /healthz, under the pages\' CSP', async () => {
    for (const demo of [true, false]) {
      const { url } = await startServer({ routes: withPages, config: { demo } });
      const res = await fetch(`${url}/`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      const csp = res.headers.get('content-security-policy');
      expect(csp).toBe((await fetch(`${url}/admin`)).headers.get('content-security-policy'));
      expect(csp).toBe(CSP);
      const html = await res.text();
      const hrefs = [...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1]);
      expect(hrefs).toEqual(expect.arrayContaining(['/admin', '/api/openapi.json', '/healthz', '/admin/app.css']));
      expect(hrefs.includes('/demo')).toBe(demo);
      // No inline script or style.
      expect(html).not.toMatch(/<script|<style|\sstyle=|\son[a-z]+=/i);
      for (const href of hrefs.filter((h) => h!.startsWith('/'))) {
        expect((await fetch(`${url}${href}`)).status, href).toBe(200);
      }
    }
  });
});
