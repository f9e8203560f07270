// The embedded store: SQLite through better-sqlite3, in WAL mode. One process owns the file;
// Kysely's single connection runs one transaction at a time, which serialises every admission.
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, type Selectable, SqliteDialect, type Transaction } from 'kysely';
import { KyselySeatStore } from './kysely-store';
import type { Database, LicensesTable } from './schema';

export class SqliteSeatStore extends KyselySeatStore {
  static open(file: string): SqliteSeatStore {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const sqlite = new BetterSqlite3(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    return new SqliteSeatStore(new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) }));
  }

  protected lockLicense(trx: Transaction<Database>, id: string): Promise<Selectable<LicensesTable> | undefined> {
    return trx.selectFrom('licenses').selectAll().where('id', '=', id).executeTakeFirst();
  }

  protected isUniqueViolation(err: unknown): boolean {
    return typeof err === 'object' && err !== null && String((err as { code?: unknown }).code).startsWith('SQLITE_CONSTRAINT');
  }
}
