// The operator's token: generated and stored on the first start when ADMIN_TOKEN is unset.
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { tempDir } from '../support/harness';
import { spawnServer } from '../support/server-process';

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

  it('npm start prints a generated token the moment its hash is stored, before the rest of the start: a crash later in it leaves the token printed', async () => {
    const DATABASE_URL = path.join(tempDir(), 'seats.db');
    const first = spawnServer({ DATABASE_URL, ADMIN_TOKEN: '' });
    onTestFinished(() => first.kill9());
    const proc = await first.ready;
    const out = proc.output();
    const printed = out.indexOf('Operator ADMIN_TOKEN (shown once');
    expect(printed).toBeGreaterThanOrEqual(0);
    expect(printed).toBeLessThan(out.indexOf('seat server listening'));
    const token = /\n {2}(op_\S+)\n/.exec(out.slice(printed))![1]!;
    expect((await fetch(`${proc.url}/api/v1/licenses`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    // Once: a start of that database prints none, and the token stays the operator's.
    await first.kill9();
    const again = spawnServer({ DATABASE_URL, ADMIN_TOKEN: '' });
    onTestFinished(() => again.kill9());
    const next = await again.ready;
    expect(next.output()).not.toContain('Operator ADMIN_TOKEN');
    expect((await fetch(`${next.url}/api/v1/licenses`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  });
});
