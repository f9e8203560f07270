// The rows of the scale table (`npm run bench -- --scale`): per row of the plan, the server's CPU
// per connect and heap per socket beside the floor's at the same socket count, the errors holding
// them, and how many sockets one process held up to its open-file limit.
import type { Row } from './report';
import type { ScaleRow } from './scale';

const n = (v: number) => v.toLocaleString('en-US');
const ratio = (a: number | null, b: number | null) => (a !== null && b !== null && b !== 0 ? Math.round((a / b) * 100) / 100 : null);

function label(r: ScaleRow): string {
  const limitRow = r.capped ? `(open-file limit's row, capped)` : '(open-file limit less headroom)';
  const at = r.planned === 'max' ? `${n(r.sockets)} sockets ${limitRow}` : `${n(r.sockets)} sockets`;
  if (r.licenses === null) return at;
  return `${at}, ${n(r.licenses)} license${r.licenses === 1 ? '' : 's'} × ${n(r.sessionsPerLicense ?? 0)} session${r.sessionsPerLicense === 1 ? '' : 's'}`;
}

export function scaleRows(section: { rows?: ScaleRow[] } | undefined): Row[] {
  const list = section?.rows ?? [];
  const floorAt = (planned: ScaleRow['planned']) => list.find((r) => r.kind === 'floor' && r.planned === planned) ?? null;
  const out: Row[] = [];
  for (const r of list.filter((x) => x.kind === 'ours')) {
    const f = floorAt(r.planned);
    const at = label(r);
    out.push({ section: 'scale', metric: `server CPU ms per connect, ${at}`, ours: r.cpuPerConnectMs, floor: f?.cpuPerConnectMs ?? null, ratio: ratio(r.cpuPerConnectMs, f?.cpuPerConnectMs ?? null), target: '', met: null });
    if (r.transactionsPerCommit != null) out.push({ section: 'scale', metric: `SQLite transactions per commit, ${at}`, ours: r.transactionsPerCommit, floor: null, ratio: null, target: '', met: null });
    out.push({ section: 'scale', metric: `heap KiB per socket, ${at}`, ours: r.heapPerSocketKiB, floor: f?.heapPerSocketKiB ?? null, ratio: ratio(r.heapPerSocketKiB, f?.heapPerSocketKiB ?? null), target: '', met: null });
    out.push({ section: 'scale', metric: `errors holding ${at}`, ours: r.errorCount, floor: f?.errorCount ?? null, ratio: null, target: '0', met: r.errorCount === 0 });
  }
  // One process up to its open-file limit: what it held, and what of the limit was left.
  const max = list.find((r) => r.kind === 'ours' && r.planned === 'max');
  if (max) {
    const f = floorAt('max');
    const held = max.serverSockets;
    out.push({
      section: 'scale',
      metric: `sockets held by one process (open-file limit ${n(max.fdLimit)}, ${max.fdsIdle} open idle, ${max.headroom} left as headroom)`,
      ours: held,
      floor: f?.serverSockets ?? null,
      ratio: null,
      target: 'limit less headroom, 0 errors',
      met: held === max.sockets && max.errorCount === 0,
    });
  }
  return out;
}
