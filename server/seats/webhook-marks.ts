// How far a node's webhooks may read each outbox (the seat history and the audit log): through
// the ids that are committed, with no hole below them that a transaction may still fill
// (PostgreSQL hands out ids before commit). See advanceMark (decisions/webhook-delivery.ts).
// On PostgreSQL a hole is passed as soon as every transaction open when it was seen has ended
// (`pg_stat_activity`): the one that took its id then has rolled back, or its row would be there.
// It also notices when the ids went back: SQLite hands out the largest id plus one, so once
// pruning has taken the newest rows, new rows reuse ids at or below the cursors.
import { advanceMark } from './decisions/webhook-delivery';
import type { OutboxSource, Webhook, WebhookStore } from './webhook-store';

const PAGE = 1000;
const SOURCES = ['seat', 'audit'] as const;

export interface OutboxMarksDeps {
  store: Pick<WebhookStore, 'outboxIds' | 'outboxMax' | 'outboxMaxAtOrBefore' | 'openTransactions'>;
  now: () => number;
  gapWaitMs: number;
  /** How often an idle outbox is checked for ids that went back. */
  checkEveryMs: number;
}

export class OutboxMarks {
  private marks?: Record<OutboxSource, number>;
  /** The time of the row at each mark: rows written later are new, whatever their ids. */
  private readonly markAt: Record<OutboxSource, number> = { seat: 0, audit: 0 };
  private readonly seen: Record<OutboxSource, Map<number, number>> = { seat: new Map(), audit: new Map() };
  /**
   * For each hole in `seen` (by the id of the row after it): the database's clock at a read of the
   * open transactions made after the hole was seen. Whatever transaction took its id began before.
   */
  private readonly seenOnDb: Record<OutboxSource, Map<number, number>> = { seat: new Map(), audit: new Map() };
  private lastCheck = -Infinity;

  constructor(private readonly deps: OutboxMarksDeps) {}

  get current(): Readonly<Record<OutboxSource, number>> | undefined {
    return this.marks;
  }

  /** Forgets the marks (a node holding no webhook reads no outbox). */
  clear(): void {
    this.marks = undefined;
  }

  /**
   * Moves the marks on, starting (when there are none) from the furthest-behind cursor of the
   * webhooks held: every id up to a mark is committed or gone for good, so a webhook taken on
   * later reads safely below it too. Returns, per outbox whose ids went back, the id the cursors
   * above it must go back to.
   */
  async advance(held: readonly Webhook[]): Promise<Partial<Record<OutboxSource, number>>> {
    const { store, now, gapWaitMs, checkEveryMs } = this.deps;
    if (!this.marks) {
      const max = await store.outboxMax();
      this.marks = {
        seat: Math.min(max.seat, ...held.map((w) => w.seatCursor)),
        audit: Math.min(max.audit, ...held.map((w) => w.auditCursor)),
      };
      for (const s of SOURCES) {
        this.seen[s].clear();
        this.seenOnDb[s].clear();
      }
    }
    const settled = await this.settledHoles();
    const wentBack: Partial<Record<OutboxSource, number>> = {};
    const check = now() - this.lastCheck >= checkEveryMs;
    if (check) this.lastCheck = now();
    for (const source of SOURCES) {
      for (let page = 0; page < 20; page++) {
        const ids = await store.outboxIds(source, this.marks[source], PAGE);
        const mark = advanceMark(this.marks[source], ids, this.seen[source], now(), gapWaitMs, settled[source]);
        const row = ids.find((r) => r.id === mark);
        if (row) this.markAt[source] = row.at;
        this.marks[source] = mark;
        if (page === 0 && ids.length === 0 && check && mark > 0) {
          const max = (await store.outboxMax())[source];
          if (max < mark) {
            // The newest rows were pruned: the rows left at or before the mark's time were
            // handled; any others are new, with reused ids.
            const back = await store.outboxMaxAtOrBefore(source, this.markAt[source]);
            this.marks[source] = back;
            this.seen[source].clear();
            this.seenOnDb[source].clear();
            wentBack[source] = back;
          }
        }
        if (ids.length < PAGE || mark !== ids.at(-1)!.id) break;
      }
      for (const id of this.seenOnDb[source].keys()) if (!this.seen[source].has(id)) this.seenOnDb[source].delete(id);
    }
    return wentBack;
  }

  /**
   * Which of the holes seen so far no transaction can fill any more: those seen before the oldest
   * transaction open now began (or with none open). Read before the outbox, so a transaction that
   * had a hole's id and committed has its row in that read. Holes seen since the last call are
   * given this read's time, to be judged at the next.
   */
  private async settledHoles(): Promise<Record<OutboxSource, (id: number) => boolean>> {
    const never = { seat: () => false, audit: () => false };
    if (SOURCES.every((s) => this.seen[s].size === 0)) return never;
    const open = await this.deps.store.openTransactions();
    if (!open) return never;
    const before = open.oldestSince ?? Infinity;
    for (const s of SOURCES) for (const id of this.seen[s].keys()) if (!this.seenOnDb[s].has(id)) this.seenOnDb[s].set(id, open.at);
    const judge = (s: OutboxSource) => (id: number) => {
      const at = this.seenOnDb[s].get(id);
      return at !== undefined && at < before;
    };
    return { seat: judge('seat'), audit: judge('audit') };
  }
}
