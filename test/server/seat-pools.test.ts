// Overage, reservations and group limits end to end (docs/contract.md, "Overage, reservations and
// group limits"): real sockets with `grp` claims, the denial reasons and log, and every bad value
// refused with nothing changed.
import { describe, expect, it } from 'vitest';
import { admission, connect, granted, sign, startServer } from '../support/harness';

describe('overage, reservations and group limits', () => {
  it('overage grants past the seats up to floor(seats × overage), each marked', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 2, overage: 1.5 });
    expect(license).toMatchObject({ overage: 1.5, queue: false, reservations: [], groupLimits: [] });
    const grants = [];
    for (const sid of ['a', 'b', 'c']) grants.push((await granted(url, await sign(license, { sid }))).grant);
    expect(grants.map((g) => g.overage)).toEqual([false, false, true]);
    const fourth = await admission(connect(url, await sign(license, { sid: 'd' })));
    expect(fourth).toMatchObject({ kind: 'denied', payload: { reason: 'no_free_seats', seatsInUse: 3, seats: 2 } });
    // A resume is never marked.
    expect((await granted(url, await sign(license, { sid: 'c' }))).grant).toMatchObject({ resumed: true, overage: false });
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(3);
  });

  it('a lease past the seats is marked too', async () => {
    const { url, api } = await startServer();
    const { license } = await api.setup({ seats: 1, overage: 2 });
    await granted(url, await sign(license, { sid: 'a' }));
    const res = await fetch(`${url}/api/v1/leases`, { method: 'POST', headers: { authorization: `Bearer ${await sign(license, { sid: 'b' })}` } });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ overage: true, seatsInUse: 2, seats: 1 });
  });

  it('reserved seats go only to their group; a group over its limit is refused with group_limit', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({
      seats: 3,
      reservations: [{ group: 'night-shift', seats: 1 }],
      groupLimits: [{ group: 'contractors', max: 1 }],
    });
    await granted(url, await sign(license, { sid: 'u1' }));
    await granted(url, await sign(license, { sid: 'c1', grp: 'contractors' }));
    // One seat left, reserved: an outsider gets no_free_seats, a contractor over its limit group_limit.
    expect(await admission(connect(url, await sign(license, { sid: 'u2' })))).toMatchObject({ kind: 'denied', payload: { reason: 'no_free_seats' } });
    expect(await admission(connect(url, await sign(license, { sid: 'c2', grp: 'contractors' })))).toMatchObject({
      kind: 'denied',
      payload: { reason: 'group_limit', message: 'Your group holds as many seats of this license as it may' },
    });
    const night = await granted(url, await sign(license, { sid: 'n1', grp: 'night-shift' }));
    expect(night.grant.resumed).toBe(false);
    const { sessions } = await admin.ok('GET', `/licenses/${license.id}/sessions`);
    expect(sessions.map((s: { group: string | null }) => s.group).sort()).toEqual(['contractors', 'night-shift', null].sort());
    expect((await admin.ok('GET', `/licenses/${license.id}/denials`)).denials.map((d: { reason: string }) => d.reason)).toEqual(['group_limit', 'no_free_seats']);
    // Lowering the reservation ends nobody: it only changes who may take the next free seat.
    await admin.ok('PATCH', `/licenses/${license.id}`, { reservations: [] });
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(3);
  });

  it('refuses bad values with the field named, and changes nothing', async () => {
    const { api } = await startServer();
    const { license, admin } = await api.setup({ seats: 3, reservations: [{ group: 'a', seats: 2 }] });
    const nine = { days: [1, 2, 3, 4, 5], from: '09:00', to: '17:00', tz: 'Europe/Amsterdam' };
    const cases: Array<[unknown, number, string]> = [
      [{ overage: 2.5 }, 422, 'overage'],
      [{ overage: 0.5 }, 422, 'overage'],
      [{ overage: 'lots' }, 400, 'overage'],
      [{ reservations: [{ group: 'a', seats: 2 }, { group: 'b', seats: 2 }] }, 422, 'reservations'],
      [{ seats: 1 }, 422, 'reservations'],
      [{ reservations: [{ group: 'a', seats: 1, window: { ...nine, tz: 'Europe/Atlantis' } }] }, 422, 'reservations.0.window.tz'],
      [{ reservations: [{ group: 'a', seats: 1, window: nine }, { group: 'a', seats: 1, window: { ...nine, from: '16:00', to: '18:00' } }] }, 422, 'overlap'],
      [{ reservations: [{ group: 'a', seats: 1, window: { ...nine, days: [8] } }] }, 422, 'reservations.0.window.days'],
      [{ reservations: [{ group: 'a', seats: 1, window: { ...nine, from: '9am' } }] }, 400, 'reservations.0.window.from'],
      [{ groupLimits: [{ group: 'a', max: 1 }, { group: 'a', max: 2 }] }, 422, 'twice'],
      [{ groupLimits: [{ group: 'a' }] }, 400, 'groupLimits.0.max'],
      // Group names as a token's grp claim may carry them: none with control or bidi-override characters.
      [{ groupLimits: [{ group: 'c\u0000\u202e', max: 1 }] }, 422, 'groupLimits.0.group'],
      [{ reservations: [{ group: '\u202eevil', seats: 1 }] }, 422, 'reservations.0.group'],
      [{ queue: 'yes' }, 400, 'queue'],
    ];
    for (const [body, status, mention] of cases) {
      const r = await admin.call('PATCH', `/licenses/${license.id}`, body);
      expect([JSON.stringify(body), r.status]).toEqual([JSON.stringify(body), status]);
      expect(r.body.error.message).toContain(mention);
    }
    // An unknown field, nested too, is named by its own name.
    const unknown = await admin.call('PATCH', `/licenses/${license.id}`, { reservations: [{ group: 'a', seats: 1, colour: 'red' }] });
    expect([unknown.status, unknown.body.error.message, unknown.body.error.details.field]).toEqual([400, 'reservations.0: unknown field "colour"', 'reservations.0.colour']);
    expect(await admin.ok('GET', `/licenses/${license.id}`)).toMatchObject({ seats: 3, overage: 1, reservations: [{ group: 'a', seats: 2 }], groupLimits: [] });
    // Seats alone below the reservations: the field sent is named, with the least it may be.
    const below = await admin.call('PATCH', `/licenses/${license.id}`, { seats: 0 });
    expect([below.status, below.body.error.message, below.body.error.details]).toEqual([
      422,
      'seats (0) is below the 2 seats the reservations hold; lower the reservations first, or with it',
      { field: 'seats', min: 2 },
    ]);
    const both = await admin.call('PATCH', `/licenses/${license.id}`, { seats: 0, reservations: [{ group: 'a', seats: 1 }] });
    expect([both.status, both.body.error.message, both.body.error.details]).toEqual([422, "reservations add up to 1 seat, more than the license's 0", { field: 'reservations' }]);
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seats).toBe(3);
    expect((await admin.ok('PATCH', `/licenses/${license.id}`, { seats: 0, reservations: [] })).seats).toBe(0);
    // The same rules on creation.
    expect((await admin.call('POST', '/licenses', { seats: 1, reservations: [{ group: 'a', seats: 2 }] })).status).toBe(422);
  });
});
