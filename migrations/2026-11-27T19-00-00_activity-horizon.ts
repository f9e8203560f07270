// Inactivity across nodes: each node's heartbeat says up to when the activity its sockets reported
// is on record (`activity_through`). An inactivity release waits until every live node's
// horizon has passed the session's deadline, so activity a node heard but could not write yet (a
// flush failed in a database restart, or ran late on a loaded machine) is never released over.
// Null on rows written before this column: the node's heartbeat stands in for it.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('nodes').addColumn('activity_through', 'bigint').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('nodes').dropColumn('activity_through').execute();
}
