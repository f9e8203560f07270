// Echoed ids: ids quoted in error messages (REST and a token's license id at connect) are cut to
// 64 characters with an ellipsis; unsafe characters in them are shown as U+FFFD.
import { describe, expect, it } from 'vitest';
import { connectAndAdmit, sign, startServer } from '../support/harness';

describe('echoed ids', () => {
  it('ids quoted in error messages are cut to 64 characters with an ellipsis', async () => {
    const { url, api } = await startServer();
    const { license } = await api.setup();
    const long = 'a'.repeat(10_000);
    const cut = `"${'a'.repeat(64)}…"`;
    for (const [method, path, body, message] of [
      ['GET', `/licenses/${long}`, undefined, `no license ${cut}`],
      ['GET', `/licenses/${long}/sessions`, undefined, `no license ${cut}`],
      ['PATCH', `/licenses/${long}`, { seats: 1 }, `no license ${cut}`],
      ['DELETE', `/sessions/${long}`, undefined, `no live session ${cut}`],
      ['POST', '/licenses', { seats: 1, tenantId: 't'.repeat(100) }, `no tenant "${'t'.repeat(64)}…"`],
      ['POST', '/licenses', { seats: 1, [long]: 1 }, `unknown field ${cut}`],
    ] as const) {
      const r = await api.call(method, path, body);
      expect(r.body.error.message, `${method} ${path.slice(0, 30)}`).toBe(message);
    }
    // The unknown field's name in `details.field` is cut the same way.
    expect((await api.call('POST', '/licenses', { seats: 1, [long]: 1 })).body.error.details).toMatchObject({ field: `${'a'.repeat(64)}…` });
    // Short ids are quoted whole; unsafe characters in them are shown as U+FFFD.
    expect((await api.call('GET', '/licenses/nope')).body.error.message).toBe('no license "nope"');
    expect((await api.call('GET', '/licenses/a%E2%80%AEb')).body.error.message).toBe('no license "a\uFFFDb"');
    // A token's license id, too (up to 8 KB of token).
    const { result } = await connectAndAdmit(url, await sign({ id: 'l'.repeat(5000), secret: license.secret }, { sid: 's' }));
    expect(result).toMatchObject({ kind: 'connect_error', data: { reason: 'license_not_found', message: `no license "${'l'.repeat(64)}…"` } });
  });
});
