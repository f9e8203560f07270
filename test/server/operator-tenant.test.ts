// The operator's licenses created without a tenantId belong to the operator tenant.
import { describe, expect, it } from 'vitest';
import { startServer } from '../support/harness';

describe('the operator tenant', () => {
  it("puts the operator's licenses without a tenantId in the operator tenant", async () => {
    const { api } = await startServer();
    const a = await api.ok('POST', '/licenses', { seats: 2 });
    const b = await api.ok('POST', '/licenses', { seats: 3 });
    expect(a.tenantId).toBe('operator');
    expect(b.tenantId).toBe('operator');
    expect((await api.ok('GET', '/licenses')).licenses.map((l: any) => l.id)).toEqual([a.id, b.id]);
  });
});
