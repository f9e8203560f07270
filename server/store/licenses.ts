// Tenants, their licenses and the server's settings. A license change that ends sessions (a
// suspension, fewer seats) is one transaction under the license's lock, as an admission is.
import { sql, type Transaction } from 'kysely';
import { type NewTenant, StoreConflictError } from '../seats/seat-store';
import { mayEndSessions, seatKeyChanges, sessionsToEnd, whyNotEmpty } from '../seats/decisions/license-change';
import { rekeyedValues, seatKeyValue } from '../seats/decisions/seat-key';
import type { SeatKey } from '../../shared';
import type { Claimant, EndedSession, License, LicensePatch, NewLicenseRow, Tenant } from '../seats/types';
import { licenseRow, toLicense } from './rows';
import { serveQueue } from './queue';
import { releaseSession, sessionsOf } from './seat-moves';
import type { Database } from './schema';
import type { StoreContext } from './store-dialect';

export class Licenses {
  constructor(private readonly s: StoreContext) {}

  // ---- tenants and settings ----

  async createTenant(tenant: Tenant, adminTokenHash: string): Promise<Tenant> {
    await this.s.db
      .insertInto('tenants')
      .values({ id: tenant.id, name: tenant.name, admin_token_hash: adminTokenHash, created_at: tenant.createdAt })
      .execute();
    return tenant;
  }

  async findTenantByTokenHash(hash: string): Promise<Tenant | undefined> {
    const row = await this.s.db.selectFrom('tenants').selectAll().where('admin_token_hash', '=', hash).executeTakeFirst();
    return row && { id: row.id, name: row.name, createdAt: Number(row.created_at) };
  }

  async getTenant(id: string): Promise<Tenant | undefined> {
    const row = await this.s.db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
    return row && { id: row.id, name: row.name, createdAt: Number(row.created_at) };
  }

  /** Stores `value` under `key` unless a value is there; returns the value that holds. */
  async putSettingIfAbsent(key: string, value: string): Promise<string> {
    await this.s.db
      .insertInto('settings')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    return (await this.getSetting(key)) ?? value;
  }

  async getSetting(key: string): Promise<string | undefined> {
    const row = await this.s.db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
    return row?.value;
  }

  // ---- licenses ----

  /**
   * Throws `StoreConflictError` when the id is taken, or was a deleted license's whose history
   * is still kept: its seat history (DELETE keeps it as the webhooks' outbox until the retention
   * prunes it), or, for one that never held a seat, its deletion within the retention
   * (`deletedSince`: its audit entries stay readable by its tenant by the id, which a new license
   * of another tenant would take). A new license must not inherit another's history.
   */
  async createLicense(license: NewLicenseRow, deletedSince = 0, tenant?: NewTenant): Promise<License> {
    try {
      await this.s.dialect.transaction(async (trx) => {
        // A license that exists is that, whatever history it has.
        if (await trx.selectFrom('licenses').select('id').where('id', '=', license.id).executeTakeFirst()) {
          throw new StoreConflictError(`license ${license.id} exists`);
        }
        const kept = await trx.selectFrom('seat_events').select('id').where('license_id', '=', license.id).limit(1).executeTakeFirst();
        const deleted = kept
          ? undefined
          : await trx.selectFrom('audit_log').select('id').where('license_id', '=', license.id).where('action', '=', 'license.delete').where('at', '>=', deletedSince).limit(1).executeTakeFirst();
        if (kept || deleted) throw new StoreConflictError(`license ${license.id} was deleted and its history is kept`, { reason: 'deleted' });
        // The license's tenant, made with it where it does not exist yet: a refused license makes none.
        if (tenant) {
          const { id, name, createdAt } = tenant.tenant;
          await trx
            .insertInto('tenants')
            .values({ id, name, admin_token_hash: tenant.adminTokenHash, created_at: createdAt })
            .onConflict((oc) => oc.column('id').doNothing())
            .execute();
        }
        await trx.insertInto('licenses').values(licenseRow(license)).execute();
        // The history's seat count from the start (migration 2026-11-26T13).
        await trx.insertInto('seat_counts').values({ license_id: license.id, at: license.createdAt, seats: license.seats }).execute();
      });
    } catch (err) {
      if (this.s.dialect.isUniqueViolation(err)) throw new StoreConflictError(`license ${license.id} exists`, { cause: err });
      throw err;
    }
    return { ...license, seatsInUse: 0 };
  }

  async getLicense(id: string): Promise<License | undefined> {
    const [row] = (await this.s.q.license(this.s.db, { id })).rows;
    return row && toLicense(row);
  }

  async listLicenses(tenantId?: string): Promise<License[]> {
    const rows = await this.s.db
      .selectFrom('licenses')
      .selectAll()
      .$if(tenantId !== undefined, (q) => q.where('tenant_id', '=', tenantId!))
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toLicense);
  }

  /**
   * Moves the license to another tenant (the operator's PATCH), under its lock: only while it
   * holds no session (active or idle, leases included) and nobody waits in its queue, so no socket
   * or dashboard of the old tenant is left with it. Its records (denials, history, activations,
   * requests) go with it; `license_moves` keeps which tenant its seat events so far were (the
   * webhooks' outbox reads them as that tenant's). Undefined when there is no license.
   */
  async moveLicense(id: string, tenantId: string, now: number): Promise<{ license: License; from: string } | { conflict: string } | undefined> {
    const { dialect } = this.s;
    return dialect.transaction(async (trx) => {
      const row = await dialect.lockLicense(trx, id);
      if (!row) return undefined;
      const before = toLicense(row);
      if (before.tenantId === tenantId) return { license: before, from: before.tenantId };
      const busy = await whyNotEmptyNow(trx, id, 'move it');
      if (busy) return { conflict: busy };
      const last = await trx.selectFrom('seat_events').select((eb) => eb.fn.max('id').as('m')).where('license_id', '=', id).executeTakeFirst();
      await trx.insertInto('license_moves').values({ license_id: id, seat_event_id: Number(last?.m ?? 0), from_tenant: before.tenantId, to_tenant: tenantId, at: now }).execute();
      await trx.updateTable('licenses').set({ tenant_id: tenantId, updated_at: now }).where('id', '=', id).execute();
      return { license: { ...before, tenantId, updatedAt: now }, from: before.tenantId };
    });
  }

  /**
   * Applies the patch in one transaction. Suspending ends every session (`license_suspended`);
   * lowering seats below those in use ends the newest sessions (`seats_reduced`) until it fits.
   */
  async updateLicense(id: string, patch: LicensePatch, now: number): Promise<{ license: License; ended: EndedSession[] } | undefined> {
    const { q, dialect } = this.s;
    return dialect.transaction(async (trx) => {
      const row = await dialect.lockLicense(trx, id);
      if (!row) return undefined;
      const before = toLicense(row);
      if (seatKeyChanges(before.seatKey, patch.seatKey)) await rekey(trx, id, patch.seatKey!);
      let license: License = { ...before, ...patch, updatedAt: now };
      await trx.updateTable('licenses').set(licenseRow(license)).where('id', '=', id).execute();
      // Each change of the seat count is kept, so past history buckets keep the seats they had.
      if (license.seats !== Number(row.seats)) await trx.insertInto('seat_counts').values({ license_id: id, at: now, seats: license.seats }).execute();
      // Inactivity turned on counts from now: nobody is released for quiet time before the rule.
      if (before.inactivityTimeoutSec === null && license.inactivityTimeoutSec !== null) {
        await trx.updateTable('sessions').set({ last_activity_at: now, warned_at: null }).where('license_id', '=', id).execute();
      }

      const ended: EndedSession[] = [];
      // More seats, more overage, a restored license: the queue takes what now fits (queue.ts).
      if (!mayEndSessions(license)) {
        const served = await serveQueue(q, trx, id, now);
        if (served.length > 0) license = { ...license, seatsInUse: served[served.length - 1]!.seatsInUse };
        return { license, ended };
      }
      const live = await sessionsOf(trx, [id], 'newest-first');
      for (const { session, reason } of sessionsToEnd(license, live)) {
        const seatsInUse = await releaseSession(q, trx, session, reason, now);
        if (seatsInUse === undefined) continue;
        license = { ...license, seatsInUse };
        ended.push({ license, session, reason, seatsInUse });
      }
      return { license, ended };
    });
  }
}

/** `whyNotEmpty` of the license as its lock holder reads it. */
async function whyNotEmptyNow(trx: Transaction<Database>, id: string, doing: string): Promise<string | undefined> {
  const held = await trx.selectFrom('sessions').select((eb) => eb.fn.countAll<number>().as('n')).where('license_id', '=', id).executeTakeFirst();
  const waiting = await trx.selectFrom('queue_entries').select('license_id').where('license_id', '=', id).where('left_at', 'is', null).limit(1).executeTakeFirst();
  return whyNotEmpty(Number(held?.n ?? 0), waiting !== undefined, doing);
}

/**
 * A new seat key for the license's sessions and queue, under its lock. A session's seat key value
 * is its claims' values under the key it was granted by: kept as they were, they would match other
 * claimants under the new key (a `sid` taken for a `sub`: another user joining a live session) and
 * miss their own (the same user taking a second seat). So each live session takes its value under
 * the new key (`rekeyedValues`: one that cannot, for a missing claim or a value an older session
 * took, keeps its seat until it ends, joined by nobody); each waiting client its own, or, lacking
 * a claim the new key needs, its place goes (the queue's backstop then lets its socket go, to be
 * refused `missing_claim` when it connects again). The places kept for a reconnect and the kick
 * cool-downs, values of the old key, go. One statement per session: a rare change by an admin.
 */
async function rekey(trx: Transaction<Database>, licenseId: string, seatKey: SeatKey): Promise<void> {
  const rows = await trx
    .selectFrom('sessions')
    .select(['id', 'session_ref', 'user_id', 'device_id', 'instance_id'])
    .where('license_id', '=', licenseId)
    .orderBy('started_at')
    .orderBy('id')
    .execute();
  const values = rekeyedValues(seatKey, rows.map((r) => ({ id: r.id, sessionRef: r.session_ref, userId: r.user_id, deviceId: r.device_id, instanceId: r.instance_id })));
  // Every session out of the way first, to a value of its own that no claimant's can equal (those
  // left out keep it), so no two sessions hold one value between two updates.
  await trx.updateTable('sessions').set({ seat_key_value: sql<string>`'~' || id` }).where('license_id', '=', licenseId).execute();
  for (const [sessionId, value] of values) await trx.updateTable('sessions').set({ seat_key_value: value }).where('id', '=', sessionId).execute();
  const entries = await trx.selectFrom('queue_entries').select(['id', 'claimant', 'left_at']).where('license_id', '=', licenseId).execute();
  for (const e of entries) {
    const key = e.left_at === null ? seatKeyValue(seatKey, JSON.parse(e.claimant) as Claimant) : undefined;
    if (key && 'value' in key) await trx.updateTable('queue_entries').set({ seat_key_value: key.value }).where('id', '=', e.id).execute();
    else await trx.deleteFrom('queue_entries').where('id', '=', e.id).execute();
  }
  await trx.deleteFrom('kick_cooldowns').where('license_id', '=', licenseId).execute();
}
