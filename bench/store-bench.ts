// Store throughput without sockets: admissions, detaches (a session going idle) and idle
// releases per second straight through the SeatStore, one operation at a time and with many in flight.
import { type NewLicenseRow, POLICY_DEFAULTS } from '../server/seats/types';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { SeatStore } from '../server/seats/seat-store';
import { round } from './stats';

export interface StoreFigures {
  admissionsPerSec: number;
  admissionsConcurrentPerSec: number;
  detachesPerSec: number;
  /**
   * Detaches per second of one license's sockets, `inFlight` together, as a mass disconnect makes
   * them (the sockets admitted in flight, each its session's last).
   */
  detachesConcurrentPerSec: number;
  releasesPerSec: number;
  /** Of those passes (one per seat's deadline), how many found nothing left due. */
  emptyReleases: number;
  /**
   * Admissions per second (in flight together, `ops / 10` of them) while the `ops` seats that went
   * idle are past their deadline and no release has run yet (a burst falling due, a dead node's
   * seats before a sweep): an admission that fits must not cost more for them.
   */
  admissionsAmidDuePerSec: number;
  /**
   * Releases per second on a full license of 50 seats with `ops / 10` (at least 100) claimants waiting in its
   * queue, each release serving the queue (one waiting claimant takes the seat), one at a time.
   */
  queueReleasesPerSec: number;
  /** How many waited in that queue. */
  queueWaiting: number;
  /**
   * Bare round trips per second to the same database, one at a time (`select $1`, through a pool
   * of its own): the most a row of moves made one at a time could read on this machine, each
   * move being a round trip. Null where there is no round trip (SQLite, in the process).
   */
  roundTripsPerSec: number | null;
  ops: number;
  /** The same per second of this process's CPU time: steadier than wall time on a busy machine. */
  perCpuSec: { admissions: number; admissionsConcurrent: number; detaches: number; releases: number; admissionsAmidDue: number; queueReleases: number; detachesConcurrent: number };
  /**
   * What this process wrote per admission with many in flight (write calls and bytes, from Linux's
   * /proc/self/io; null elsewhere): the WAL frames and checkpoints of SQLite (each page changed
   * is written twice), a count the machine's load does not move. With PostgreSQL, which writes
   * in its own processes, only this client's socket writes.
   */
  writes: { syscallsPerAdmission: number | null; kibPerAdmission: number | null } | null;
}

/** This process's write calls and bytes written so far (Linux), or null. */
function ioCounters(): { syscw: number; wchar: number } | null {
  try {
    const fields = new Map(readFileSync('/proc/self/io', 'utf8').trim().split('\n').map((line) => line.split(': ') as [string, string]));
    return { syscw: Number(fields.get('syscw')), wchar: Number(fields.get('wchar')) };
  } catch {
    return null;
  }
}

const NODE = 'bench-node';

/** A plain license for the bench's stores: seats by session, a 1 s idle timeout, no policy. */
export function benchLicense(f: { id: string; tenantId: string; name: string; seats: number; secret: string; now: number }): NewLicenseRow {
  const { now, ...fields } = f;
  return { ...fields, seatCap: null, seatKey: ['session'], idleTimeoutSec: 1, status: 'active', ...POLICY_DEFAULTS, deniedMessage: 'no', createdAt: now, updatedAt: now };
}

export async function storeThroughput(store: SeatStore, ops: number, inFlight = 32, roundTrip?: (i: number) => Promise<unknown>): Promise<StoreFigures> {
  await store.migrate();
  let roundTripsPerSec: number | null = null;
  if (roundTrip) {
    // Warmed up first (the connection opened, the statement's first plans), as the moves are by then.
    for (let i = 0; i < 100; i++) await roundTrip(i);
    const t0 = performance.now();
    for (let i = 0; i < ops; i++) await roundTrip(i);
    roundTripsPerSec = ops / ((performance.now() - t0) / 1000);
  }
  const now = Date.now();
  const tenant = await store.createTenant({ id: randomUUID(), name: `bench-${now}`, createdAt: now }, randomUUID());
  const license = await store.createLicense(benchLicense({ id: `lic_bench_${randomUUID()}`, tenantId: tenant.id, name: 'bench', seats: ops * 4, secret: 'x'.repeat(32), now }));
  // Random like real ones (socket.io's ids are 15 random bytes, base64url; clients' session refs
  // are often UUIDs): sequential ones would all land on the last page of each index.
  const socketIds = { a: [] as string[], c: [] as string[], d: [] as string[] };
  const admit = (i: number, tag: 'a' | 'c' | 'd') =>
    store.admit({
      licenseId: license.id,
      socketId: (socketIds[tag][i] = randomBytes(15).toString('base64url')),
      nodeId: NODE,
      now: Date.now(),
      claimant: {
        sessionRef: randomUUID(),
        userId: null,
        deviceId: null,
        instanceId: null,
        app: 'bench',
        name: null,
        weight: 1,
      },
    });
  const cpu: number[] = [];
  const timed = async (fn: () => Promise<void>, count = ops) => {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await fn();
    const c = process.cpuUsage(c0);
    cpu.push(count / ((c.user + c.system) / 1e6));
    return count / ((performance.now() - t0) / 1000);
  };
  const pool = async (n: number, fn: (i: number) => Promise<unknown>) => {
    let next = 0;
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (next < n) await fn(next++);
    }));
  };

  const admissionsPerSec = await timed(async () => {
    for (let i = 0; i < ops; i++) {
      const o = await admit(i, 'a');
      if (o.kind !== 'granted') throw new Error(`store bench: admission ${i} was ${o.kind}`);
    }
  });
  const io0 = ioCounters();
  const admissionsConcurrentPerSec = await timed(() =>
    pool(ops, async (i) => {
      const o = await admit(i, 'c');
      if (o.kind !== 'granted') throw new Error(`store bench: admission ${i} was ${o.kind}`);
    }),
  );
  const io1 = ioCounters();
  const writes = io0 && io1 ? { syscallsPerAdmission: round((io1.syscw - io0.syscw) / ops), kibPerAdmission: round((io1.wchar - io0.wchar) / ops / 1024) } : null;
  const deadlines: number[] = [];
  const detachesPerSec = await timed(async () => {
    for (let i = 0; i < ops; i++) {
      // With the license the socket was admitted to, as the server's sockets leave.
      const o = await store.detach(socketIds.a[i]!, Date.now(), license.id);
      if (o?.session.expiresAt) deadlines.push(o.session.expiresAt);
    }
  });
  // The idle seats' deadlines pass (the license's idle timeout is a second), with no release run.
  const lastDeadline = deadlines.reduce((a, b) => Math.max(a, b), 0);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, lastDeadline - Date.now()) + 10));
  const amid = Math.max(1, Math.round(ops / 10));
  const admissionsAmidDuePerSec = await timed(
    () =>
      pool(amid, async (i) => {
        const o = await admit(i, 'd');
        if (o.kind !== 'granted') throw new Error(`store bench: admission ${i} amid seats past their deadline was ${o.kind}`);
      }),
    amid,
  );
  let released = 0;
  let emptyReleases = 0;
  // Each seat's deadline asks for a pass that releases what is due on the license by then: the
  // first of the seats falling due in the same millisecond takes them all, and the others' passes
  // find nothing (as a cluster's other nodes' timers do, for seats a pass of one node released).
  const releasesPerSec = await timed(async () => {
    for (const at of deadlines) {
      const n = (await store.expireLicense(license.id, at)).length;
      released += n;
      if (n === 0) emptyReleases++;
    }
  });
  if (released !== ops) throw new Error(`store bench: released ${released} of ${ops}`);
  const queued = await queueReleases(store, tenant.id, Math.max(amid, 100), timed);
  let idled = 0;
  const detachesConcurrentPerSec = await timed(() =>
    pool(ops, async (i) => {
      if ((await store.detach(socketIds.c[i]!, Date.now(), license.id))?.session.state === 'idle') idled++;
    }),
  );
  if (idled !== ops) throw new Error(`store bench: ${idled} of ${ops} detaches in flight idled their session`);
  const [admissions, admissionsConcurrent, detaches, admissionsAmidDue, releases, queueReleases_, detachesConcurrent] = cpu.map(Math.round) as [number, number, number, number, number, number, number];
  return {
    admissionsPerSec,
    admissionsConcurrentPerSec,
    detachesPerSec,
    detachesConcurrentPerSec,
    releasesPerSec,
    emptyReleases,
    admissionsAmidDuePerSec,
    queueReleasesPerSec: queued.perSec,
    queueWaiting: queued.waiting,
    roundTripsPerSec,
    ops,
    perCpuSec: { admissions, admissionsConcurrent, detaches, releases, admissionsAmidDue, queueReleases: queueReleases_, detachesConcurrent },
    writes,
  };
}

/** A full license of 50 seats with `waiting` claimants in its queue: releases per second, each serving the queue. */
async function queueReleases(store: SeatStore, tenantId: string, waiting: number, timed: (fn: () => Promise<void>, count: number) => Promise<number>) {
  const seats = 50;
  const now = Date.now();
  const license = await store.createLicense({ ...benchLicense({ id: `lic_queue_${randomUUID()}`, tenantId, name: 'queue', seats, secret: 'x'.repeat(32), now }), queue: true, idleTimeoutSec: 600 });
  const claimant = () => ({ sessionRef: randomUUID(), userId: null, deviceId: null, instanceId: null, app: 'bench', name: null, weight: 1 });
  const admit = (queue: boolean) => store.admit({ licenseId: license.id, socketId: randomBytes(15).toString('base64url'), nodeId: NODE, now: Date.now(), claimant: claimant(), queue });
  const held: string[] = [];
  for (let i = 0; i < seats; i++) {
    const o = await admit(false);
    if (o.kind !== 'granted') throw new Error(`store bench: queue license admission ${i} was ${o.kind}`);
    held.push(o.session.id);
  }
  for (let i = 0; i < waiting; i++) {
    const o = await admit(true);
    if (o.kind !== 'queued') throw new Error(`store bench: claimant ${i} was ${o.kind}, not queued`);
  }
  const perSec = await timed(async () => {
    for (const id of held) if (!(await store.endSession(id, 'ended_by_app', Date.now()))) throw new Error('store bench: a queue release found no session');
  }, seats);
  const left = (await store.queuePlaces(license.id)).length;
  if (left !== waiting - seats) throw new Error(`store bench: ${waiting - left} of ${seats} releases served the queue`);
  return { perSec, waiting };
}
