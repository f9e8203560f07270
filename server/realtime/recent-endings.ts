// What ended lately, kept a while for the sockets whose news was on its way back from the store
// as it ended: an admission that resumed a session just before the session ended (app-namespace.ts),
// a socket that joined a license's queue just before the license was deleted (queue-relay.ts).
import type { SessionEndedPayload } from '../../shared';

/** Endings of the last minute (at most 100,000), by id, with what their sockets are told. */
export class RecentEndings {
  private readonly byId = new Map<string, { payload: SessionEndedPayload; at: number }>();

  set(id: string, payload: SessionEndedPayload): void {
    const now = Date.now();
    this.byId.delete(id);
    this.byId.set(id, { payload, at: now });
    // Oldest first, in insertion order.
    for (const [key, e] of this.byId) {
      if (e.at > now - 60_000 && this.byId.size <= 100_000) break;
      this.byId.delete(key);
    }
  }

  get(id: string): SessionEndedPayload | undefined {
    return this.byId.get(id)?.payload;
  }
}
