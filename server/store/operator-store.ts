// What an operator does to tenants and licenses beyond creating and changing them (issue 13
// section 6): list tenants, rotate a tenant's admin token or a license's secret, delete a license.
// A deletion is one transaction under the license's lock, as an admission is: its sessions end
// (`license_deleted`) and the rows that name the license go with it, so no admission can slip in
// between. Its seat history (`seat_events`) stays until the retention prunes it: it is the
// webhooks' outbox (the endings must still be delivered) and tells other nodes' sockets why their
// session ended; until then its id cannot be taken by a new license (licenses.ts createLicense).
import { EndReason } from '../../shared';
import type { TenantSummary } from '../seats/seat-store';
import type { EndedSession, License } from '../seats/types';
import { toLicense } from './rows';
import { releaseSession, sessionsOf } from './seat-moves';
import type { StoreContext } from './store-dialect';

/** Tables whose rows name a license and go with it (besides `sessions`, released one by one, and `licenses`). */
const LICENSE_ROWS = ['connections', 'leases', 'kick_cooldowns', 'activations', 'denials', 'seat_counts', 'queue_waits'] as const;

export class OperatorStore {
  constructor(private readonly s: StoreContext) {}

  /** Every tenant (or just `tenantId`), oldest first, each with its license count, in one query. */
  async listTenants(tenantId?: string): Promise<TenantSummary[]> {
    const rows = await this.s.db
      .selectFrom('tenants')
      .leftJoin('licenses', 'licenses.tenant_id', 'tenants.id')
      .select((eb) => ['tenants.id', 'tenants.name', 'tenants.created_at', eb.fn.count<number | string>('licenses.id').as('licenses')])
      .$if(tenantId !== undefined, (q) => q.where('tenants.id', '=', tenantId!))
      .groupBy(['tenants.id', 'tenants.name', 'tenants.created_at'])
      .orderBy('tenants.created_at')
      .orderBy('tenants.id')
      .execute();
    return rows.map((r) => ({ id: r.id, name: r.name, createdAt: Number(r.created_at), licenses: Number(r.licenses) }));
  }

  /** Replaces the tenant's admin token hash; false when there is no such tenant. The old token fails at once. */
  async rotateTenantToken(tenantId: string, adminTokenHash: string): Promise<boolean> {
    const r = await this.s.db.updateTable('tenants').set({ admin_token_hash: adminTokenHash }).where('id', '=', tenantId).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /**
   * Gives the license a new secret; the one it had verifies tokens until `previousUntil` (an
   * older previous secret is forgotten). Under the license's lock, so two rotations at once
   * leave one of them whole. Undefined when there is no such license.
   */
  async rotateSecret(licenseId: string, secret: string, previousUntil: number, now: number): Promise<License | undefined> {
    const { dialect } = this.s;
    return dialect.transaction(async (trx) => {
      const row = await dialect.lockLicense(trx, licenseId);
      if (!row) return undefined;
      await trx
        .updateTable('licenses')
        .set({ secret, previous_secret: row.secret, previous_secret_until: previousUntil, updated_at: now })
        .where('id', '=', licenseId)
        .execute();
      return { ...toLicense(row), secret, previousSecret: row.secret, previousSecretUntil: previousUntil, updatedAt: now };
    });
  }

  /**
   * Ends the license's live sessions (`license_deleted`, oldest first) and deletes it with its
   * connections, leases, cool-downs, activations, denials and seat counts. Undefined when there is
   * no such license. The audit log keeps its entries (and the deletion's), the seat history its
   * events until the retention prunes them.
   */
  async deleteLicense(licenseId: string, now: number): Promise<{ license: License; ended: EndedSession[] } | undefined> {
    const { q, dialect } = this.s;
    return dialect.transaction(async (trx) => {
      const row = await dialect.lockLicense(trx, licenseId);
      if (!row) return undefined;
      let license = toLicense(row);
      const ended: EndedSession[] = [];
      // First the queue, so the seats these endings free go to nobody.
      await trx.deleteFrom('queue_entries').where('license_id', '=', licenseId).execute();
      for (const session of await sessionsOf(trx, [licenseId], 'oldest-first')) {
        const seatsInUse = await releaseSession(q, trx, session, EndReason.LicenseDeleted, now);
        if (seatsInUse === undefined) continue;
        license = { ...license, seatsInUse };
        ended.push({ license, session, reason: EndReason.LicenseDeleted, seatsInUse });
      }
      for (const table of LICENSE_ROWS) await trx.deleteFrom(table).where('license_id', '=', licenseId).execute();
      await trx.deleteFrom('licenses').where('id', '=', licenseId).execute();
      return { license, ended };
    });
  }
}
