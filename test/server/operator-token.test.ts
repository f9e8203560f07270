// The operator's token: generated and stored on the first start when ADMIN_TOKEN is unset.
import { describe, expect, it, onTestFinished } from 'vitest';

describe('the operator token', () => {
  it('generates and stores an operator token on first start when ADMIN_TOKEN is unset', async () => {
    const { createSeatServer } = await import('../../server/seat-server');
    const server = createSeatServer({ env: {}, config: { databaseUrl: ':memory:', logLevel: 'silent' } });
    const { url, generatedAdminToken } = await server.listen(0);
    onTestFinished(() => server.close());
    expect(generatedAdminToken).toMatch(/^op_/);
    const ok = await fetch(`${url}/api/v1/licenses`, { headers: { authorization: `Bearer ${generatedAdminToken}` } });
    expect(ok.status).toBe(200);
  });
});
