// The scale table's rows (`npm run bench -- --scale`): each of our rows beside the floor's at the
// same socket count, errors judged against 0, and the open-file-limit row saying what one process
// held, its limit and the headroom left. Figures are made up: the rows are tested, not timings.
import { describe, expect, it } from 'vitest';
import { type BenchReport, missing, rows } from '../../bench/report';
import type { ScaleRow } from '../../bench/scale';

function row(kind: 'ours' | 'floor', planned: number | 'max', over: Partial<ScaleRow> = {}): ScaleRow {
  const sockets = planned === 'max' ? 19_700 : planned;
  return {
    kind,
    planned,
    sockets,
    licenses: kind === 'ours' ? 1 : null,
    sessionsPerLicense: kind === 'ours' ? sockets : null,
    fdLimit: 20_000,
    fdsIdle: 44,
    fdsHeld: 44 + sockets,
    headroom: planned === 'max' ? 20_000 - 44 - sockets : null,
    capped: false,
    cpuPerConnectMs: kind === 'ours' ? 1.2 : 0.6,
    heapPerSocketKiB: kind === 'ours' ? 11 : 10,
    rssPerSocketKiB: 20,
    connectsPerSec: 500,
    ok: sockets,
    failed: 0,
    errors: {},
    serverSockets: sockets,
    unexpectedDisconnects: 0,
    errorCount: 0,
    ...over,
  };
}

function report(list: ScaleRow[]): BenchReport {
  return {
    mode: 'scale',
    command: 'npm run bench -- --scale',
    argv: ['--scale'],
    startedAt: new Date(0).toISOString(),
    durationSec: 1,
    machine: { cpuModel: 'x', cores: 2, memoryGiB: 1, os: 'x', node: process.version, hostname: 'x', loadAverage1m: 0 },
    sizes: { workers: 3, headroom: 256 },
    sections: { scale: { rows: list, headroom: 256 } },
  };
}

describe('scale rows', () => {
  const list = [row('floor', 1000), row('floor', 'max'), row('ours', 1000), row('ours', 1000, { licenses: 1000, sessionsPerLicense: 1, cpuPerConnectMs: 1.8 }), row('ours', 'max')];

  it('put each of our rows beside the floor at the same socket count', () => {
    const r = rows(report(list));
    const cpu = r.filter((x) => x.metric.startsWith('server CPU ms per connect'));
    expect(cpu.map((x) => [x.metric, x.ours, x.floor, x.ratio])).toEqual([
      ['server CPU ms per connect, 1,000 sockets, 1 license × 1,000 sessions', 1.2, 0.6, 2],
      ['server CPU ms per connect, 1,000 sockets, 1,000 licenses × 1 session', 1.8, 0.6, 3],
      ['server CPU ms per connect, 19,700 sockets (open-file limit less headroom), 1 license × 19,700 sessions', 1.2, 0.6, 2],
    ]);
    const heap = r.find((x) => x.metric === 'heap KiB per socket, 1,000 sockets, 1 license × 1,000 sessions');
    expect(heap).toMatchObject({ ours: 11, floor: 10, ratio: 1.1 });
    // The scale report is complete on its own: none of the usual phases' rows are asked for.
    expect(missing(report(list))).toEqual([]);
  });

  it("report SQLite's transactions per commit where our row counted them", () => {
    const counted = [row('floor', 1000), row('ours', 1000, { transactionsPerCommit: 31.5 })];
    expect(rows(report(counted)).filter((x) => /per commit/.test(x.metric)).map((x) => [x.metric, x.ours, x.floor])).toEqual([
      ['SQLite transactions per commit, 1,000 sockets, 1 license × 1,000 sessions', 31.5, null],
    ]);
    expect(rows(report(list)).some((x) => /per commit/.test(x.metric))).toBe(false);
  });

  it('say what one process held up to its open-file limit, and the headroom left', () => {
    const held = rows(report(list)).find((x) => x.metric.startsWith('sockets held by one process'));
    expect(held).toMatchObject({ metric: 'sockets held by one process (open-file limit 20,000, 44 open idle, 256 left as headroom)', ours: 19_700, floor: 19_700, met: true });
  });

  it('judge errors against 0, and a limit row short of its sockets as not met', () => {
    const bad = [row('floor', 'max'), row('ours', 'max', { failed: 3, errorCount: 3 + 3, serverSockets: 19_697 })];
    const r = rows(report(bad));
    expect(r.find((x) => x.metric.startsWith('errors holding'))).toMatchObject({ ours: 6, target: '0', met: false });
    expect(r.find((x) => x.metric.startsWith('sockets held by one process'))).toMatchObject({ ours: 19_697, met: false });
  });

  it('label a capped limit row (--scale --smoke) as capped', () => {
    const r = rows(report([row('ours', 'max', { sockets: 400, sessionsPerLicense: 400, ok: 400, serverSockets: 400, headroom: 19_556, capped: true })]));
    expect(r[0]!.metric).toBe("server CPU ms per connect, 400 sockets (open-file limit's row, capped), 1 license × 400 sessions");
    expect(r[0]!.floor).toBeNull();
  });
});
