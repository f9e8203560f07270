// Sessions going idle together (a mass close's detaches sharing a transaction, a dead node's
// sockets let go), as SQLite plans the statement: each id looked up by the primary key, never
// every active session read through sessions_expiry (`state = 'active'`), which SQLite's planner,
// without statistics, prefers as soon as more than one id is named.
import { CompiledQuery, type Kysely } from 'kysely';
import path from 'node:path';
import { expect, it } from 'vitest';
import { idleSessions } from '../../server/store/queries';
import type { Database } from '../../server/store/schema';
import { SqliteSeatStore } from '../../server/store/sqlite-store';
import { tempDir } from '../support/harness';

it.each([[1], [5], [500]])('idles %i sessions through the primary key', async (n) => {
  const store = SqliteSeatStore.open(path.join(tempDir('seats-idle-plan-'), 'seats.db'));
  try {
    await store.migrate();
    const { db } = store as unknown as { db: Kysely<Database> };
    const ids = Array.from({ length: n }, (_, i) => `s-${i}`);
    const { sql, parameters } = idleSessions(db, ids, 1000, 2000).compile();
    const { rows } = await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${sql}`, [...parameters]));
    const plan = rows.map((r) => r.detail);
    expect(plan[0]).toMatch(/^SEARCH sessions USING INDEX sqlite_autoindex_sessions_1 \(id=\?\)$/);
    expect(plan.filter((step) => /sessions_expiry/.test(step))).toEqual([]);
  } finally {
    await store.close();
  }
});
