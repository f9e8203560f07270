// Property tests of the queue (fast-check), on every store: random sequences of claimants joining
// a license with a queue, without and with a reservation and a group limit (several tabs of one
// seat key among them, one seat key of weight 2), sockets leaving, sessions ended, seats changed,
// idle seats falling due together and the queue served. After every step, read back through the
// store: no step failed; the license's counter is the weight its sessions hold, within its seats
// and its groups' limits; and no waiting claimant fits the seats left free (as the admission's
// decision, `decideSeat`, has it), or has a session of its seat key that it should have joined
// (docs/contract.md, "The queue": first in, first out, each transaction that frees seats serves
// the queue before it commits). On the tree before the fix of two waiting tabs of one seat key,
// both stores' runs failed, after 7 to 46 tries (three runs of each).
//
// A failure prints fast-check's seed and path; replay it with FC_SEED=<seed> FC_PATH=<path>.
// FC_RUNS=<n> changes the number of runs per store.
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { decideSeat } from '../../server/seats/decisions/seat-pool';
import type { SeatStore } from '../../server/seats/seat-store';
import type { License } from '../../server/seats/types';
import { claimant, forEachStore, newLicense } from './store-dialects';

/** Seat keys k0…k3; k3's claimants weigh 2 (a key's tabs all weigh the same, as one token's would). */
const KEYS = 4;
const weightOf = (key: number) => (key === KEYS - 1 ? 2 : 1);

/**
 * The licenses the property runs on, and each seat key's group there. With groups, k0 is of the
 * group a seat is reserved for, k1 and k2 of the group limited to one seat; whether a waiting claimant
 * fits is then what the admission's pure decision (`decideSeat`) says of it.
 */
const VARIANTS: Array<{ name: string; fields: Partial<License>; groupOf: (key: number) => string | null }> = [
  { name: 'a license with a queue', fields: {}, groupOf: () => null },
  {
    name: 'a license with a queue, a reservation and a group limit',
    fields: { reservations: [{ group: 'night', seats: 1 }], groupLimits: [{ group: 'temps', max: 1 }] },
    groupOf: (key) => (key === 0 ? 'night' : key === 3 ? null : 'temps'),
  },
];

type Op =
  | { kind: 'join'; key: number }
  | { kind: 'leave'; pick: number }
  | { kind: 'end'; key: number }
  | { kind: 'seats'; seats: number }
  | { kind: 'serve' }
  | { kind: 'expire' };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('join' as const), key: fc.nat(KEYS - 1) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('leave' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('end' as const), key: fc.nat(KEYS - 1) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('seats' as const), seats: fc.integer({ min: 0, max: 4 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'serve' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'expire' as const }) },
);

type Socket = { key: number; state: 'granted' | 'queued' | 'gone' };

forEachStore('queue properties', (nodes) => {
  it.each(VARIANTS)('$name: any sequence keeps the counter to the sessions, within the seats and group limits, and leaves nobody waiting who fits or whose seat key holds a session', async ({ fields, groupOf }) => {
    const [store] = (await nodes(1)) as [SeatStore];
    // Sockets of every run by id (ids are never reused); a queue grant moves one to `granted`.
    const sockets = new Map<string, Socket>();
    store.onQueueGrants((grants) => {
      for (const g of grants) {
        const s = sockets.get(g.socketId);
        if (s) s.state = 'granted';
      }
    });
    let socketN = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 3 }), fc.array(op, { minLength: 1, maxLength: 20 }), async (seats0, ops) => {
        const license = await newLicense(store, { seats: seats0, queue: true, ...fields });
        const mine = new Set<string>();
        let seats = seats0;
        let now = 1_000;
        for (const o of ops) {
          now += 10;
          switch (o.kind) {
            case 'join': {
              const socketId = `sock-${socketN++}`;
              const c = claimant(`k${o.key}`, weightOf(o.key), { group: groupOf(o.key) });
              const out = await store.admit({ licenseId: license.id, socketId, nodeId: 'node-a', claimant: c, now, queue: true });
              expect(['granted', 'queued']).toContain(out.kind);
              sockets.set(socketId, { key: o.key, state: out.kind === 'queued' ? 'queued' : 'granted' });
              mine.add(socketId);
              break;
            }
            case 'leave': {
              const live = [...mine].filter((id) => sockets.get(id)!.state !== 'gone');
              if (live.length === 0) break;
              const id = live[o.pick % live.length]!;
              const s = sockets.get(id)!;
              if (s.state === 'queued') await store.leaveQueue(id, now);
              else await store.detach(id, now, license.id);
              s.state = 'gone';
              break;
            }
            case 'end': {
              const session = (await store.listSessions(license.id)).find((x) => x.sessionRef === `k${o.key}`);
              if (session) await store.endSession(session.id, 'ended_by_app', now);
              break;
            }
            case 'seats':
              seats = o.seats;
              await store.updateLicense(license.id, { seats }, now);
              break;
            case 'serve':
              await store.serveQueue(license.id, now);
              break;
            case 'expire':
              // Past the idle hold (2 s): the idle seats fall due together, in one release.
              now += 2_500;
              await store.expireLicense(license.id, now);
              break;
          }
          // The grants' listener runs after the commit, in a later turn.
          await new Promise((r) => setImmediate(r));

          const sessions = await store.listSessions(license.id);
          const current = (await store.getLicense(license.id))!;
          const inUse = current.seatsInUse;
          const step = `after ${JSON.stringify(o)} in ${JSON.stringify(ops)} (seats ${seats0} at first)`;
          expect(inUse, step).toBe(sessions.reduce((n, x) => n + x.weight, 0));
          expect(inUse, step).toBeLessThanOrEqual(seats);
          expect(new Set(sessions.map((x) => x.sessionRef)).size, step).toBe(sessions.length);
          const byGroup = new Map<string, number>();
          for (const x of sessions) if (x.group !== null) byGroup.set(x.group, (byGroup.get(x.group) ?? 0) + x.weight);
          for (const limit of current.groupLimits) expect(byGroup.get(limit.group) ?? 0, `group ${limit.group} ${step}`).toBeLessThanOrEqual(limit.max);
          const withSession = new Set(sessions.map((x) => x.sessionRef));
          for (const place of await store.queuePlaces(license.id)) {
            const s = sockets.get(place.socketId)!;
            const who = `${place.socketId} of k${s.key}`;
            expect(s.state, `${who} ${step}`).toBe('queued');
            expect(withSession.has(`k${s.key}`), `${who} waits beside its seat key's session, ${step}`).toBe(false);
            const verdict = decideSeat(current, { weight: weightOf(s.key), group: groupOf(s.key) }, { total: inUse, byGroup }, now);
            expect(verdict.kind, `${who} waits though it fits, ${step}`).toBe('deny');
          }
        }
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 100), ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED), path: process.env.FC_PATH } : {}) },
    );
  }, 120_000);
});
