// Shown text: names, denied and kick messages, and a token's name and app claims, with control or
// bidi-override characters or lone surrogates are refused (422 naming the field, or invalid_token
// naming the claim) and change nothing; every script and surrogate pairs are fine.
import { describe, expect, it } from 'vitest';
import { connectAndAdmit, granted, sign, startServer } from '../support/harness';

describe('shown text', () => {
  const BAD: Array<[string, string]> = [
    ['NUL', '\u0000'],
    ['US', '\u001f'],
    ['newline inside', 'a\nb'],
    ['DEL', '\u007f'],
    ['C1 NEL', '\u0085'],
    ['C1 APC', '\u009f'],
    ['LRE', '\u202a'],
    ['RLO', '\u202e'],
    ['LRI', '\u2066'],
    ['PDI', '\u2069'],
    ['lone high surrogate', '\ud800'],
    ['lone low surrogate', '\udfff'],
  ];
  const GOOD = ['Zoë Müller', '山田太郎', 'עברית', 'مرحبا', 'emoji 😀 pair', 'tab-free name'];

  it('names, denied messages and kick messages with control or bidi-override characters are refused with 422 naming the field', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 2, name: 'Clean' });
    const held = await granted(url, await sign(license, { sid: 'held' }));
    for (const [why, bad] of BAD) {
      const value = `x${bad}y`;
      const attempts: Array<[string, string, string, unknown]> = [
        ['tenant name', 'POST', '/tenants', { name: value }],
        ['license name', 'POST', '/licenses', { seats: 1, name: value }],
        ['deniedMessage', 'POST', '/licenses', { seats: 1, deniedMessage: value }],
        ['license name (patch)', 'PATCH', `/licenses/${license.id}`, { name: value }],
        ['deniedMessage (patch)', 'PATCH', `/licenses/${license.id}`, { deniedMessage: value }],
        ['kick message', 'DELETE', `/sessions/${held.grant.sessionId}`, { message: value }],
      ];
      for (const [what, method, path, body] of attempts) {
        const r = await (what === 'tenant name' ? api : admin).call(method, path, body);
        const field = Object.keys(body as object).find((k) => k !== 'seats');
        expect(r.status, `${what} with ${why}`).toBe(422);
        expect(r.body.error.code, `${what} with ${why}`).toBe('out_of_range');
        expect(r.body.error.message).toBe(`${field}: must not contain control or bidi-override characters, or lone surrogates`);
      }
    }
    // Nothing changed.
    expect(held.socket.connected).toBe(true);
    expect(await admin.ok('GET', `/licenses/${license.id}`)).toMatchObject({ name: 'Clean', deniedMessage: 'There are no free seats available' });
    expect((await api.ok('GET', '/licenses')).licenses).toHaveLength(1);
    // Every script, and pairs of surrogates, are fine; so is surrounding whitespace, trimmed.
    for (const good of GOOD) {
      expect((await admin.call('PATCH', `/licenses/${license.id}`, { name: good, deniedMessage: good })).status, good).toBe(200);
      expect((await api.call('POST', '/tenants', { name: good })).status, good).toBe(201);
    }
    expect((await admin.ok('PATCH', `/licenses/${license.id}`, { name: '  Padded\n' })).name).toBe('Padded');
    expect((await admin.call('DELETE', `/sessions/${held.grant.sessionId}`, { message: 'Bye 👋' })).status).toBe(200);
  });

  it('tokens whose name, app or id claims (sid, sub, dev, ins, grp) hold such characters are refused at connect with invalid_token naming the claim', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 2 });
    for (const claim of ['name', 'app', 'sid', 'sub', 'dev', 'ins', 'grp']) {
      for (const [why, bad] of BAD) {
        const { result } = await connectAndAdmit(url, await sign(license, { sid: `s-${claim}`, [claim]: `x${bad}y` }));
        expect(result, `${claim} with ${why}`).toMatchObject({ kind: 'connect_error', message: 'invalid_token', data: { reason: 'invalid_token' } });
        expect((result as any).data.message).toBe(`the "${claim}" claim is invalid: must not contain control or bidi-override characters, or lone surrogates`);
      }
    }
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(0);
    for (const good of GOOD) {
      const g = await granted(url, await sign(license, { sid: 'good', name: good, app: good }));
      g.socket.disconnect();
    }
  });
});
