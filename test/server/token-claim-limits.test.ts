// The client token's claim limits as docs/contract.md section 3 states them (shared/claims.ts):
// ids 1 to 200 characters, `app` and `name` at most 200, `weight` an integer 1 to 10000, the token
// at most 8192 characters; past them the handshake ends in `invalid_token` naming the claim.
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { closeSocket, connectAndAdmit, sign, startServer } from '../support/harness';

describe('token claim limits', () => {
  it('takes each claim up to its documented limit and refuses one past it with invalid_token naming the claim', async () => {
    const { url, api } = await startServer();
    const { license } = await api.setup({ seats: 10_000 });
    const outcome = async (claims: Record<string, unknown>) => {
      const { socket, result } = await connectAndAdmit(url, await sign(license, { sid: 'portal-1', ...claims }));
      await closeSocket(socket);
      return result;
    };
    for (const claim of ['sid', 'sub', 'dev', 'ins', 'grp']) {
      expect((await outcome({ [claim]: 'x'.repeat(200) })).kind, claim).toBe('granted');
      for (const bad of ['x'.repeat(201), '', 7]) {
        const r = await outcome({ [claim]: bad });
        expect(r, `${claim} ${String(bad).length}`).toMatchObject({ kind: 'connect_error', message: 'invalid_token' });
        expect((r as { data: { message: string } }).data.message).toMatch(new RegExp(`^the "${claim}" claim is invalid`));
      }
    }
    for (const claim of ['app', 'name']) {
      for (const good of ['', 'x'.repeat(200)]) expect((await outcome({ [claim]: good })).kind, `${claim} ${good.length}`).toBe('granted');
      expect(await outcome({ [claim]: 'x'.repeat(201) })).toMatchObject({ kind: 'connect_error', data: { reason: 'invalid_token', message: expect.stringContaining(`"${claim}" claim is invalid`) } });
    }
    // Characters are code points: 200 emoji (400 UTF-16 units) are within the limit, 201 past it.
    expect((await outcome({ sid: '😀'.repeat(200), name: '😀'.repeat(200) })).kind).toBe('granted');
    for (const claim of ['sid', 'name']) expect(await outcome({ [claim]: '😀'.repeat(201) })).toMatchObject({ kind: 'connect_error', data: { reason: 'invalid_token' } });
    for (const weight of [1, 10_000]) expect((await outcome({ weight })).kind, `weight ${weight}`).toBe('granted');
    for (const weight of [0, 10_001, 1.5, '2']) {
      expect(await outcome({ weight }), `weight ${weight}`).toMatchObject({ kind: 'connect_error', data: { reason: 'invalid_token', message: expect.stringContaining('"weight" claim is invalid') } });
    }
    expect(await outcome({ weight: 1e308 })).toMatchObject({ data: { reason: 'invalid_token', message: expect.stringContaining('<=10000') } });
    // `exp` not a number of seconds: named, not taken for a bad signature.
    for (const exp of ['2000000000', true, [2000000000]]) {
      const token = await new SignJWT({ lic: license.id, sid: 'portal-1', exp: exp as unknown as number }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(license.secret));
      const { socket, result } = await connectAndAdmit(url, token);
      await closeSocket(socket);
      expect(result, `exp ${exp}`).toMatchObject({ data: { reason: 'invalid_token', message: expect.stringMatching(/^the "exp" claim is invalid: it must be a (number|positive integer) of seconds$/) } });
    }
    // The token itself: at most 8192 characters.
    const long = await connectAndAdmit(url, await sign(license, { sid: 'portal-1', pad: 'x'.repeat(8192) }));
    expect(long.result).toMatchObject({ kind: 'connect_error', data: { reason: 'invalid_token', message: expect.stringMatching(/at most 8192 are read/) } });
  });
});
