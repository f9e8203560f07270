// Activations (docs/contract.md section 8.3): the devices activated on a license, and an admin
// deactivating one. Admission activates a device and moves its last seen time (seat-ledger.ts);
// a deactivation is one transaction under the license's lock: the activation goes and the
// device's live sessions end with `deactivated`, so no admission can slip between the two.
import { EndReason } from '../../shared';
import type { Activation, EndedSession, License } from '../seats/types';
import { toLicense } from './rows';
import { loadSession, releaseSession } from './seat-moves';
import type { StoreContext } from './store-dialect';

export class Activations {
  constructor(private readonly s: StoreContext) {}

  /** The license's activated devices, first activated first. */
  async listActivations(licenseId: string): Promise<Activation[]> {
    const rows = await this.s.db
      .selectFrom('activations')
      .selectAll()
      .where('license_id', '=', licenseId)
      .orderBy('activated_at')
      .orderBy('device_id')
      .execute();
    return rows.map((r) => ({ licenseId: r.license_id, deviceId: r.device_id, activatedAt: Number(r.activated_at), lastSeenAt: Number(r.last_seen_at) }));
  }

  /** How many devices are activated on each of these licenses (those with none are left out), in one query. */
  async countActivations(licenseIds: readonly string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    if (licenseIds.length === 0) return counts;
    const rows = await this.s.db
      .selectFrom('activations')
      .select((eb) => ['license_id', eb.fn.countAll<number | string>().as('n')])
      .where('license_id', 'in', [...licenseIds])
      .groupBy('license_id')
      .execute();
    for (const r of rows) counts.set(r.license_id, Number(r.n));
    return counts;
  }

  /**
   * Removes the device's activation and ends its live sessions (`deactivated`); undefined when
   * the license has no such activation.
   */
  async deactivate(licenseId: string, deviceId: string, now: number): Promise<{ license: License; ended: EndedSession[] } | undefined> {
    const { q, dialect } = this.s;
    return dialect.transaction(async (trx) => {
      const row = await dialect.lockLicense(trx, licenseId);
      if (!row) return undefined;
      const gone = await trx.deleteFrom('activations').where('license_id', '=', licenseId).where('device_id', '=', deviceId).executeTakeFirst();
      if (Number(gone.numDeletedRows) === 0) return undefined;
      let license = toLicense(row);
      const ids = await trx.selectFrom('sessions').select('id').where('license_id', '=', licenseId).where('device_id', '=', deviceId).orderBy('started_at').execute();
      const ended: EndedSession[] = [];
      for (const { id } of ids) {
        const session = await loadSession(q, trx, id);
        if (!session) continue;
        const seatsInUse = await releaseSession(q, trx, session, EndReason.Deactivated, now);
        if (seatsInUse === undefined) continue;
        license = { ...license, seatsInUse };
        ended.push({ license, session, reason: EndReason.Deactivated, seatsInUse });
      }
      return { license, ended };
    });
  }
}
