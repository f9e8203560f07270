// Overage, reservations and group limits, and the queue's switch (docs/contract.md, "Overage,
// reservations and group limits"): the license's `overage` (1 to 2), `queue`, `reservations` and
// `group_limits` (JSON arrays, `[]` when none); the session's `grp` (the claimant's group, so what
// each group holds is counted under the license's lock).
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('licenses').addColumn('overage', 'double precision', (c) => c.notNull().defaultTo(1)).execute();
  await db.schema.alterTable('licenses').addColumn('queue', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('licenses').addColumn('reservations', 'text', (c) => c.notNull().defaultTo('[]')).execute();
  await db.schema.alterTable('licenses').addColumn('group_limits', 'text', (c) => c.notNull().defaultTo('[]')).execute();
  await db.schema.alterTable('sessions').addColumn('grp', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sessions').dropColumn('grp').execute();
  for (const c of ['group_limits', 'reservations', 'queue', 'overage']) await db.schema.alterTable('licenses').dropColumn(c).execute();
}
