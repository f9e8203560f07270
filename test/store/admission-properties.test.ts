// Property tests of the store's admission (fast-check), on SQLite and on PostgreSQL: random
// sequences of admit, detach, expire, kick, app end and license changes, with a clock that moves
// forward, some steps sent as concurrent batches. After every step the database itself is read
// (a second connection, not the store) and checked against the invariants of DESIGN.md and against
// a pure model (seat-model.ts). A sequential step must match the model exactly; a concurrent batch
// must match the model run in SOME order of its calls (linearizability), outcomes and rows alike.
//
// A failure prints fast-check's seed and path; replay it with FC_SEED=<seed> FC_PATH=<path>.
// FC_RUNS=<n> changes the number of runs per store.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import fc from 'fast-check';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { afterAll, beforeAll, it } from 'vitest';
import type { SeatStore } from '../../server/seats/seat-store';
import { type EndedSession, POLICY_DEFAULTS } from '../../server/seats/types';
import { PostgresSeatStore } from '../../server/store/postgres-store';
import type { Database } from '../../server/store/schema';
import { SqliteSeatStore } from '../../server/store/sqlite-store';
import { describeWith, type Postgres, postgresMissing, startPostgres, testPool } from '../support/services';
import { apply, type LicensePatchM, type MLicense, type Model, type Observed, type Step } from './seat-model';

const KEYS = ['a', 'b', 'c', 'd', 'e'];
const START = 1_000_000;

interface Dialect {
  name: string;
  missing: () => string | undefined;
  runs: number;
  /** Opens the stores (PostgreSQL: two, standing for two nodes) and a reader on another connection. */
  open(): Promise<{ stores: SeatStore[]; reader: Kysely<Database>; close(): Promise<void> }>;
}

/** PostgreSQL as nodes run it (one-trip seat moves), or with every seat move a transaction from Node. */
function postgres(name: string, oneTrip: boolean, runs: number): Dialect {
  return {
    name,
    missing: postgresMissing,
    runs,
    async open() {
      const cluster: Postgres = await startPostgres();
      const url = await cluster.createDatabase('props');
      const stores = [PostgresSeatStore.open(url, 4, { oneTrip }), PostgresSeatStore.open(url, 4, { oneTrip })];
      await stores[0]!.migrate();
      const reader = new Kysely<Database>({ dialect: new PostgresDialect({ pool: testPool(url) }) });
      return {
        stores,
        reader,
        async close() {
          await reader.destroy();
          await Promise.allSettled(stores.map((s) => s.close()));
          await cluster.destroy();
        },
      };
    },
  };
}

const DIALECTS: Dialect[] = [
  {
    name: 'sqlite',
    missing: () => undefined,
    runs: 100,
    async open() {
      const dir = mkdtempSync(path.join(tmpdir(), 'seats-props-'));
      const file = path.join(dir, 'seats.db');
      const store = SqliteSeatStore.open(file);
      await store.migrate();
      const reader = new Kysely<Database>({ dialect: new SqliteDialect({ database: new BetterSqlite3(file, { readonly: true }) }) });
      return {
        stores: [store],
        reader,
        async close() {
          await reader.destroy();
          await store.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  postgres('postgres', true, 100),
  postgres('postgres, transactions from node', false, 50),
];

// ---- operations, before they are resolved against the current state ----

type BaseOp =
  | { t: 'admit'; lic: number; key: number; weight: number; dup: boolean }
  | { t: 'detach'; lic: number; pick: number }
  | { t: 'kick'; lic: number; key: number; cooldownMs: number }
  | { t: 'end'; lic: number; key: number }
  | { t: 'expireLicense'; lic: number }
  | { t: 'update'; lic: number; patch: LicensePatchM };
type Op = BaseOp | { t: 'tick'; ms: number } | { t: 'batch'; ops: BaseOp[] };

const lic = fc.nat(2);
const key = fc.nat(KEYS.length - 1);
const baseOp: fc.Arbitrary<BaseOp> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      t: fc.constant('admit' as const),
      lic,
      key,
      weight: fc.constantFrom(1, 1, 1, 2, 3),
      // Now and then a socket id that is already connected: the grant must fail and leave nothing.
      dup: fc.oneof({ weight: 12, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    }),
  },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('detach' as const), lic, pick: fc.nat(7) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('kick' as const),
      lic,
      key,
      cooldownMs: fc.oneof(fc.constantFrom(0, 1000, 2000), fc.integer({ min: 1, max: 4000 })),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('end' as const), lic, key }) },
  // Every expiry goes through the license, as the engine's timers and sweep do.
  { weight: 3, arbitrary: fc.record({ t: fc.constant('expireLicense' as const), lic }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('update' as const),
      lic,
      patch: fc.record(
        {
          seats: fc.nat(4),
          status: fc.oneof({ weight: 2, arbitrary: fc.constant('active' as const) }, { weight: 1, arbitrary: fc.constant('suspended' as const) }),
          idleTimeoutSec: fc.integer({ min: 1, max: 3 }),
        },
        { requiredKeys: [] },
      ),
    }),
  },
);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 14, arbitrary: baseOp },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('tick' as const),
      // Deadlines fall on whole seconds after a detach: land on them, just before and just after.
      ms: fc.oneof(fc.constantFrom(0, 1, 999, 1000, 2000, 3000), fc.integer({ min: 0, max: 4000 })),
    }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('batch' as const), ops: fc.array(baseOp, { minLength: 2, maxLength: 5 }) }) },
);
const scenario = fc.record({
  licenses: fc.array(fc.record({ seats: fc.nat(4), idleTimeoutSec: fc.integer({ min: 1, max: 3 }) }), { minLength: 2, maxLength: 3 }),
  ops: fc.array(op, { minLength: 1, maxLength: 40, size: 'max' }),
});
type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

// ---- the database, read directly ----

interface Snapshot {
  licenses: Array<{ id: string; seats: number; status: string; idleTimeoutSec: number; seatsInUse: number }>;
  sessions: Array<{
    id: string;
    licenseId: string;
    key: string;
    weight: number;
    state: string;
    startedAt: number;
    idleSince: number | null;
    expiresAt: number | null;
  }>;
  connections: Array<{ socketId: string; sessionId: string; licenseId: string }>;
  cooldowns: Array<{ licenseId: string; key: string; until: number }>;
  denials: Array<{ licenseId: string; at: number; reason: string; ref: string | null }>;
  released: Array<{ licenseId: string; sessionId: string | null; reason: string | null }>;
}

const num = (v: unknown) => Number(v);
/** The model's seat key: the licenses count seats by session, so the store's value is `["<sid>"]`. */
const sidOf = (seatKeyValue: string) => (JSON.parse(seatKeyValue) as string[])[0]!;
const numOrNull = (v: unknown) => (v === null ? null : Number(v));

async function snapshot(db: Kysely<Database>, ids: string[]): Promise<Snapshot> {
  const [licenses, sessions, connections, cooldowns, denials, released] = await Promise.all([
    db.selectFrom('licenses').select(['id', 'seats', 'status', 'idle_timeout_sec', 'seats_in_use']).where('id', 'in', ids).execute(),
    db.selectFrom('sessions').selectAll().where('license_id', 'in', ids).execute(),
    db
      .selectFrom('connections')
      .select(['socket_id', 'session_id', 'license_id'])
      .where((eb) =>
        eb.or([
          eb('license_id', 'in', ids),
          eb('session_id', 'in', eb.selectFrom('sessions').select('id').where('license_id', 'in', ids)),
        ]),
      )
      .execute(),
    db.selectFrom('kick_cooldowns').selectAll().where('license_id', 'in', ids).execute(),
    db.selectFrom('denials').select(['license_id', 'at', 'reason', 'session_ref']).where('license_id', 'in', ids).execute(),
    db.selectFrom('seat_events').select(['license_id', 'session_id', 'reason']).where('license_id', 'in', ids).where('type', '=', 'released').execute(),
  ]);
  return {
    licenses: licenses.map((l) => ({ id: l.id, seats: num(l.seats), status: l.status, idleTimeoutSec: num(l.idle_timeout_sec), seatsInUse: num(l.seats_in_use) })),
    sessions: sessions.map((s) => ({
      id: s.id,
      licenseId: s.license_id,
      key: sidOf(s.seat_key_value),
      weight: num(s.weight),
      state: s.state,
      startedAt: num(s.started_at),
      idleSince: numOrNull(s.idle_since),
      expiresAt: numOrNull(s.expires_at),
    })),
    connections: connections.map((c) => ({ socketId: c.socket_id, sessionId: c.session_id, licenseId: c.license_id })),
    cooldowns: cooldowns.map((c) => ({ licenseId: c.license_id, key: sidOf(c.seat_key_value), until: num(c.until) })),
    denials: denials.map((d) => ({ licenseId: d.license_id, at: num(d.at), reason: d.reason, ref: d.session_ref })),
    released: released.map((r) => ({ licenseId: r.license_id, sessionId: r.session_id, reason: r.reason })),
  };
}

/** The invariants, from the rows alone. `timeouts`: every idle timeout each license has had. */
function violations(snap: Snapshot, timeouts: Map<string, Set<number>>): string[] {
  const out: string[] = [];
  const sessionById = new Map(snap.sessions.map((s) => [s.id, s]));
  const connsOf = new Map<string, number>();
  for (const c of snap.connections) {
    const s = sessionById.get(c.sessionId);
    if (!s) out.push(`connection ${c.socketId} points to no session (${c.sessionId})`);
    else if (s.licenseId !== c.licenseId) out.push(`connection ${c.socketId} is filed under license ${c.licenseId}, its session under ${s.licenseId}`);
    connsOf.set(c.sessionId, (connsOf.get(c.sessionId) ?? 0) + 1);
  }
  for (const l of snap.licenses) {
    const mine = snap.sessions.filter((s) => s.licenseId === l.id);
    const sum = mine.reduce((n, s) => n + s.weight, 0);
    if (sum > l.seats) out.push(`license ${l.id}: sessions hold ${sum} seats, above seats = ${l.seats}`);
    if (l.status === 'suspended' && mine.length > 0) out.push(`license ${l.id} is suspended but has ${mine.length} session(s)`);
    if (l.seatsInUse !== sum) out.push(`license ${l.id}: seats_in_use = ${l.seatsInUse}, sum(weight) of its sessions = ${sum}`);
    const keys = new Set(mine.map((s) => s.key));
    if (keys.size !== mine.length) out.push(`license ${l.id}: two sessions share a seat key (${mine.map((s) => s.key).join(',')})`);
  }
  for (const s of snap.sessions) {
    const n = connsOf.get(s.id) ?? 0;
    if (s.state === 'active') {
      if (n === 0) out.push(`session ${s.id} (${s.key}) is active with no connection row`);
      if (s.idleSince !== null || s.expiresAt !== null) out.push(`session ${s.id} is active with idle_since/expires_at set`);
    } else if (s.state === 'idle') {
      if (n > 0) out.push(`session ${s.id} (${s.key}) is idle with ${n} connection row(s)`);
      const allowed = timeouts.get(s.licenseId) ?? new Set<number>();
      if (s.idleSince === null || s.expiresAt === null || !allowed.has((s.expiresAt - s.idleSince) / 1000)) {
        out.push(`session ${s.id} is idle with idle_since ${s.idleSince}, expires_at ${s.expiresAt} (timeouts had: ${[...allowed].join(',')})`);
      }
    } else out.push(`session ${s.id} has state ${s.state}`);
  }
  const releasedCount = new Map<string, number>();
  for (const r of snap.released) {
    if (r.sessionId === null) out.push('a released event without a session id');
    else releasedCount.set(r.sessionId, (releasedCount.get(r.sessionId) ?? 0) + 1);
  }
  for (const [id, n] of releasedCount) {
    if (n > 1) out.push(`session ${id} was released ${n} times`);
    if (sessionById.has(id)) out.push(`session ${id} is released but its row is still there`);
  }
  return out;
}

/** The model's view of the same rows, to compare with the model. */
function modelOf(snap: Snapshot): Model {
  const m: Model = { licenses: {} };
  for (const l of snap.licenses) {
    m.licenses[l.id] = {
      id: l.id,
      seats: l.seats,
      status: l.status as MLicense['status'],
      idleTimeoutSec: l.idleTimeoutSec,
      sessions: {},
      cooldowns: {},
      denials: [],
      released: {},
    };
  }
  for (const s of snap.sessions) {
    m.licenses[s.licenseId]!.sessions[s.key] = {
      id: s.id,
      key: s.key,
      weight: s.weight,
      sockets: snap.connections.filter((c) => c.sessionId === s.id).map((c) => c.socketId).sort(),
      state: s.state as 'active' | 'idle',
      startedAt: s.startedAt,
      idleSince: s.idleSince,
      expiresAt: s.expiresAt,
    };
  }
  for (const c of snap.cooldowns) m.licenses[c.licenseId]!.cooldowns[c.key] = c.until;
  for (const d of snap.denials) m.licenses[d.licenseId]!.denials.push({ at: d.at, reason: d.reason as never, ref: d.ref ?? '' });
  for (const r of snap.released) m.licenses[r.licenseId]!.released[r.sessionId ?? ''] = r.reason as never;
  return canonical(m);
}

/** Key order and denial order do not matter. */
function canonical(m: Model): Model {
  const sortObj = <T>(o: Record<string, T>): Record<string, T> => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
  const out: Model = { licenses: {} };
  for (const [id, l] of Object.entries(sortObj(m.licenses))) {
    out.licenses[id] = {
      ...l,
      sessions: sortObj(l.sessions),
      cooldowns: sortObj(l.cooldowns),
      released: sortObj(l.released),
      denials: [...l.denials].sort((a, b) => a.at - b.at || a.reason.localeCompare(b.reason) || a.ref.localeCompare(b.ref)),
    };
  }
  return out;
}

/** Where the model and the rows differ, license by license. */
function differences(model: Model, snap: Snapshot): string[] {
  const want = canonical(model);
  const got = modelOf(snap);
  const out: string[] = [];
  for (const id of Object.keys(want.licenses)) {
    const w = want.licenses[id]!;
    const g = got.licenses[id];
    if (isDeepStrictEqual(w, g)) continue;
    const fields = Object.keys(w).filter((f) => !isDeepStrictEqual(w[f as keyof MLicense], g?.[f as keyof MLicense]));
    out.push(`license ${id} differs in ${fields.join(', ')}:\n  model:    ${JSON.stringify(pick(w, fields))}\n  database: ${JSON.stringify(g && pick(g, fields))}`);
  }
  return out;
}

function pick(l: MLicense, fields: string[]) {
  return Object.fromEntries(fields.map((f) => [f, l[f as keyof MLicense]]));
}

function* permutations(n: number): Generator<number[]> {
  const a = Array.from({ length: n }, (_, i) => i);
  // Heap's algorithm.
  const c = new Array<number>(n).fill(0);
  yield [...a];
  let i = 0;
  while (i < n) {
    if (c[i]! < i) {
      const j = i % 2 === 0 ? 0 : c[i]!;
      [a[j], a[i]] = [a[i]!, a[j]!];
      yield [...a];
      c[i]! += 1;
      i = 0;
    } else {
      c[i] = 0;
      i += 1;
    }
  }
}

// ---- calling the store ----

const stats = { grants: 0, resumes: 0, denied: {} as Record<string, number>, errors: 0, idled: 0, ended: 0, expired: 0, reduced: 0, batches: 0, steps: 0 };

/** Expiry may release only idle sessions past their deadline, with no socket (model-free check). */
function checkExpired(ended: EndedSession[], now: number, what: string): void {
  for (const e of ended) {
    const s = e.session;
    if (s.state !== 'idle' || s.sockets !== 0 || s.expiresAt === null || s.expiresAt > now || e.reason !== 'idle_timeout') {
      throw new Error(`${what} at ${now} released a session that was not idle past its deadline: ${JSON.stringify({ ...s, reason: e.reason })}`);
    }
  }
}

async function call(store: SeatStore, step: Step): Promise<{ obs: Observed; error?: string }> {
  const { now } = step;
  switch (step.kind) {
    case 'admit': {
      let o;
      try {
        o = await store.admit({
          licenseId: step.licenseId,
          socketId: step.socketId,
          nodeId: 'node-props',
          now,
          claimant: { sessionRef: step.key, userId: null, deviceId: null, instanceId: null, app: null, name: null, weight: step.weight },
        });
      } catch (err) {
        stats.errors++;
        return { obs: { kind: 'error' }, error: String(err) };
      }
      stats.expired += o.kind === 'granted' || o.kind === 'denied' ? o.expired.length : 0;
      if (o.kind === 'granted') {
        checkExpired(o.expired, now, 'admit');
        if (o.resumed) stats.resumes++;
        else stats.grants++;
        const { session } = o;
        const expired = o.expired.map((e) => e.session.id).sort();
        return { obs: { kind: 'granted', resumed: o.resumed, sessionId: session.id, weight: session.weight, sockets: session.sockets, seatsInUse: o.seatsInUse, expired } };
      }
      if (o.kind === 'denied') {
        checkExpired(o.expired, now, 'admit');
        stats.denied[o.denial.reason] = (stats.denied[o.denial.reason] ?? 0) + 1;
        return { obs: { kind: 'denied', reason: o.denial.reason, seatsInUse: o.seatsInUse, expired: o.expired.map((e) => e.session.id).sort() } };
      }
      throw new Error(`admit returned ${o.kind}`);
    }
    case 'detach': {
      const o = await store.detach(step.socketId, now);
      if (!o) return { obs: { kind: 'none' } };
      if (o.session.state === 'idle') stats.idled++;
      return { obs: { kind: 'detached', sessionId: o.session.id, state: o.session.state, sockets: o.session.sockets, seatsInUse: o.seatsInUse } };
    }
    case 'end': {
      const o = await store.endSession(step.sessionId, step.reason, now, step.cooldownUntil);
      if (!o) return { obs: { kind: 'none' } };
      stats.ended++;
      return { obs: { kind: 'ended', sessionId: o.session.id, reason: o.reason, sockets: o.session.sockets, seatsInUse: o.seatsInUse } };
    }
    case 'expireLicense': {
      const o = await store.expireLicense(step.licenseId, now);
      checkExpired(o, now, 'expireLicense');
      stats.expired += o.length;
      return { obs: { kind: 'expired', ids: o.map((e) => e.session.id).sort() } };
    }
    case 'update': {
      const o = await store.updateLicense(step.licenseId, step.patch, now);
      if (!o) throw new Error(`updateLicense found no license ${step.licenseId}`);
      stats.reduced += o.ended.length;
      const { license } = o;
      return {
        obs: {
          kind: 'updated',
          seats: license.seats,
          status: license.status,
          idleTimeoutSec: license.idleTimeoutSec,
          ended: o.ended.map((e): [string, string] => [e.session.id, e.reason]),
        },
      };
    }
  }
}

// ---- one run ----

let runCounter = 0;

async function runScenario(stores: SeatStore[], reader: Kysely<Database>, sc: Scenario): Promise<void> {
  const tag = `p${++runCounter}-${randomUUID().slice(0, 8)}`;
  const tenantId = `tenant-${tag}`;
  await stores[0]!.createTenant({ id: tenantId, name: 'props', createdAt: START }, `hash-${tag}`);
  const model: { m: Model } = { m: { licenses: {} } };
  const ids: string[] = [];
  const timeouts = new Map<string, Set<number>>();
  for (const [i, spec] of sc.licenses.entries()) {
    const id = `lic-${tag}-${i}`;
    await stores[0]!.createLicense({
      id,
      tenantId,
      name: `L${i}`,
      seats: spec.seats,
      seatCap: null,
      seatKey: ['session'],
      idleTimeoutSec: spec.idleTimeoutSec,
      status: 'active',
      deniedMessage: 'There are no free seats available',
      ...POLICY_DEFAULTS,
      secret: 's',
      createdAt: START,
      updatedAt: START,
    });
    ids.push(id);
    timeouts.set(id, new Set([spec.idleTimeoutSec]));
    model.m.licenses[id] = { id, seats: spec.seats, status: 'active', idleTimeoutSec: spec.idleTimeoutSec, sessions: {}, cooldowns: {}, denials: [], released: {} };
  }

  let now = START;
  let sockets = 0;
  let calls = 0;
  const storeFor = () => stores[calls++ % stores.length]!;
  const licenseOf = (n: number) => ids[n % ids.length]!;
  /** The `n`th of the license's live sessions, else one it released, else one that never was. */
  const sessionOf = (l: MLicense, n: number) => {
    const live = Object.values(l.sessions).sort((a, b) => (a.key < b.key ? -1 : 1));
    return live[n % Math.max(1, live.length)]?.id ?? Object.keys(l.released).at(-1) ?? `no-such-session-${tag}`;
  };

  const resolve = (o: BaseOp): Step => {
    const l = model.m.licenses[licenseOf(o.lic)]!;
    const openSockets = () => Object.values(l.sessions).flatMap((s) => s.sockets).sort();
    switch (o.t) {
      case 'admit': {
        const open = openSockets();
        const socketId = o.dup && open.length > 0 ? open[o.key % open.length]! : `${tag}-s${++sockets}`;
        return { kind: 'admit', licenseId: l.id, key: KEYS[o.key]!, weight: o.weight, socketId, now };
      }
      case 'detach': {
        const open = openSockets();
        return { kind: 'detach', socketId: open.length > 0 ? open[o.pick % open.length]! : `${tag}-no-such-socket`, now };
      }
      case 'kick':
        return { kind: 'end', sessionId: sessionOf(l, o.key), reason: 'kicked', cooldownUntil: now + o.cooldownMs, now };
      case 'end':
        return { kind: 'end', sessionId: sessionOf(l, o.key), reason: 'ended_by_app', now };
      case 'expireLicense':
        return { kind: 'expireLicense', licenseId: l.id, now };
      case 'update':
        if (o.patch.idleTimeoutSec !== undefined) timeouts.get(l.id)!.add(o.patch.idleTimeoutSec);
        return { kind: 'update', licenseId: l.id, patch: o.patch, now };
    }
  };

  const check = async (where: string) => {
    const snap = await snapshot(reader, ids);
    const bad = violations(snap, timeouts);
    if (bad.length > 0) throw new Error(`${where}: invariant broken:\n${bad.join('\n')}`);
    return snap;
  };

  for (const [i, o] of sc.ops.entries()) {
    if (o.t === 'tick') {
      now += o.ms;
      continue;
    }
    stats.steps++;
    if (o.t !== 'batch') {
      const step = resolve(o);
      const { obs, error } = await call(storeFor(), step);
      const expected = apply(model.m, step, obs);
      if (!isDeepStrictEqual(obs, expected)) {
        throw new Error(
          `op ${i} ${JSON.stringify(step)}:\n  store returned ${JSON.stringify(obs)}${error ? ` (${error})` : ''}\n  model expects  ${JSON.stringify(expected)}`,
        );
      }
      const snap = await check(`op ${i} ${JSON.stringify(step)}`);
      const diff = differences(model.m, snap);
      if (diff.length > 0) throw new Error(`op ${i} ${JSON.stringify(step)}: the database and the model disagree:\n${diff.join('\n')}`);
      continue;
    }

    // A concurrent batch: every call at once, on every store (node) in turn.
    stats.batches++;
    const steps = o.ops.map(resolve);
    const results = await Promise.all(steps.map((s) => call(storeFor(), s)));
    const snap = await check(`batch at op ${i} ${JSON.stringify(steps)}`);
    let found: Model | undefined;
    for (const order of permutations(steps.length)) {
      const m = structuredClone(model.m);
      const ok = order.every((j) => isDeepStrictEqual(apply(m, steps[j]!, results[j]!.obs), results[j]!.obs));
      if (ok && differences(m, snap).length === 0) {
        found = m;
        break;
      }
    }
    if (!found) {
      // Show the model run in the order the calls were made, for a start.
      const m = structuredClone(model.m);
      const expected = steps.map((s, j) => apply(m, s, results[j]!.obs));
      throw new Error(
        `batch at op ${i}: no order of its calls explains what the store returned and wrote.\n` +
          steps
            .map((s, j) => `  ${JSON.stringify(s)}\n    store: ${JSON.stringify(results[j]!.obs)}${results[j]!.error ? ` (${results[j]!.error})` : ''}\n    model (in call order): ${JSON.stringify(expected[j])}`)
            .join('\n') +
          `\n  database vs the model in call order:\n${differences(m, snap).join('\n')}`,
      );
    }
    model.m = found;
  }
}

const fcParams = (runs: number): fc.Parameters<[Scenario]> => ({
  numRuns: Number(process.env.FC_RUNS ?? runs),
  ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}),
  ...(process.env.FC_PATH ? { path: process.env.FC_PATH } : {}),
});

for (const dialect of DIALECTS) {
  describeWith([dialect.missing()])(`admission properties: ${dialect.name}`, () => {
    let opened: Awaited<ReturnType<Dialect['open']>> | undefined;
    beforeAll(async () => {
      opened = await dialect.open();
    }, 60_000);
    afterAll(async () => {
      await opened?.close();
    });

    it(
      'random admit/detach/expire/kick/end/license changes, sequential and concurrent, keep the invariants and agree with the model',
      async () => {
        const { stores, reader } = opened!;
        const started = Date.now();
        for (const k of Object.keys(stats)) (stats as Record<string, unknown>)[k] = k === 'denied' ? {} : 0;
        await fc.assert(
          fc.asyncProperty(scenario, (sc) => runScenario(stores, reader, sc)),
          fcParams(dialect.runs),
        );
        process.stdout.write(`[admission properties: ${dialect.name}] ${Date.now() - started} ms ${JSON.stringify(stats)}\n`);
      },
      180_000,
    );
  });
}
