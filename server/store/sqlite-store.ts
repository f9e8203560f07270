// The embedded store: SQLite through better-sqlite3, in WAL mode. One process owns the file;
// Kysely's single connection runs one transaction at a time, which serialises every admission.
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, type Selectable, SqliteDialect, type SqliteDatabase, type Transaction } from 'kysely';
import { KyselySeatStore } from './kysely-store';
import { prepare } from './prepared';
import type { Database, LicensesTable } from './schema';

export class SqliteSeatStore extends KyselySeatStore {
  static open(file: string): SqliteSeatStore {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const sqlite = new BetterSqlite3(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    return new SqliteSeatStore(new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) }));
  }

  private readonly license = prepare((p: { id: string }) => this.db.selectFrom('licenses').selectAll().where('id', '=', p.id));

  protected async lockLicense(trx: Transaction<Database>, id: string): Promise<Selectable<LicensesTable> | undefined> {
    return (await this.license(trx, { id })).rows[0];
  }

  protected isUniqueViolation(err: unknown): boolean {
    return typeof err === 'object' && err !== null && String((err as { code?: unknown }).code).startsWith('SQLITE_CONSTRAINT');
  }
}

/**
 * Kysely prepares every query anew; parsing the SQL was an eighth of an admission's CPU in the
 * bench profile. Statements are reused by their text (the store never streams, so none is busy).
 */
function withStatementCache(db: BetterSqlite3.Database, max = 500): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => db.close(),
    prepare(text: string) {
      let stmt = cache.get(text);
      if (!stmt) {
        stmt = db.prepare(text);
        if (cache.size >= max) cache.delete(cache.keys().next().value!);
        cache.set(text, stmt);
      }
      return stmt;
    },
  };
}
