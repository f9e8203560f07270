// The plan's cap on seats (`seatCap`): seats above it are refused with 422 (ERP.net's 35).
import { describe, expect, it } from 'vitest';
import { startServer } from '../support/harness';

describe('seat cap', () => {
  it('refuses seats above the plan cap with 422 and accepts up to it', async () => {
    const { api } = await startServer();
    const { license, admin } = await api.setup({ seats: 3, seatKey: ['instance'], seatCap: 35 });
    const over = await admin.call('PATCH', `/licenses/${license.id}`, { seats: 36 });
    expect(over.status).toBe(422);
    expect(over.body.error).toMatchObject({ code: 'out_of_range' });
    expect(over.body.error.message).toContain('35');
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seats).toBe(3);
    expect((await admin.ok('PATCH', `/licenses/${license.id}`, { seats: 35 })).seats).toBe(35);
    const create = await admin.call('POST', '/licenses', { seats: 40, seatCap: 35 });
    expect(create.status).toBe(422);
  });
});
