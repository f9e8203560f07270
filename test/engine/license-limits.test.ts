// License changes in administration: seats above the plan's cap and idle timeouts outside the server's bounds are out_of_range.
import { describe, expect, it } from 'vitest';
import { engineWithLicense, operator } from '../support/engine';

describe('license limits', () => {
  it('checks limits on license changes', async () => {
    const { admin, lic } = await engineWithLicense({ seats: 3, seatCap: 5 });
    await expect(admin.updateLicense(operator, lic.id, { seats: 6 })).rejects.toMatchObject({ code: 'out_of_range' });
    await expect(admin.updateLicense(operator, lic.id, { idleTimeoutSec: 999_999 })).rejects.toMatchObject({ code: 'out_of_range' });
  });
});
