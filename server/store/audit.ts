// The audit log: who changed what, newest first.
import type { AuditEntry } from '../seats/types';
import type { StoreContext } from './store-dialect';

export class Audit {
  constructor(private readonly s: StoreContext) {}

  async addAudit(entry: Omit<AuditEntry, 'id'>): Promise<AuditEntry> {
    const row = await this.s.db
      .insertInto('audit_log')
      .values({
        tenant_id: entry.tenantId,
        license_id: entry.licenseId,
        actor: entry.actor,
        action: entry.action,
        detail: JSON.stringify(entry.detail),
        at: entry.at,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { ...entry, id: Number(row.id) };
  }

  /** Newest first; `beforeId` pages on: the entries older than that one (by id, the order they were written in). */
  async listAudit(opts: { tenantId?: string; licenseId?: string; action?: string; beforeId?: number; limit?: number }): Promise<AuditEntry[]> {
    const rows = await this.s.db
      .selectFrom('audit_log')
      .selectAll()
      .$if(opts.tenantId !== undefined, (q) => q.where('tenant_id', '=', opts.tenantId!))
      .$if(opts.licenseId !== undefined, (q) => q.where('license_id', '=', opts.licenseId!))
      .$if(opts.action !== undefined, (q) => q.where('action', '=', opts.action!))
      .$if(opts.beforeId !== undefined, (q) => q.where('id', '<', opts.beforeId!))
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .limit(opts.limit ?? 200)
      .execute();
    return rows.map((r) => ({
      id: Number(r.id),
      at: Number(r.at),
      tenantId: r.tenant_id,
      licenseId: r.license_id,
      actor: r.actor,
      action: r.action,
      detail: JSON.parse(r.detail) as Record<string, unknown>,
    }));
  }
}
