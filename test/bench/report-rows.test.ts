// The optional rows of the bench report (PostgreSQL store, cross-node kick): a machine without the
// services gets "n/a" and a complete report; a phase that had them and failed makes it incomplete.
import { describe, expect, it } from 'vitest';
import { type BenchReport, missing, rows } from '../../bench/report';
import { report } from './report-fixture';

const optionalRows = (r: BenchReport) => rows(r).filter((row) => /PostgreSQL|cross-node/.test(row.metric));

describe('optional bench rows', () => {
  it('are n/a, and leave the report complete, when the services were missing', () => {
    const r = report({ crossNodeKick: { skipped: 'no redis-server on PATH' }, postgresBurst: { skipped: 'no redis-server on PATH' }, store: { postgres: { skipped: 'no initdb' } } });
    const list = optionalRows(r);
    expect(list.map((row) => row.metric)).toEqual([
      'cross-node kick→session:ended p50 ms (REST on A, socket on B)',
      'cross-node kick→session:ended p99 ms (REST on A, socket on B)',
      'idle release lateness p99 ms (burst of 300 on a PostgreSQL node)',
      'PostgreSQL admissions/s (32 in flight)',
      'PostgreSQL admissions/s (one at a time)',
      'PostgreSQL detaches/s (session goes idle)',
      'PostgreSQL detaches/s (32 in flight, one license)',
      'PostgreSQL idle releases/s',
      'PostgreSQL bare round trips/s (one at a time, select $1)',
      'PostgreSQL admissions/s (32 in flight) amid the idle seats past their deadline, not yet released',
      'PostgreSQL releases/s serving a queue (50 seats, a tenth of the admissions waiting)',
    ]);
    for (const row of list) {
      expect(row).toMatchObject({ optional: true, ours: null });
      expect(row.target).toMatch(/^n\/a: /);
    }
    expect(missing(r).filter((p) => /PostgreSQL|cross-node/.test(p))).toEqual([]);
  });

  it('carry the figures when measured', () => {
    const r = report({
      crossNodeKick: { latencyMs: { n: 20, p50: 3.5, p99: 9.25, max: 9.25 } },
      postgresBurst: { sockets: 10000, allReleased: true, releaseLatenessMs: { n: 10000, p50: 900, p99: 1650, max: 1700 } },
      store: { postgres: { admissionsPerSec: 400, admissionsConcurrentPerSec: 1200, detachesPerSec: 900, detachesConcurrentPerSec: 2400, releasesPerSec: 350, roundTripsPerSec: 4100, admissionsAmidDuePerSec: 1100, ops: 500, queueReleasesPerSec: 300, queueWaiting: 50 } },
    });
    expect(optionalRows(r).map((row) => [row.ours, row.target, row.met])).toEqual([
      [3.5, '', null],
      [9.25, '≤ 30', true],
      [1650, '≤ 500', false],
      [1200, '≥ 3000', false],
      [400, '', null],
      [900, '≥ 3000', false],
      [2400, '', null],
      [350, '≥ 3000', false],
      [4100, '', null],
      [1100, '', null],
      [300, '', null],
    ]);
  });

  it('make the report incomplete when their phase failed', () => {
    const r = report({ crossNodeKick: { failed: 'node B did not start' }, postgresBurst: { failed: 'node A did not start' }, store: { postgres: { failed: 'deadlock' } } });
    expect(optionalRows(r).every((row) => row.target.startsWith('FAILED'))).toBe(true);
    const problems = missing(r);
    expect(problems).toContain('cross-node kick→session:ended p99 ms (REST on A, socket on B): failed: node B did not start');
    expect(problems).toContain('PostgreSQL admissions/s (one at a time): failed: deadlock');
    expect(problems).toContain('idle release lateness p99 ms (burst of 300 on a PostgreSQL node): failed: node A did not start');
  });
});

describe('rows of counts and samples', () => {
  it('rows of a phase left out (--only) name the run\'s sizes, never "undefined"', () => {
    const r = {
      ...report({}),
      sizes: {
        ...{ workers: 3, policySockets: 100, policyRounds: 1, rampSockets: 300, rampInFlight: 32, rate: 100, rateSec: 2, kicks: 30, idleSockets: 50 },
        ...{ stormSockets: 100, clusterStormSockets: 150, storeOps: 1000, pgStoreOps: 100, crossNodeKicks: 20, slowHookEvents: 24 },
      },
    };
    const metrics = rows(r).map((row) => row.metric);
    expect(metrics).toContain('connect→seat:granted p99 ms @ 100/s');
    expect(metrics).toContain('sustainable connects/s (ramp to 300, 96 in flight)');
    expect(metrics).toContain('webhook deliveries/s to a receiver answering after 20 ms, concurrency 8 (24 events)');
    expect(metrics.filter((m) => m.includes('undefined'))).toEqual([]);
  });
  it('webhook deliveries to a slow receiver, one at a time, with concurrency 8 and in batches, get a row each', () => {
    const r = rows(report({ policies: { slowReceiver: { events: 160, receiverMs: 20, concurrency1: { perSec: 47.9 }, concurrency8: { perSec: 369 }, batch100: { perSec: 1210 } } } }));
    expect(r.filter((row) => row.metric.startsWith('webhook deliveries/s')).map((row) => [row.metric, row.ours])).toEqual([
      ['webhook deliveries/s to a receiver answering after 20 ms, one at a time (160 events)', 47.9],
      ['webhook deliveries/s to a receiver answering after 20 ms, concurrency 8 (160 events)', 369],
      ['webhook deliveries/s to a receiver answering after 20 ms, batches of up to 100 (160 events)', 1210],
    ]);
  });
  it('a batch that carried every event of the pass has no rate: n/a, not 0, and the report stays complete', () => {
    const r = report({ policies: { slowReceiver: { events: 24, receiverMs: 20, concurrency1: { delivered: 24, perSec: 47.1 }, concurrency8: { delivered: 24, perSec: 490 }, batch100: { delivered: 24, perSec: null } } } });
    const batch = rows(r).find((row) => row.metric === 'webhook deliveries/s to a receiver answering after 20 ms, batches of up to 100 (24 events)');
    expect(batch).toMatchObject({ ours: null, target: 'n/a: one request carried every event', optional: true });
    expect(missing(r).filter((p) => p.startsWith('webhook deliveries/s'))).toEqual([]);
    // A pass that delivered nothing is still missing its figure.
    const none = report({ policies: { slowReceiver: { events: 24, receiverMs: 20, concurrency1: { delivered: 24, perSec: 47.1 }, concurrency8: { delivered: 24, perSec: 490 }, batch100: { delivered: 0, perSec: null } } } });
    expect(missing(none).filter((p) => p.startsWith('webhook deliveries/s'))).toHaveLength(1);
  });
  it('a license with batched webhooks gets its row against the plain one', () => {
    const pass = (cpu: number) => ({ cpuPerConnectMs: cpu });
    const r = rows(report({ policies: { rounds: 5, sockets: 1500, webhookBatch: 100, plain: pass(0.25), webhooks: pass(0.35), 'webhooks-batched': pass(0.27) } }));
    expect(r.find((row) => row.metric === 'server CPU ms per connect, license with webhooks (median of 5 passes of 1500 connects)')).toMatchObject({ ratio: 1.4, met: false });
    expect(r.find((row) => row.metric === 'server CPU ms per connect, license with webhooks in batches of up to 100 (median of 5 passes of 1500 connects)')).toMatchObject({ ratio: 1.08, met: true });
  });
  it("later ramps get rows of their own (medians), and their failed connects count as errors", () => {
    const side = (cpu: number, later: Record<string, number>) => ({ cpuPerConnectMs: cpu, connectsPerSec: 1000, failed: 0, unexpectedDisconnects: 0, serverSockets: 300, later });
    const r = rows(report({ ramp: { rounds: 4, inFlight: 96, ours: side(0.45, { cpuPerConnectMs: 0.39, connectsPerSec: 900, failed: 2 }), floor: side(0.3, { cpuPerConnectMs: 0.3, connectsPerSec: 1000, failed: 0 }) } }));
    expect(r.find((row) => row.metric === 'server CPU ms per connect (ramp)')).toMatchObject({ ratio: 1.5, met: false });
    expect(r.find((row) => row.metric === 'server CPU ms per connect (later ramps, median of 3)')).toMatchObject({ ours: 0.39, ratio: 1.3, met: true });
    expect(r.find((row) => row.metric === 'sustainable connects/s (later ramps, median of 3)')).toMatchObject({ ours: 900, ratio: 0.9, met: true });
    expect(r.find((row) => row.metric.startsWith('errors holding'))).toMatchObject({ ours: 2, floor: 0, met: false });
    // One ramp (quick, smoke): no rows of later ramps.
    expect(rows(report({ ramp: { inFlight: 96, ours: side(0.45, {}), floor: side(0.3, {}) } })).some((row) => row.metric.includes('later ramps'))).toBe(false);
  });
  it("the kernel's share of a connect's CPU has rows of its own, first and later ramps, where measured", () => {
    const side = (cpu: number, sys: number, later: Record<string, number>) => ({ cpuPerConnectMs: cpu, systemPerConnectMs: sys, connectsPerSec: 1000, later });
    const r = rows(report({ ramp: { rounds: 4, inFlight: 96, ours: side(0.6, 0.09, { cpuPerConnectMs: 0.5, systemPerConnectMs: 0.08 }), floor: side(0.35, 0.05, { cpuPerConnectMs: 0.3, systemPerConnectMs: 0.04 }) } }));
    const kernel = r.filter((row) => row.metric.startsWith('of which in the kernel'));
    expect(kernel.map((row) => [row.metric, row.ours, row.floor, row.ratio, row.target])).toEqual([
      ['of which in the kernel (system time, ramp)', 0.09, 0.05, 1.8, ''],
      ['of which in the kernel (system time, later ramps, median of 3)', 0.08, 0.04, 2, ''],
    ]);
    // Each right under the CPU row it is part of.
    const at = (metric: string) => r.findIndex((row) => row.metric === metric);
    expect(at('of which in the kernel (system time, ramp)')).toBe(at('server CPU ms per connect (ramp)') + 1);
    // Results from before the split: no such rows.
    expect(rows(report({ ramp: { ours: { cpuPerConnectMs: 0.4 }, floor: { cpuPerConnectMs: 0.2 } } })).some((row) => row.metric.startsWith('of which'))).toBe(false);
  });
  it('the share of a connect\'s CPU off the main thread has rows of its own, under the kernel\'s, where measured', () => {
    const side = (cpu: number, helpers: number | null, later: Record<string, number | null>) => ({ cpuPerConnectMs: cpu, systemPerConnectMs: 0.05, helpersPerConnectMs: helpers, connectsPerSec: 1000, later });
    const r = rows(
      report({
        ramp: { rounds: 4, inFlight: 96, ours: side(0.7, 0.17, { cpuPerConnectMs: 0.6, systemPerConnectMs: 0.05, helpersPerConnectMs: 0.14 }), floor: side(0.45, 0.12, { cpuPerConnectMs: 0.4, systemPerConnectMs: 0.05, helpersPerConnectMs: 0.1 }) },
      }),
    );
    const helpers = r.filter((row) => row.metric.startsWith('of which off the main thread'));
    expect(helpers.map((row) => [row.metric, row.ours, row.floor, row.ratio])).toEqual([
      ['of which off the main thread (V8 collector and compilers, libuv pool; ramp)', 0.17, 0.12, 1.42],
      ['of which off the main thread (later ramps, median of 3)', 0.14, 0.1, 1.4],
    ]);
    const at = (metric: string) => r.findIndex((row) => row.metric === metric);
    expect(at(helpers[0]!.metric)).toBe(at('of which in the kernel (system time, ramp)') + 1);
    // Off Linux (null) or from before the split: no such rows.
    expect(rows(report({ ramp: { ours: side(0.7, null, {}), floor: side(0.45, null, {}) } })).some((row) => row.metric.startsWith('of which off'))).toBe(false);
  });
  it("SQLite's writes per admission are reported; the allocation row appears only with --alloc", () => {
    const store = { sqlite: { admissionsConcurrentPerSec: 9000, writes: { syscallsPerAdmission: 6.6, kibPerAdmission: 13.5 } } };
    const plain = rows(report({ store, ramp: { ours: { cpuPerConnectMs: 0.4 }, floor: { cpuPerConnectMs: 0.2 } } }));
    expect(plain.filter((row) => /written|write calls/.test(row.metric)).map((row) => [row.metric, row.ours])).toEqual([
      ['SQLite write calls per admission (32 in flight; WAL and checkpoint)', 6.6],
      ['SQLite KiB written per admission (32 in flight; WAL and checkpoint)', 13.5],
    ]);
    expect(plain.some((row) => /allocated per connect/.test(row.metric))).toBe(false);
    const sampled = rows(report({ store, ramp: { ours: { cpuPerConnectMs: 0.4, allocKiBPerConnect: 71.3 }, floor: { cpuPerConnectMs: 0.2, allocKiBPerConnect: 37.8 } } }));
    expect(sampled.find((row) => /allocated per connect/.test(row.metric))).toMatchObject({ metric: 'KiB allocated per connect (ramp, --alloc)', ours: 71.3, floor: 37.8, ratio: 1.89 });
  });

  it("SQLite's transactions per commit during the ramp are reported when the server counted them", () => {
    expect(rows(report({ ramp: { ours: { cpuPerConnectMs: 0.4 }, floor: { cpuPerConnectMs: 0.2 } } })).some((row) => /per commit/.test(row.metric))).toBe(false);
    const counted = rows(report({ ramp: { ours: { cpuPerConnectMs: 0.4, transactionsPerCommit: 4.7 }, floor: { cpuPerConnectMs: 0.2 } } }));
    expect(counted.find((row) => /per commit/.test(row.metric))).toMatchObject({ metric: 'SQLite transactions per commit (ramp)', ours: 4.7, floor: null });
  });
});
