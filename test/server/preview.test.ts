// Previews (CONTRACT 8.6): POST /licenses/:id/preview answers which sessions a license patch would
// end, and why, and changes nothing; the PATCH then ends exactly those, even while connects and
// reconnects keep arriving.
import { describe, expect, it } from 'vitest';
import { connect, granted, nextEvent, sign, sleep, startServer } from '../support/harness';

describe('license change previews', () => {
  it('names the sessions a seat cut would end, newest first, and the PATCH ends exactly those under concurrent connects', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 5 });
    const held = [];
    for (let i = 0; i < 5; i++) {
      held.push(await granted(url, await sign(license, { sid: `s${i}`, sub: `user-${i}`, name: `User ${i}` })));
      await sleep(5);
    }
    // Connects that change nothing: new claimants (denied, the license is full) and more tabs of held sessions.
    let storming = true;
    const storm = (async () => {
      for (let i = 0; storming; i++) {
        const s = connect(url, await sign(license, { sid: i % 2 ? `new-${i}` : `s${i % 5}` }));
        await sleep(10);
        s.close();
      }
    })();
    const preview = await admin.ok('POST', `/licenses/${license.id}/preview`, { seats: 2 });
    expect(preview.wouldEnd.map((e: { name: string; reason: string }) => [e.name, e.reason])).toEqual([
      ['User 4', 'seats_reduced'],
      ['User 3', 'seats_reduced'],
      ['User 2', 'seats_reduced'],
    ]);
    expect(preview.wouldEnd[0]).toMatchObject({ sessionId: held[4]!.grant.sessionId, userId: 'user-4' });
    // Nothing changed.
    expect(await admin.ok('GET', `/licenses/${license.id}`)).toMatchObject({ seats: 5, seatsInUse: 5 });

    const ended = held.slice(2).map((h) => nextEvent(h.socket, 'session:ended'));
    await admin.ok('PATCH', `/licenses/${license.id}`, { seats: 2 });
    storming = false;
    await storm;
    await Promise.all(ended);
    const left = (await admin.ok('GET', `/licenses/${license.id}/sessions`)).sessions.map((s: { id: string }) => s.id).sort();
    expect(left).toEqual([held[0]!.grant.sessionId, held[1]!.grant.sessionId].sort());
    expect(preview.wouldEnd.map((e: { sessionId: string }) => e.sessionId).sort()).toEqual(held.slice(2).map((h) => h.grant.sessionId).sort());
  });

  it('a suspension would end everyone; a change that ends nobody says so; overage counts as room', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 2, overage: 1.5 });
    for (const sid of ['a', 'b', 'c']) await granted(url, await sign(license, { sid }));
    expect((await admin.ok('POST', `/licenses/${license.id}/preview`, { status: 'suspended' })).wouldEnd.map((e: { reason: string }) => e.reason)).toEqual([
      'license_suspended',
      'license_suspended',
      'license_suspended',
    ]);
    expect(await admin.ok('POST', `/licenses/${license.id}/preview`, { name: 'renamed' })).toEqual({ wouldEnd: [] });
    // 3 held: 2 seats with 1.5× overage hold 3; without the overage one would go.
    expect((await admin.ok('POST', `/licenses/${license.id}/preview`, { seats: 2 })).wouldEnd).toEqual([]);
    expect((await admin.ok('POST', `/licenses/${license.id}/preview`, { overage: 1 })).wouldEnd).toHaveLength(1);
  });

  it('bad patches and other tenants get the contract errors, and nothing changes', async () => {
    const { api } = await startServer();
    const { license, admin } = await api.setup({ seats: 2 });
    const other = await api.setup({ seats: 1 });
    expect((await admin.call('POST', `/licenses/${license.id}/preview`, { seats: -1 })).status).toBe(422);
    expect((await admin.call('POST', `/licenses/${license.id}/preview`, { seats: 'two' })).status).toBe(400);
    expect((await admin.call('POST', `/licenses/${license.id}/preview`, {})).status).toBe(400);
    expect((await admin.call('POST', `/licenses/${license.id}/preview`, { reservations: [{ group: 'a', seats: 3 }] })).status).toBe(422);
    expect((await other.admin.call('POST', `/licenses/${license.id}/preview`, { seats: 1 })).status).toBe(403);
    expect((await admin.call('POST', '/licenses/nope/preview', { seats: 1 })).status).toBe(404);
    expect((await admin.call('GET', `/licenses/${license.id}/preview`)).status).toBe(405);
    expect(await admin.ok('GET', `/licenses/${license.id}`)).toMatchObject({ seats: 2, reservations: [] });
  });
});
