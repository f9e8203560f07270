// /healthz, /metrics and the OpenAPI document.
import { describe, expect, it } from 'vitest';
import { granted, sign, startServer } from '../support/harness';

describe('meta endpoints', () => {
  it('serves /healthz, /metrics and the OpenAPI document', async () => {
    const { url, api } = await startServer();
    const { license } = await api.setup();
    await granted(url, await sign(license, { sid: 'p' }));
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/seat_admissions_total\{outcome="granted"\} 1/);
    const doc: any = await (await fetch(`${url}/api/openapi.json`)).json();
    expect(doc.openapi).toMatch(/^3\./);
    for (const p of ['/tenants', '/licenses', '/licenses/{id}', '/licenses/{id}/sessions', '/licenses/{id}/denials', '/sessions/{id}']) {
      expect(doc.paths[p], p).toBeDefined();
    }
    expect(doc.components.schemas.CreateLicense.properties.seats).toMatchObject({ type: 'integer', minimum: 0 });
  });
});
