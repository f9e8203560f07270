// The stores every contract test runs against: SQLite and PostgreSQL pass the same tests.
// Several stores on one PostgreSQL database stand for several nodes (each has its own pool);
// SQLite is one process's file, so there every "node" is the same store.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, onTestFinished } from 'vitest';
import type { SeatStore } from '../../server/seats/seat-store';
import { type AdmitOutcome, type Claimant, type License, POLICY_DEFAULTS } from '../../server/seats/types';
import { PostgresSeatStore } from '../../server/store/postgres-store';
import { SqliteSeatStore } from '../../server/store/sqlite-store';
import { describeWith, type Postgres, postgresMissing, startPostgres } from '../support/services';

interface Dialect {
  name: string;
  missing: () => string | undefined;
  /** Once per suite. */
  boot(): Promise<void>;
  shutdown(): Promise<void>;
  /** A fresh database for one test; `nodes(n)` gives n stores on it, closed after the test. */
  fresh(): Promise<(n: number) => Promise<SeatStore[]>>;
}

let pgCluster: Postgres | undefined;
const opened: SeatStore[] = [];

/**
 * PostgreSQL's store; with `oneTrip` (as nodes run it) the hot seat moves are one function call
 * each and fall back to transactions from Node; without, every move is such a transaction.
 */
function postgres(name: string, oneTrip: boolean): Dialect {
  return {
    name,
    missing: postgresMissing,
    boot: async () => {
      pgCluster = await startPostgres();
    },
    shutdown: async () => {
      await pgCluster?.destroy();
    },
    async fresh() {
      const url = await pgCluster!.createDatabase('store');
      const first = PostgresSeatStore.open(url, 4, { oneTrip });
      await first.migrate();
      opened.push(first);
      return async (n) => {
        const stores: SeatStore[] = [first];
        for (let i = 1; i < n; i++) {
          const s = PostgresSeatStore.open(url, 4, { oneTrip });
          opened.push(s);
          stores.push(s);
        }
        return stores;
      };
    },
  };
}

/** For the suites of the seat moves: PostgreSQL once more, every move a transaction from Node. */
const FULL_TRANSACTIONS = postgres('postgres, transactions from node', false);

const DIALECTS: Dialect[] = [
  {
    name: 'sqlite',
    missing: () => undefined,
    boot: async () => {},
    shutdown: async () => {},
    async fresh() {
      const dir = mkdtempSync(path.join(tmpdir(), 'seats-store-'));
      const store = SqliteSeatStore.open(path.join(dir, 'seats.db'));
      // Closed before its directory goes: an open store (its checkpointer thread) writes files
      // back while they are being removed (ENOTEMPTY).
      onTestFinished(async () => {
        await store.close().catch(() => undefined);
        rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
      });
      await store.migrate();
      return async (n) => Array.from({ length: n }, () => store);
    },
  },
  postgres('postgres', true),
];

/**
 * `describe`s `feature` once per store, each test on a fresh database: `nodes(n)` gives n stores
 * on it (PostgreSQL: n pools, standing for n nodes; SQLite: the one store n times).
 * `fullTransactions` runs it on PostgreSQL a second time without the one-trip functions.
 */
export function forEachStore(feature: string, body: (nodes: (n: number) => Promise<SeatStore[]>) => void, opts: { fullTransactions?: boolean } = {}): void {
  for (const dialect of opts.fullTransactions ? [...DIALECTS, FULL_TRANSACTIONS] : DIALECTS) {
    describeWith([dialect.missing()])(`${feature}: ${dialect.name}`, { timeout: 60_000 }, () => {
      let nodes: (n: number) => Promise<SeatStore[]>;
      beforeAll(() => dialect.boot(), 60_000);
      afterAll(async () => {
        await Promise.allSettled(opened.splice(0).map((s) => s.close()));
        await dialect.shutdown();
      });
      beforeEach(async () => {
        await Promise.allSettled(opened.splice(0).map((s) => s.close()));
        nodes = await dialect.fresh();
      });
      body((n) => nodes(n));
    });
  }
}

export function claimant(key: string, weight = 1, extra: Partial<Claimant> = {}): Claimant {
  return { sessionRef: key, userId: null, deviceId: null, instanceId: null, app: null, name: null, weight, ...extra };
}

export async function newLicense(store: SeatStore, fields: Partial<License> = {}): Promise<License> {
  const tenantId = randomUUID();
  await store.createTenant({ id: tenantId, name: 't', createdAt: 1 }, randomUUID());
  return store.createLicense({
    id: `lic_${randomUUID()}`,
    tenantId,
    name: 'L',
    seats: 3,
    seatCap: null,
    seatKey: ['session'],
    idleTimeoutSec: 2,
    status: 'active',
    deniedMessage: 'There are no free seats available',
    ...POLICY_DEFAULTS,
    secret: 's',
    createdAt: 1,
    updatedAt: 1,
    ...fields,
  });
}

export function admit(store: SeatStore, license: License, c: Claimant, now: number, socketId: string = randomUUID(), nodeId = 'node-a'): Promise<AdmitOutcome> {
  return store.admit({ licenseId: license.id, socketId, nodeId, claimant: c, now });
}

export async function grant(store: SeatStore, license: License, c: Claimant, now: number, socketId: string = randomUUID(), nodeId = 'node-a') {
  const o = await admit(store, license, c, now, socketId, nodeId);
  if (o.kind !== 'granted') throw new Error(`expected a grant, got ${JSON.stringify(o)}`);
  return o;
}

/** Sum of weights held, from the rows themselves. */
export async function held(store: SeatStore, licenseId: string): Promise<number> {
  return (await store.listSessions(licenseId)).reduce((n, s) => n + s.weight, 0);
}

/** The license row's counter, as the store reads it with the license. */
export async function seatsInUse(store: SeatStore, licenseId: string): Promise<number | undefined> {
  return (await store.getLicense(licenseId))?.seatsInUse;
}

// A seeded generator, so a failing round can be replayed from the printed seed.
export function rng(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s % n;
  };
}
