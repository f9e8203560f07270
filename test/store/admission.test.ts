// Admission on every store: one transaction per admission, serialised per license, so no
// interleaving of nodes ever grants more than `seats`; resume by seat key; denials recorded.
import { expect, it } from 'vitest';
import { admit, claimant, forEachStore, grant, held, newLicense, rng, seatsInUse } from './store-dialects';

forEachStore('admission', (nodes) => {
  it('never grants more than `seats` to a storm of concurrent admissions from several nodes', async () => {
    const stores = await nodes(4);
    const seed = Date.now() % 100_000;
    const rand = rng(seed);
    let t = 1_000_000;
    for (let round = 0; round < 15; round++) {
      const seats = 1 + rand(6);
      const license = await newLicense(stores[0]!, { seats });
      const keys = Array.from({ length: 4 + rand(20) }, (_, i) => `k${i}`);
      const weights = new Map(keys.map((k) => [k, 1 + rand(3)]));
      const now = ++t;
      const outcomes = await Promise.all(
        Array.from({ length: 40 }, (_, i) => {
          const key = keys[rand(keys.length)]!;
          return admit(stores[i % stores.length]!, license, claimant(key, weights.get(key)), now, `r${round}-s${i}`, `node-${i % stores.length}`);
        }),
      );
      const inUse = await held(stores[0]!, license.id);
      const context = `seed ${seed} round ${round} seats ${seats}`;
      expect(inUse, context).toBeLessThanOrEqual(seats);
      expect(await seatsInUse(stores[1]!, license.id), context).toBe(inUse);
      for (const o of outcomes) {
        if (o.kind === 'granted') expect(o.seatsInUse, context).toBeLessThanOrEqual(seats);
        // Nothing was released in the round, so held seats only grew: a denial for no free
        // seats must still be a denial against the final count (no spurious refusals).
        if (o.kind === 'denied') {
          expect(o.denial.reason).toBe('no_free_seats');
          const w = weights.get(o.denial.sessionRef!)!;
          expect(inUse + w, context).toBeGreaterThan(seats);
        }
      }
      // One session per seat key, and every socket of a granted key is on it.
      const sessions = await stores[0]!.listSessions(license.id);
      expect(new Set(sessions.map((s) => s.seatKeyValue)).size).toBe(sessions.length);
      const grants = outcomes.filter((o) => o.kind === 'granted');
      expect(sessions.reduce((n, s) => n + s.sockets, 0)).toBe(grants.length);
      expect(grants.filter((o) => !o.resumed).length).toBe(sessions.length);
      const denials = await stores[2]!.listDenials(license.id);
      expect(denials.length).toBe(outcomes.length - grants.length);
    }
  });

  it('gives sessions UUIDv7 ids in the order they start, so each lands on the last page of the indexes keyed by them', async () => {
    const [store] = await nodes(1);
    const license = await newLicense(store!, { seats: 100 });
    const ids: string[] = [];
    // In the same millisecond too: the ids still sort in the order of the grants.
    for (let i = 0; i < 30; i++) ids.push((await grant(store!, license, claimant(`v7-${i}`), 100 + (i >> 3))).session.id);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect([...ids].sort()).toEqual(ids);
  });

  it('an admission that fails among concurrent ones leaves nothing behind, and the others hold', async () => {
    // SQLite commits concurrent transactions together; each must still stand or fall alone.
    const [store] = await nodes(1);
    const license = await newLicense(store!, { seats: 30 });
    await grant(store!, license, claimant('first'), 10, 'taken-socket');
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => admit(store!, license, claimant(`k${i}`), 11, i === 7 ? 'taken-socket' : `s${i}`)),
    );
    expect(results.map((r) => r.status)).toEqual(results.map((_, i) => (i === 7 ? 'rejected' : 'fulfilled')));
    expect(results.filter((r) => r.status === 'fulfilled').every((r) => r.value.kind === 'granted')).toBe(true);
    const sessions = await store!.listSessions(license.id);
    expect(sessions.map((s) => s.sessionRef).sort()).toEqual(['first', ...Array.from({ length: 20 }, (_, i) => `k${i}`)].filter((k) => k !== 'k7').sort());
    expect(await seatsInUse(store!, license.id)).toBe(20);
    // The failed one's seat key is free: it is admitted on its next try.
    expect(await admit(store!, license, claimant('k7'), 12)).toMatchObject({ kind: 'granted', resumed: false, seatsInUse: 21 });
  });

  it('admits, resumes the same seat key, and denies with the reason when full', async () => {
    const [store] = await nodes(1);
    const license = await newLicense(store!, { seats: 2 });
    const a = await grant(store!, license, claimant('a'), 10);
    expect(a).toMatchObject({ resumed: false, seatsInUse: 1 });
    const a2 = await grant(store!, license, claimant('a'), 11);
    expect(a2).toMatchObject({ resumed: true, seatsInUse: 1 });
    expect(a2.session.id).toBe(a.session.id);
    expect(a2.session.sockets).toBe(2);
    const heavy = await admit(store!, license, claimant('h', 2), 12);
    expect(heavy).toMatchObject({ kind: 'denied', seatsInUse: 1, denial: { reason: 'no_free_seats', at: 12, sessionRef: 'h' } });
    await grant(store!, license, claimant('b'), 13);
    const full = await admit(store!, license, claimant('c'), 14);
    expect(full).toMatchObject({ kind: 'denied', seatsInUse: 2 });
    expect(await admit(store!, { ...license, id: 'nope' }, claimant('a'), 15)).toEqual({ kind: 'license_not_found' });

    const denials = await store!.listDenials(license.id);
    expect(denials.map((d) => [d.at, d.reason, d.sessionRef])).toEqual([
      [14, 'no_free_seats', 'c'],
      [12, 'no_free_seats', 'h'],
    ]);
    expect((await store!.listDenials(license.id, { since: 13 })).map((d) => d.at)).toEqual([14]);
    expect(await store!.recordDenial({ licenseId: license.id, at: 20, reason: 'denied_by_app', sessionRef: 'x', userId: 'u', deviceId: null, instanceId: null })).toBe(2);
    expect((await store!.listDenials(license.id))[0]).toMatchObject({ at: 20, reason: 'denied_by_app', userId: 'u' });
  });

  it('applies the seat key the license has in the transaction, not the one the token was checked against', async () => {
    const [store] = await nodes(1);
    const license = await newLicense(store!, { seats: 3 });
    const p = await grant(store!, license, claimant('p', 1, { userId: 'amy' }), 10);
    expect(p.session.seatKeyValue).toBe('["p"]');
    await store!.updateLicense(license.id, { seatKey: ['user'] }, 11);
    // `license` is the one the token was checked against (seat key `session`): another portal
    // session of the same user resumes amy's seat under the seat key the license has now.
    expect(await grant(store!, license, claimant('q', 1, { userId: 'amy' }), 12)).toMatchObject({ resumed: true, session: { id: p.session.id } });
    expect(await seatsInUse(store!, license.id)).toBe(1);
    // A claimant without the claim the seat key needs now: refused, and nothing written.
    await store!.updateLicense(license.id, { seatKey: ['user', 'device'] }, 14);
    expect(await admit(store!, license, claimant('s', 1, { userId: 'amy' }), 15)).toMatchObject({
      kind: 'missing_claim',
      missing: 'device',
      claim: 'dev',
    });
    expect(await store!.listDenials(license.id)).toEqual([]);
    expect(await seatsInUse(store!, license.id)).toBe(1);
  });

  it('a new seat key re-keys the live sessions: each resumes by its claims under it; one that cannot keeps its seat, joined by nobody', async () => {
    const [store] = await nodes(1);
    const license = await newLicense(store!, { seats: 5, seatKey: ['session'] });
    const amy1 = await grant(store!, license, claimant('alpha', 1, { userId: 'amy' }), 10);
    const amy2 = await grant(store!, license, claimant('beta', 1, { userId: 'amy' }), 11);
    const anon = await grant(store!, license, claimant('gamma'), 12);
    await store!.updateLicense(license.id, { seatKey: ['user'] }, 20);
    const byId = new Map((await store!.listSessions(license.id)).map((s) => [s.id, s.seatKeyValue]));
    // The oldest of amy's takes her value; her newer one and the session with no user keep a value no claimant has.
    expect(byId.get(amy1.session.id)).toBe('["amy"]');
    expect(byId.get(amy2.session.id)).toBe(`~${amy2.session.id}`);
    expect(byId.get(anon.session.id)).toBe(`~${anon.session.id}`);
    expect(await seatsInUse(store!, license.id)).toBe(3);
    // A user whose id is another session's old value does not join it; amy resumes her oldest seat.
    expect(await grant(store!, license, claimant('x', 1, { userId: 'alpha' }), 21)).toMatchObject({ resumed: false });
    expect(await grant(store!, license, claimant('y', 1, { userId: 'gamma' }), 22)).toMatchObject({ resumed: false });
    expect(await grant(store!, license, claimant('z', 1, { userId: 'amy' }), 23)).toMatchObject({ resumed: true, session: { id: amy1.session.id } });
    expect(await seatsInUse(store!, license.id)).toBe(5);
  });
}, { fullTransactions: true });
