// The bench report: figures side by side (ours, the bare socket.io floor), the targets of issue 5,
// and the machine; printed as a table and written as JSON and Markdown.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PerfSplit } from './perf-split';
import { scaleRows } from './scale-report';

export interface BenchReport {
  mode: string;
  command: string;
  argv: string[];
  startedAt: string;
  durationSec: number;
  machine: ReturnType<typeof machineInfo>;
  sizes: Record<string, number>;
  sections: Record<string, any>;
  rows?: Row[];
  /** `--pin`: the CPUs the servers ran on, and those of the load processes and the driver. */
  pinned?: { servers: string; load: string };
}

export interface Row {
  section: string;
  metric: string;
  ours: number | null;
  floor: number | null;
  /** ours / floor, where both apply. */
  ratio: number | null;
  target: string;
  met: boolean | null;
  /** Rows that need something the run may not have (PostgreSQL, a cluster). */
  optional?: boolean;
  /** Why the figure is missing when what it needs was there but the phase failed. */
  failed?: string;
}

export function machineInfo() {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    hostname: os.hostname(),
    /** Other work on the machine skews every figure; the ratios to the floor less so. */
    loadAverage1m: Math.round(os.loadavg()[0]! * 100) / 100,
  };
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const ratio = (a: number | null, b: number | null) => (a !== null && b !== null && b !== 0 ? Math.round((a / b) * 100) / 100 : null);

/** The rows of the table, each target judged on this run's figures. */
export function rows(r: BenchReport): Row[] {
  const s = r.sections;
  // The scale run (`--scale`) is a table of its own.
  if (s.scale) return scaleRows(s.scale);
  const out: Row[] = [];
  const add = (row: Omit<Row, 'ratio'> & { ratio?: number | null }) => out.push({ ratio: null, ...row });
  const n = r.sizes.rampSockets ?? 0;

  const cl = s.connectLatency;
  const rate = cl?.ratePerSec ?? r.sizes.rate;
  add({ section: 'connect', metric: `connect→seat:granted p50 ms @ ${rate}/s`, ours: num(cl?.ours?.latencyMs?.p50), floor: num(cl?.floor?.latencyMs?.p50), target: '', met: null });
  add({ section: 'connect', metric: `connect→seat:granted p99 ms @ ${rate}/s`, ours: num(cl?.ours?.latencyMs?.p99), floor: num(cl?.floor?.latencyMs?.p99), target: '', met: null });

  const rp = s.ramp;
  // A full run ramps each server again after its first ramp, in turn: rows of the later ramps' medians.
  const later = (rp?.rounds ?? r.sizes.rampRounds ?? 1) - 1;
  const cps = { o: num(rp?.ours?.connectsPerSec), f: num(rp?.floor?.connectsPerSec) };
  const cpsRatio = ratio(cps.o, cps.f);
  add({ section: 'connect', metric: `sustainable connects/s (ramp to ${n}, ${rp?.inFlight ?? (r.sizes.rampInFlight ?? 0) * (r.sizes.workers ?? 1)} in flight)`, ours: cps.o, floor: cps.f, ratio: cpsRatio, target: '≥ 0.85 × floor', met: cpsRatio === null ? null : cpsRatio >= 0.85 });
  const cpu = { o: num(rp?.ours?.cpuPerConnectMs), f: num(rp?.floor?.cpuPerConnectMs) };
  const cpuRatio = ratio(cpu.o, cpu.f);
  add({ section: 'connect', metric: 'server CPU ms per connect (ramp)', ours: cpu.o, floor: cpu.f, ratio: cpuRatio, target: '≤ 1.3 × floor', met: cpuRatio === null ? null : cpuRatio <= 1.3 });
  // Of that, the kernel's (system time): the rest is each process's own code, in user space.
  const kernelRow = (metric: string, o: unknown, f: unknown) => {
    const sys = { o: num(o), f: num(f) };
    if (sys.o !== null || sys.f !== null) add({ section: 'connect', metric, ours: sys.o, floor: sys.f, ratio: ratio(sys.o, sys.f), target: '', met: null });
  };
  kernelRow('of which in the kernel (system time, ramp)', rp?.ours?.systemPerConnectMs, rp?.floor?.systemPerConnectMs);
  kernelRow('of which off the main thread (V8 collector and compilers, libuv pool; ramp)', rp?.ours?.helpersPerConnectMs, rp?.floor?.helpersPerConnectMs);
  if (later > 0) {
    const lcps = { o: num(rp?.ours?.later?.connectsPerSec), f: num(rp?.floor?.later?.connectsPerSec) };
    const lcpsRatio = ratio(lcps.o, lcps.f);
    add({ section: 'connect', metric: `sustainable connects/s (later ramps, median of ${later})`, ours: lcps.o, floor: lcps.f, ratio: lcpsRatio, target: '≥ 0.85 × floor', met: lcpsRatio === null ? null : lcpsRatio >= 0.85 });
    const lcpu = { o: num(rp?.ours?.later?.cpuPerConnectMs), f: num(rp?.floor?.later?.cpuPerConnectMs) };
    const lcpuRatio = ratio(lcpu.o, lcpu.f);
    add({ section: 'connect', metric: `server CPU ms per connect (later ramps, median of ${later})`, ours: lcpu.o, floor: lcpu.f, ratio: lcpuRatio, target: '≤ 1.3 × floor', met: lcpuRatio === null ? null : lcpuRatio <= 1.3 });
    kernelRow(`of which in the kernel (system time, later ramps, median of ${later})`, rp?.ours?.later?.systemPerConnectMs, rp?.floor?.later?.systemPerConnectMs);
    kernelRow(`of which off the main thread (later ramps, median of ${later})`, rp?.ours?.later?.helpersPerConnectMs, rp?.floor?.later?.helpersPerConnectMs);
  }
  // With --perf only: where each server's CPU went during its last ramp, by part (perf-split.ts).
  const perf = { o: rp?.ours?.perf as (PerfSplit & { round?: number }) | undefined, f: rp?.floor?.perf as (PerfSplit & { round?: number }) | undefined };
  if (perf.o || perf.f) {
    const at = `perf, ramp ${perf.o?.round ?? perf.f?.round ?? 1}`;
    const total = { o: num(perf.o?.totalUsPerConnect), f: num(perf.f?.totalUsPerConnect) };
    add({ section: 'connect', metric: `server CPU µs per connect, every thread (${at})`, ours: total.o, floor: total.f, ratio: ratio(total.o, total.f), target: '', met: null });
    // Ours' largest parts first, then what only the floor has.
    const names = [...new Set([...Object.keys(perf.o?.parts ?? {}), ...Object.keys(perf.f?.parts ?? {})])];
    for (const part of names) {
      const v = { o: num(perf.o?.parts[part] ?? (perf.o ? 0 : null)), f: num(perf.f?.parts[part] ?? (perf.f ? 0 : null)) };
      add({ section: 'connect', metric: `of which ${part} (${at})`, ours: v.o, floor: v.f, ratio: ratio(v.o, v.f), target: '', met: null });
    }
  }
  // With --alloc only: what each server allocated per connect during the ramp (sampled; its CPU rows then include the sampling).
  if (rp?.ours?.allocKiBPerConnect !== undefined) {
    const alloc = { o: num(rp.ours.allocKiBPerConnect), f: num(rp?.floor?.allocKiBPerConnect) };
    add({ section: 'memory', metric: 'KiB allocated per connect (ramp, --alloc)', ours: alloc.o, floor: alloc.f, ratio: ratio(alloc.o, alloc.f), target: '', met: null });
  }
  // SQLite's group commits during the ramp: how many transactions shared each (sqlite-store.ts).
  if (rp?.ours?.transactionsPerCommit !== undefined) {
    add({ section: 'connect', metric: 'SQLite transactions per commit (ramp)', ours: num(rp.ours.transactionsPerCommit), floor: null, target: '', met: null });
  }
  const heap = { o: num(rp?.ours?.heapPerSocketKiB), f: num(rp?.floor?.heapPerSocketKiB) };
  const heapRatio = ratio(heap.o, heap.f);
  add({ section: 'memory', metric: `heap KiB per socket at ${n}`, ours: heap.o, floor: heap.f, ratio: heapRatio, target: '≤ 1.2 × floor', met: heapRatio === null ? null : heapRatio <= 1.2 });
  add({ section: 'memory', metric: `RSS KiB per socket at ${n}`, ours: num(rp?.ours?.rssPerSocketKiB), floor: num(rp?.floor?.rssPerSocketKiB), ratio: ratio(num(rp?.ours?.rssPerSocketKiB), num(rp?.floor?.rssPerSocketKiB)), target: '', met: null });
  const errs = (side: any) =>
    side ? (side.failed ?? 0) + (side.later?.failed ?? 0) + (side.unexpectedDisconnects ?? 0) + (side.serverSockets === n ? 0 : Math.abs(n - side.serverSockets)) : null;
  const oErr = errs(rp?.ours);
  add({ section: 'memory', metric: `errors holding ${n} concurrent sockets`, ours: oErr, floor: errs(rp?.floor), target: n >= 10_000 ? '0 at 10,000' : `0 (10,000 in the full run)`, met: oErr === null ? null : oErr === 0 });

  const k = s.kick;
  const kp99 = num(k?.ours?.latencyMs?.p99);
  add({ section: 'kick', metric: 'kick→session:ended p50 ms', ours: num(k?.ours?.latencyMs?.p50), floor: num(k?.floor?.latencyMs?.p50), target: '', met: null });
  add({ section: 'kick', metric: 'kick→session:ended p99 ms', ours: kp99, floor: num(k?.floor?.latencyMs?.p99), target: '≤ 20', met: kp99 === null ? null : kp99 <= 20 });
  // Two nodes on PostgreSQL and Redis: the kick goes to node A, the session's socket is on node B.
  const xk = s.crossNodeKick;
  const cluster = { target: notMeasured(xk, 'no PostgreSQL or Redis'), met: null, optional: true, failed: xk?.failed };
  const xp99 = num(xk?.latencyMs?.p99);
  add({ section: 'kick', metric: 'cross-node kick→session:ended p50 ms (REST on A, socket on B)', ours: num(xk?.latencyMs?.p50), floor: null, ...cluster });
  add({ section: 'kick', metric: 'cross-node kick→session:ended p99 ms (REST on A, socket on B)', ours: xp99, floor: null, ...cluster, target: cluster.target || '≤ 30', met: xp99 === null ? null : xp99 <= 30 });

  const il = s.idle;
  // A phase left out (`--only`) still names its rows with the run's sizes.
  const idleN = il?.sessions ?? r.sizes.idleSockets;
  const ip99 = num(il?.latenessMs?.p99);
  add({ section: 'idle', metric: `idle release lateness p50 ms (${idleN} at once)`, ours: num(il?.latenessMs?.p50), floor: null, target: '', met: null });
  add({ section: 'idle', metric: `idle release lateness p99 ms (${idleN} at once)`, ours: ip99, floor: null, target: '≤ 250', met: ip99 === null ? null : ip99 <= 250 && il.released === il.sessions });
  const pol = s.policies;
  const plainCpu = num(pol?.plain?.cpuPerConnectMs);
  for (const name of ['plain', 'inactivity', 'queue', 'reservations', 'webhooks', 'webhooks-batched']) {
    const cpuMs = name === 'plain' ? plainCpu : num(pol?.[name]?.cpuPerConnectMs);
    const vsPlain = name === 'plain' ? null : ratio(cpuMs, plainCpu);
    add({
      section: 'policies',
      metric: `server CPU ms per connect, license ${name === 'plain' ? 'with no policy' : name === 'webhooks-batched' ? `with webhooks in batches of up to ${pol?.webhookBatch ?? 100}` : `with ${name}`} (median of ${pol?.rounds ?? r.sizes.policyRounds ?? 1} passes of ${pol?.sockets ?? r.sizes.policySockets} connects)`,
      ours: cpuMs,
      floor: null,
      ratio: vsPlain,
      target: name === 'plain' ? '' : '≤ 1.1 × plain',
      met: vsPlain === null ? null : vsPlain <= 1.1,
    });
  }
  // A receiver 20 ms away: one at a time is bounded by its answer time; `concurrency` and batches are not.
  const slow = pol?.slowReceiver;
  const slowHooks: Array<[string, string]> = [
    ['concurrency1', 'one at a time'],
    ['concurrency8', 'concurrency 8'],
    ['batch100', 'batches of up to 100'],
  ];
  for (const [key, how] of slowHooks) {
    const pass = slow?.[key];
    // No rate when the first answer carried every event (a batch as large as the run: the smoke's).
    const oneRequest = pass && pass.perSec === null && pass.delivered > 0;
    add({
      section: 'policies',
      metric: `webhook deliveries/s to a receiver answering after ${slow?.receiverMs ?? 20} ms, ${how} (${slow?.events ?? r.sizes.slowHookEvents} events)`,
      ours: num(pass?.perSec),
      floor: null,
      target: oneRequest ? 'n/a: one request carried every event' : '',
      met: null,
      ...(oneRequest ? { optional: true } : {}),
    });
  }
  // Issue 14: 10,000 seats falling due in one second, each released within 500 ms of its deadline.
  const bp99 = num(rp?.ours?.burstReleaseLatenessMs?.p99);
  add({ section: 'idle', metric: `idle release lateness p99 ms (burst of ${n} after the ramp)`, ours: bp99, floor: null, target: '≤ 500', met: bp99 === null ? null : bp99 <= 500 });
  // The same on a node of a cluster (PostgreSQL + Redis): issue 14 asks it of both stores.
  const pb = s.postgresBurst;
  const pbMissing = notMeasured(pb, 'no PostgreSQL or Redis');
  const pbp99 = num(pb?.releaseLatenessMs?.p99);
  add({
    section: 'idle',
    metric: `idle release lateness p99 ms (burst of ${pb?.sockets ?? n} on a PostgreSQL node)`,
    ours: pbp99,
    floor: null,
    optional: true,
    failed: pb?.failed,
    target: pbMissing || '≤ 500',
    met: pbp99 === null ? (pb && !pb.skipped ? false : null) : pbp99 <= 500 && pb.allReleased === true,
  });

  const st = s.storm;
  const stN = st?.sockets ?? r.sizes.stormSockets;
  const secs = num(st?.ours?.secondsUntilAllResumed);
  // Issue 14: 10,000 clients on one SQLite node within 10 s (the full run's size).
  add({ section: 'storm', metric: `storm of ${stN}: seconds from kill -9 until all resumed`, ours: secs, floor: num(st?.floor?.secondsUntilAllResumed), target: '≤ 10', met: secs === null ? (st ? false : null) : secs <= 10 });
  add({ section: 'storm', metric: `storm of ${stN}: seconds from restart until all resumed`, ours: num(st?.ours?.secondsAfterReadyUntilAllResumed), floor: num(st?.floor?.secondsAfterReadyUntilAllResumed), target: '', met: null });
  add({ section: 'storm', metric: `storm of ${stN}: seconds from kill -9 until the server was ready`, ours: num(st?.ours?.restartSeconds), floor: num(st?.floor?.restartSeconds), target: '', met: null });
  // The machine's count (Linux), from the kill until all resumed: dropped attempts come back after 1, 2, 4, 8 s.
  add({ section: 'storm', metric: `storm of ${stN}: connection attempts the kernel dropped (accept queue full)`, ours: num(st?.ours?.listenOverflows), floor: num(st?.floor?.listenOverflows), target: '', met: null, optional: true });
  const over = num(st?.ours?.overAllocated);
  const lost = num(st?.ours?.lost);
  add({ section: 'storm', metric: `storm of ${stN}: seats over-allocated`, ours: over, floor: null, target: '0', met: over === null ? null : over === 0 });
  add({ section: 'storm', metric: `storm of ${stN}: seats lost`, ours: lost, floor: null, target: '0', met: lost === null ? null : lost === 0 });

  // One of three nodes (PostgreSQL + Redis) killed; its clients reconnect to the other two.
  const cs = s.clusterStorm;
  const csN = cs?.sockets ?? r.sizes.clusterStormSockets;
  const csOpt = { floor: null, optional: true, failed: cs?.failed };
  const csMissing = notMeasured(cs, 'no PostgreSQL or Redis');
  const csSecs = num(cs?.secondsUntilAllResumed);
  const csOver = num(cs?.overAllocated);
  const csLost = num(cs?.lost);
  const measured = (v: number | null, ok: (x: number) => boolean) => (v === null ? (cs && !cs.skipped ? false : null) : ok(v));
  add({ section: 'storm', metric: `storm of ${csN} over 3 nodes, one killed: seconds from kill -9 until its clients resumed on the others`, ours: csSecs, ...csOpt, target: csMissing || '≤ 10', met: measured(csSecs, (x) => x <= 10) });
  add({ section: 'storm', metric: `storm of ${csN} over 3 nodes: seats over-allocated (store)`, ours: csOver, ...csOpt, target: csMissing || '0', met: measured(csOver, (x) => x === 0) });
  // Lost is only judged once the dead node's rows were reaped (its sessions must outlive that).
  add({ section: 'storm', metric: `storm of ${csN} over 3 nodes: seats lost (store after the reap, sessions, sockets)`, ours: csLost, ...csOpt, target: csMissing || '0', met: measured(csLost, (x) => x === 0 && num(cs.secondsUntilReaped) !== null) });

  const sq = s.store?.sqlite;
  // Store throughput is admissions in flight together, as connects arrive; one at a time, each
  // waits for its own commit, which measures latency instead.
  const adm = num(sq?.admissionsConcurrentPerSec);
  add({ section: 'store', metric: 'SQLite admissions/s (32 in flight)', ours: adm, floor: null, target: '≥ 5000', met: adm === null ? null : adm >= 5000 });
  add({ section: 'store', metric: 'SQLite admissions/s (one at a time)', ours: num(sq?.admissionsPerSec), floor: null, target: '', met: null });
  // Counts, not timings: what the machine's load does not move.
  add({ section: 'store', metric: 'SQLite write calls per admission (32 in flight; WAL and checkpoint)', ours: num(sq?.writes?.syscallsPerAdmission), floor: null, target: '', met: null });
  add({ section: 'store', metric: 'SQLite KiB written per admission (32 in flight; WAL and checkpoint)', ours: num(sq?.writes?.kibPerAdmission), floor: null, target: '', met: null });
  add({ section: 'store', metric: 'SQLite detaches/s (session goes idle)', ours: num(sq?.detachesPerSec), floor: null, target: '', met: null });
  add({ section: 'store', metric: 'SQLite detaches/s (32 in flight, one license)', ours: num(sq?.detachesConcurrentPerSec), floor: null, target: '', met: null });
  add({ section: 'store', metric: 'SQLite idle releases/s', ours: num(sq?.releasesPerSec), floor: null, target: '', met: null });
  add({ section: 'store', metric: amidDueMetric('SQLite', sq?.ops ?? r.sizes.storeOps), ours: num(sq?.admissionsAmidDuePerSec), floor: null, target: '', met: null });
  add({ section: 'store', metric: queueMetric('SQLite', sq?.queueWaiting), ours: num(sq?.queueReleasesPerSec), floor: null, target: '', met: null });
  const pg = s.store?.postgres;
  const postgres = { target: notMeasured(pg, 'no PostgreSQL'), met: null, optional: true, failed: pg?.failed };
  // Issue 14: one license serves 3,000 admissions and releases a second on PostgreSQL.
  const atLeast = (v: number | null, min: number) => ({ ...postgres, target: postgres.target || `≥ ${min}`, met: v === null ? null : v >= min });
  const pgAdm = num(pg?.admissionsConcurrentPerSec);
  add({ section: 'store', metric: 'PostgreSQL admissions/s (32 in flight)', ours: pgAdm, floor: null, ...atLeast(pgAdm, 3000) });
  add({ section: 'store', metric: 'PostgreSQL admissions/s (one at a time)', ours: num(pg?.admissionsPerSec), floor: null, ...postgres });
  const pgDet = num(pg?.detachesPerSec);
  add({ section: 'store', metric: 'PostgreSQL detaches/s (session goes idle)', ours: pgDet, floor: null, ...atLeast(pgDet, 3000) });
  add({ section: 'store', metric: 'PostgreSQL detaches/s (32 in flight, one license)', ours: num(pg?.detachesConcurrentPerSec), floor: null, ...postgres });
  const pgRel = num(pg?.releasesPerSec);
  add({ section: 'store', metric: 'PostgreSQL idle releases/s', ours: pgRel, floor: null, ...atLeast(pgRel, 3000) });
  // What a move made one at a time cannot pass on this machine: a bare round trip, one at a time.
  add({ section: 'store', metric: 'PostgreSQL bare round trips/s (one at a time, select $1)', ours: num(pg?.roundTripsPerSec), floor: null, ...postgres });
  add({ section: 'store', metric: amidDueMetric('PostgreSQL', pg?.ops ?? r.sizes.pgStoreOps), ours: num(pg?.admissionsAmidDuePerSec), floor: null, ...postgres });
  add({ section: 'store', metric: queueMetric('PostgreSQL', pg?.queueWaiting), ours: num(pg?.queueReleasesPerSec), floor: null, ...postgres });
  return out;
}

/** The row of admissions made while the store bench's idle seats are past their deadline, unreleased. */
function amidDueMetric(store: string, ops: number | undefined): string {
  return `${store} admissions/s (32 in flight) amid ${ops ?? 'the'} idle seats past their deadline, not yet released`;
}

/** The row of releases that serve a full license's queue. */
function queueMetric(store: string, waiting: number | undefined): string {
  return `${store} releases/s serving a queue (50 seats, ${waiting ?? 'a tenth of the admissions'} waiting)`;
}

/** The target cell of an optional row whose phase did not run (`skipped`, the reason in the JSON) or failed. */
function notMeasured(section: any, lacking: string): string {
  if (section?.failed) return 'FAILED: see the JSON';
  if (section?.skipped || !section) return `n/a: ${lacking}`;
  return '';
}

/** What a complete report lacks: every non-optional row needs our figure, and the floor's where it applies. */
export function missing(r: BenchReport): string[] {
  const problems: string[] = [];
  for (const row of r.rows ?? rows(r)) {
    // An optional row may lack what it needs, but when it had it, its phase must not fail.
    if (row.failed) problems.push(`${row.metric}: failed: ${row.failed}`);
    if (row.optional) continue;
    if (row.ours === null) problems.push(`${row.metric}: no figure for the seat server`);
    if (row.target.includes('floor') && row.floor === null) problems.push(`${row.metric}: no figure for the floor`);
  }
  for (const k of ['machine', 'command', 'startedAt'] as const) if (!r[k]) problems.push(`no ${k}`);
  return problems;
}

const fmt = (v: number | null) => (v === null ? '—' : Number.isInteger(v) ? String(v) : v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2));
const verdict = (m: boolean | null) => (m === null ? '' : m ? 'met' : 'NOT met');

function header(r: BenchReport): string[] {
  const m = r.machine;
  return [
    `command: ${r.command}${r.argv.length ? ` (argv: ${r.argv.join(' ')})` : ''}`,
    `machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}; Node ${m.node}; load average at start ${m.loadAverage1m}`,
    `started: ${r.startedAt}, took ${r.durationSec} s; mode ${r.mode}; sizes ${JSON.stringify(r.sizes)}`,
    ...(r.pinned ? [`pinned: the servers on CPU ${r.pinned.servers}, the load processes and the driver on CPU ${r.pinned.load}`] : []),
  ];
}

export function printTable(r: BenchReport): string {
  const list = r.rows ?? rows(r);
  const cols = ['metric', 'ours', 'floor', 'ours/floor', 'target', ''];
  const cells = list.map((x) => [x.metric, fmt(x.ours), fmt(x.floor), fmt(x.ratio), x.target, verdict(x.met)]);
  const width = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((c, i) => (i === 0 || i >= 4 ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join('  ');
  return [...header(r), '', line(cols), width.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line), ''].join('\n');
}

export function markdown(r: BenchReport): string {
  const list = r.rows ?? rows(r);
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    `# Seat server benchmark (${r.mode})`,
    '',
    ...header(r).map((l) => `- ${l}`),
    '',
    '| metric | ours | bare socket.io | ours/floor | target | |',
    '| --- | ---: | ---: | ---: | --- | --- |',
    ...list.map((x) => `| ${esc(x.metric)} | ${fmt(x.ours)} | ${fmt(x.floor)} | ${fmt(x.ratio)} | ${esc(x.target)} | ${verdict(x.met)} |`),
    '',
  ].join('\n');
}

/** Writes `<mode>-<time>.json|md` and `latest-<mode>.json|md` into `dir`; returns the paths. */
export function writeReport(r: BenchReport, dir: string): string[] {
  r.rows = rows(r);
  const stamp = r.startedAt.replace(/[:.]/g, '-');
  const json = `${JSON.stringify(r, null, 2)}\n`;
  const md = markdown(r);
  const files = [`${r.mode}-${stamp}.json`, `${r.mode}-${stamp}.md`, `latest-${r.mode}.json`, `latest-${r.mode}.md`].map((f) => path.join(dir, f));
  writeFileSync(files[0]!, json);
  writeFileSync(files[1]!, md);
  writeFileSync(files[2]!, json);
  writeFileSync(files[3]!, md);
  return files;
}
