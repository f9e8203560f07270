// Property tests of the queue (fast-check), on every store: random sequences of claimants joining
// a license with a queue (several tabs of one seat key among them, one seat key of weight 2),
// sockets leaving, sessions ended, seats changed, idle seats falling due together and the queue
// served. After every step, read back through the store: no step failed; the license's counter is
// the weight its sessions hold, within its seats; and no waiting claimant fits the seats left
// free, or has a session of its seat key that it should have joined (docs/contract.md, "The
// queue": first in, first out, each transaction that frees seats serves the queue before it
// commits). On the tree before the fix of two waiting tabs of one seat key, both stores' runs
// failed, after 7 to 46 tries (three runs of each).
//
// A failure prints fast-check's seed and path; replay it with FC_SEED=<seed> FC_PATH=<path>.
// FC_RUNS=<n> changes the number of runs per store.
import fc from 'fast-check';
import { expect, it } from 'vitest';
import type { SeatStore } from '../../server/seats/seat-store';
import { claimant, forEachStore, newLicense } from './store-dialects';

/** Seat keys k0…k3; k3's claimants weigh 2 (a key's tabs all weigh the same, as one token's would). */
const KEYS = 4;
const weightOf = (key: number) => (key === KEYS - 1 ? 2 : 1);

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

type Socket = { key: string; state: 'granted' | 'queued' | 'gone' };

forEachStore('queue properties', (nodes) => {
  it('any sequence keeps the counter to the sessions, within the seats, and leaves nobody waiting who fits or whose seat key holds a session', async () => {
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
        const license = await newLicense(store, { seats: seats0, queue: true });
        const mine = new Set<string>();
        let seats = seats0;
        let now = 1_000;
        for (const o of ops) {
          now += 10;
          switch (o.kind) {
            case 'join': {
              const socketId = `sock-${socketN++}`;
              const key = `k${o.key}`;
              const out = await store.admit({ licenseId: license.id, socketId, nodeId: 'node-a', claimant: claimant(key, weightOf(o.key)), now, queue: true });
              expect(['granted', 'queued']).toContain(out.kind);
              sockets.set(socketId, { key, state: out.kind === 'queued' ? 'queued' : 'granted' });
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
          const inUse = (await store.getLicense(license.id))!.seatsInUse;
          const step = `after ${JSON.stringify(o)} in ${JSON.stringify(ops)} (seats ${seats0} at first)`;
          expect(inUse, step).toBe(sessions.reduce((n, x) => n + x.weight, 0));
          expect(inUse, step).toBeLessThanOrEqual(seats);
          expect(new Set(sessions.map((x) => x.sessionRef)).size, step).toBe(sessions.length);
          const withSession = new Set(sessions.map((x) => x.sessionRef));
          for (const place of await store.queuePlaces(license.id)) {
            const s = sockets.get(place.socketId)!;
            expect(s.state, `${place.socketId} ${step}`).toBe('queued');
            expect(withSession.has(s.key), `${place.socketId} of ${s.key} waits beside its seat key's session, ${step}`).toBe(false);
            expect(weightOf(Number(s.key.slice(1))), `${place.socketId} of ${s.key} waits with seats free, ${step}`).toBeGreaterThan(seats - inUse);
          }
        }
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 100), ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED), path: process.env.FC_PATH } : {}) },
    );
  }, 120_000);
});
