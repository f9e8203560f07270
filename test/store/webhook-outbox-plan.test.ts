// The webhooks' outbox reads, as SQLite plans them: a batch is read along the seat history's ids
// from the cursor, never through the (license_id, at) index with a sort of every row of the
// license (each batch of a license's webhook read and sorted its whole history), and a deleted
// license's tenant is found through an index, not by reading the whole audit log for each row.
import { CompiledQuery, type Kysely } from 'kysely';
import path from 'node:path';
import { expect, it } from 'vitest';
import type { Database } from '../../server/store/schema';
import { SqliteSeatStore } from '../../server/store/sqlite-store';
import { seatOutboxQuery } from '../../server/store/webhook-outbox';
import { tempDir } from '../support/harness';

async function planOf(db: Kysely<Database>, query: { compile(): CompiledQuery }): Promise<string[]> {
  const { sql, parameters } = query.compile();
  const { rows } = await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${sql}`, [...parameters]));
  return rows.map((r) => r.detail);
}

it.each([
  ['a license', { tenantId: 'tenant-1', licenseId: 'lic-1' }],
  ['a tenant', { tenantId: 'tenant-1', licenseId: null }],
  ['the operator', { tenantId: null, licenseId: null }],
])("reads a batch for %s's webhook along the ids from its cursor, with no sort, and finds a deleted license's tenant by index", async (_, filter) => {
  const store = SqliteSeatStore.open(path.join(tempDir('seats-outbox-plan-'), 'seats.db'));
  try {
    await store.migrate();
    const { db } = store as unknown as { db: Kysely<Database> };
    const plan = await planOf(db, seatOutboxQuery(db, filter, ['granted', 'released'], 100, 200, 100));
    expect(plan[0]).toMatch(/^SEARCH e USING INTEGER PRIMARY KEY \(rowid>\? AND rowid<\?\)$/);
    expect(plan.filter((step) => /TEMP B-TREE/.test(step))).toEqual([]);
    // The tenant of a deleted license's rows (`license.delete` audit entries), by license.
    expect(plan.filter((step) => / d\b/.test(step)).every((step) => /^SEARCH d USING INDEX audit_log_license/.test(step))).toBe(true);
    expect(plan.some((step) => /^SEARCH d USING INDEX audit_log_license/.test(step))).toBe(true);
  } finally {
    await store.close();
  }
});
