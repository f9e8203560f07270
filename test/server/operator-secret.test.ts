// POST /licenses/:id/secret: a new secret, returned once; tokens signed with the old one are
// still admitted until `previousSecretValidUntil`, then refused (invalid_token).
import { describe, expect, it } from 'vitest';
import { connectAndAdmit, granted, sign, sleep, startServer } from '../support/harness';

describe('rotating a license secret', () => {
  it('admits tokens of the old secret within the grace and refuses them after it; the new secret works', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 5 });
    const before = Date.now();
    const r = await admin.call('POST', `/licenses/${license.id}/secret`, { graceSec: 2 });
    expect(r.status).toBe(201);
    expect(r.body.secret).toEqual(expect.any(String));
    expect(r.body.secret).not.toBe(license.secret);
    const until = Date.parse(r.body.previousSecretValidUntil);
    expect(until).toBeGreaterThanOrEqual(before + 2000);
    expect(until).toBeLessThan(Date.now() + 2500);

    const rotated = { id: license.id, secret: r.body.secret as string };
    await granted(url, await sign(rotated, { sid: 'new-1' }));
    // The old secret within its grace.
    await granted(url, await sign(license, { sid: 'old-1' }));
    // A secret that was never the license's is still refused.
    const wrong = await connectAndAdmit(url, await sign({ id: license.id, secret: 'never-its-secret' }, { sid: 'w' }));
    expect(wrong.result).toMatchObject({ kind: 'connect_error', message: 'invalid_token' });

    await sleep(Math.max(0, until - Date.now()) + 100);
    const late = await connectAndAdmit(url, await sign(license, { sid: 'old-2' }));
    expect(late.result).toMatchObject({ kind: 'connect_error', message: 'invalid_token' });
    await granted(url, await sign(rotated, { sid: 'new-2' }));

    const [entry] = (await api.ok('GET', `/audit?licenseId=${license.id}&action=license.secret-rotate`)).audit;
    expect(entry).toMatchObject({ actor: expect.stringMatching(/^tenant-admin:/), detail: { graceSec: 2, previousSecretValidUntil: r.body.previousSecretValidUntil } });
    expect(JSON.stringify(entry)).not.toContain(r.body.secret);
  });

  it('defaults the grace to a day, and with graceSec 0 refuses the old secret at once', async () => {
    const { url, api } = await startServer();
    const { license } = await api.setup();
    const day = await api.call('POST', `/licenses/${license.id}/secret`);
    expect(day.status).toBe(201);
    expect(Date.parse(day.body.previousSecretValidUntil) - Date.now()).toBeGreaterThan(86_390_000);
    await granted(url, await sign(license, { sid: 'first-secret' }));

    const second = { id: license.id, secret: day.body.secret as string };
    const now = await api.call('POST', `/licenses/${license.id}/secret`, { graceSec: 0 });
    expect(now.status).toBe(201);
    // Only the secret just replaced is kept: the first one (still in its day) goes too.
    for (const old of [second, license]) {
      const { result } = await connectAndAdmit(url, await sign(old, { sid: `x-${old.secret.slice(0, 4)}` }));
      expect(result).toMatchObject({ kind: 'connect_error', message: 'invalid_token' });
    }
    await granted(url, await sign({ id: license.id, secret: now.body.secret }, { sid: 'third' }));
  });

  it('refuses a grace out of range (422) or of the wrong type (400), another tenant (403), an unknown license (404), and nothing changes', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup();
    const other = await api.setup();
    for (const graceSec of [-1, 2_592_001]) {
      const r = await admin.call('POST', `/licenses/${license.id}/secret`, { graceSec });
      expect(r.status).toBe(422);
      expect(r.body.error).toMatchObject({ code: 'out_of_range', message: expect.stringContaining('graceSec'), details: { field: 'graceSec' } });
    }
    for (const body of [{ graceSec: 1.5 }, { graceSec: '60' }, { grace: 60 }]) {
      expect((await admin.call('POST', `/licenses/${license.id}/secret`, body)).status).toBe(400);
    }
    expect((await other.admin.call('POST', `/licenses/${license.id}/secret`, {})).status).toBe(403);
    expect((await api.call('POST', '/licenses/nope/secret', {})).status).toBe(404);
    // The original secret is still the license's, without any grace to fall back on.
    await granted(url, await sign(license, { sid: 'still' }));
    expect((await api.ok('GET', '/audit?action=license.secret-rotate')).audit).toEqual([]);
  });
});
