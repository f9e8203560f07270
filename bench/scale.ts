// `npm run bench -- --scale`: how a connect's server CPU and a socket's heap grow with the sockets
// held (1,000, 10,000, and as many as the server's open-file limit allows), with the sessions
// spread over one license or many. Each row runs on a fresh server and a fresh SQLite file, after a
// warm-up pass, so no row inherits another's sockets, sessions or JIT state; the bare socket.io
// floor is measured at the same socket counts.
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Commits, KiB, type Lic, type Node, type Worker, closeAll, kill9, log, openAll, startFloor, startOurs, transactionsPerCommit } from './kit';
import type { Memory } from './node-memory';
import { round } from './stats';
import { benchLicense } from './store-bench';

/** A row of the plan: `max` is the open-file limit less what the idle process has open, less HEADROOM. */
export interface ScaleConfig {
  sockets: number | 'max';
  /** Licenses on the node, the sockets spread evenly over them (ours only). */
  licenses: number;
}

/**
 * File descriptors kept free beyond those the idle server has open: SQLite's WAL and shared-memory
 * files and the checkpointer's connection open lazily, and the driver's REST calls and IPC need a
 * few; 256 is several times what those take.
 */
export const HEADROOM = 256;

export interface ScalePlan {
  ours: ScaleConfig[];
  floor: Array<ScaleConfig['sockets']>;
  /** Connects (then closed) before each row's measure, on a license of their own. */
  warmUp: number;
  maxCap: number;
}

export function scalePlan(smoke: boolean): ScalePlan {
  if (smoke) {
    return {
      ours: [{ sockets: 100, licenses: 1 }, { sockets: 100, licenses: 100 }, { sockets: 300, licenses: 1 }, { sockets: 300, licenses: 10 }, { sockets: 'max', licenses: 1 }],
      floor: [100, 300, 'max'],
      warmUp: 100,
      maxCap: 400,
    };
  }
  return {
    ours: [
      { sockets: 1000, licenses: 1 },
      { sockets: 1000, licenses: 1000 },
      { sockets: 10_000, licenses: 1 },
      { sockets: 10_000, licenses: 100 },
      { sockets: 10_000, licenses: 10_000 },
      { sockets: 'max', licenses: 1 },
    ],
    floor: [1000, 10_000, 'max'],
    warmUp: 1000,
    maxCap: Number.POSITIVE_INFINITY,
  };
}

/** The soft open-file limit a running process has (its `Max open files` in /proc/<pid>/limits). */
export function fdLimit(pid: number): number {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const soft = line?.trim().split(/\s+/)[3];
  if (!soft || !/^\d+$/.test(soft)) throw new Error(`no open-file limit for pid ${pid}: ${line}`);
  return Number(soft);
}

export const openFds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

/** Tenant and licenses written straight into the SQLite file before the server starts (10,000 over REST would take minutes here). */
export async function seedLicenses(dbFile: string, count: number, seatsEach: number): Promise<Lic[]> {
  const { SqliteSeatStore } = await import('../server/store/sqlite-store');
  const store = SqliteSeatStore.open(dbFile);
  try {
    await store.migrate();
    const now = Date.now();
    const tenant = await store.createTenant({ id: randomUUID(), name: 'bench-scale', createdAt: now }, randomBytes(32).toString('hex'));
    const out: Lic[] = [];
    for (let i = 0; i < count; i++) {
      const secret = randomBytes(24).toString('hex');
      const lic = await store.createLicense(benchLicense({ id: `lic_scale_${i}_${randomBytes(4).toString('hex')}`, tenantId: tenant.id, name: `scale ${i}`, seats: seatsEach, secret, now }));
      out.push({ id: lic.id, secret });
    }
    return out;
  } finally {
    await store.close();
  }
}

export interface ScaleRow {
  kind: 'ours' | 'floor';
  /** As planned (a number, or `max`). */
  planned: number | 'max';
  sockets: number;
  licenses: number | null;
  sessionsPerLicense: number | null;
  fdLimit: number;
  fdsIdle: number;
  fdsHeld: number;
  headroom: number | null;
  /** A `max` row held fewer than the limit allows (--smoke caps it). */
  capped: boolean;
  cpuPerConnectMs: number | null;
  /** SQLite's transactions per commit during the ramp (ours; seat-node.ts's `commits`). */
  transactionsPerCommit?: number | null;
  heapPerSocketKiB: number | null;
  rssPerSocketKiB: number | null;
  connectsPerSec: number | null;
  ok: number;
  failed: number;
  errors: Record<string, number>;
  serverSockets: number;
  unexpectedDisconnects: number;
  /** failed + unexpected disconnects + sockets the server does not hold. */
  errorCount: number;
}

async function measure(kind: 'ours' | 'floor', cfg: ScaleConfig, workers: Worker[], dataDir: string, plan: ScalePlan, index: number): Promise<ScaleRow> {
  const dbFile = path.join(dataDir, `scale-${index}.db`);
  const perLicenseSeats = 1_000_000;
  const licenses = kind === 'ours' ? await seedLicenses(dbFile, cfg.licenses + 1, perLicenseSeats) : undefined;
  const node: Node = kind === 'ours' ? await startOurs(dbFile) : await startFloor();
  try {
    const pid = node.child.pid!;
    const warm = licenses?.pop();
    // Warm-up: JIT, statement caches and the socket.io paths, then the warm-up seats released
    // (1 s idle timeout) so they are not in the memory measured below.
    await openAll(workers, { tag: 'scale-warm', url: node.url, license: warm, prefix: `scale-warm-${index}`, count: plan.warmUp, concurrency: 16 });
    await closeAll(workers, 'scale-warm');
    await sleep(kind === 'ours' ? 3000 : 500);
    const limit = fdLimit(pid);
    const fdsIdle = openFds(pid);
    const workerRoom = Math.min(...workers.map((w) => fdLimit(w.child.pid!) - openFds(w.child.pid!) - HEADROOM)) * workers.length;
    const room = limit - fdsIdle - HEADROOM;
    const sockets = cfg.sockets === 'max' ? Math.min(room, workerRoom, plan.maxCap) : cfg.sockets;
    const before = await node.call<Memory>('memory');
    const cpu0 = await node.call<number>('cpu');
    const commits0 = kind === 'ours' ? await node.call<Commits | null>('commits') : null;
    log(`scale: ${kind}, ${sockets} sockets${licenses ? ` over ${licenses.length} license(s)` : ''} (fd limit ${limit}, ${fdsIdle} open idle)`);
    const o = await openAll(workers, { tag: 'scale', url: node.url, licenses, prefix: `scale-${index}`, count: sockets, concurrency: 64, timeoutMs: 60_000 });
    const cpuMs = ((await node.call<number>('cpu')) - cpu0) / 1000;
    const commits1 = commits0 ? await node.call<Commits>('commits') : null;
    await sleep(1000);
    const serverSockets = await node.call<number>('sockets');
    const fdsHeld = openFds(pid);
    const after = await node.call<Memory>('memory');
    const unexpected = await closeAll(workers, 'scale');
    const per = (b: number, a: number) => round((a - b) / sockets / KiB);
    return {
      kind,
      planned: cfg.sockets,
      sockets,
      licenses: licenses ? licenses.length : null,
      sessionsPerLicense: licenses ? Math.ceil(sockets / licenses.length) : null,
      fdLimit: limit,
      fdsIdle,
      fdsHeld,
      headroom: cfg.sockets === 'max' ? limit - fdsIdle - sockets : null,
      capped: cfg.sockets === 'max' && sockets < room,
      cpuPerConnectMs: round(cpuMs / Math.max(1, o.ok)),
      ...(commits0 && commits1 ? { transactionsPerCommit: transactionsPerCommit(commits0, commits1) } : {}),
      heapPerSocketKiB: per(before.heapUsed, after.heapUsed),
      rssPerSocketKiB: per(before.rss, after.rss),
      connectsPerSec: round(o.perSec),
      ok: o.ok,
      failed: o.failed,
      errors: o.errors,
      serverSockets,
      unexpectedDisconnects: unexpected,
      errorCount: o.failed + unexpected + Math.abs(sockets - serverSockets),
    };
  } finally {
    // The row's server and file are thrown away: nothing to release gracefully.
    await kill9(node);
    for (const f of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`]) rmSync(f, { force: true });
  }
}

export async function scalePhase(workers: Worker[], dataDir: string, smoke: boolean): Promise<{ rows: ScaleRow[]; headroom: number }> {
  const plan = scalePlan(smoke);
  const rows: ScaleRow[] = [];
  let i = 0;
  // The floor at a socket count just before ours at it, so the two see about the same load from
  // the rest of the machine.
  for (const sockets of [...new Set([...plan.floor, ...plan.ours.map((c) => c.sockets)])]) {
    if (plan.floor.includes(sockets)) rows.push(await measure('floor', { sockets, licenses: 1 }, workers, dataDir, plan, i++));
    for (const cfg of plan.ours.filter((c) => c.sockets === sockets)) rows.push(await measure('ours', cfg, workers, dataDir, plan, i++));
  }
  return { rows, headroom: HEADROOM };
}
