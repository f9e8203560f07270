// A license's queue as the wire shows it (REST `GET /licenses/:id/queue` and `/admin`): positions,
// who waits, since when. The seat key, device and instance stay out: the board names people.
import type { QueueEntryView, QueueView } from '../shared';
import type { QueuedClaimant } from './seats/types';

export function queueEntryView(c: QueuedClaimant): QueueEntryView {
  return { position: c.position, userId: c.userId, name: c.name, app: c.app, group: c.group, since: new Date(c.since).toISOString() };
}

/** One license's listed claimants (in order) as a view; an empty queue is length 0. */
export function queueView(list: readonly QueuedClaimant[]): QueueView {
  return { queueLength: list[0]?.queueLength ?? 0, queue: list.map(queueEntryView) };
}

/** Claimants of many licenses, grouped per license (licenses with none are left out). */
export function queueViews(list: readonly QueuedClaimant[]): Record<string, QueueView> {
  const by = new Map<string, QueuedClaimant[]>();
  for (const c of list) {
    let l = by.get(c.licenseId);
    if (!l) by.set(c.licenseId, (l = []));
    l.push(c);
  }
  return Object.fromEntries([...by].map(([id, l]) => [id, queueView(l)]));
}
