// A bench report with made-up sections, for the tests of its rows: the rows are tested, not the timings.
import type { BenchReport } from '../../bench/report';

export function report(sections: Record<string, any>): BenchReport {
  return {
    mode: 'smoke',
    command: 'npm run bench -- --smoke',
    argv: [],
    startedAt: new Date(0).toISOString(),
    durationSec: 1,
    machine: { cpuModel: 'x', cores: 2, memoryGiB: 1, os: 'x', node: process.version, hostname: 'x', loadAverage1m: 0 },
    sizes: { rampSockets: 300 },
    sections,
  };
}
