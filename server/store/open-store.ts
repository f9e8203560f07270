// Picks the store from DATABASE_URL: postgres:// (or postgresql://) is PostgreSQL, anything else a SQLite file.
import type { SeatServerConfig } from '../config';
import type { SeatStore } from '../seats/seat-store';
import { PostgresSeatStore } from './postgres-store';
import { SqliteSeatStore } from './sqlite-store';

export function openStore(config: Pick<SeatServerConfig, 'databaseUrl' | 'pgPoolSize'>): SeatStore {
  const url = config.databaseUrl;
  if (isPostgresUrl(url)) return PostgresSeatStore.open(url, config.pgPoolSize);
  return SqliteSeatStore.open(sqliteFileOf(url));
}

/** A PostgreSQL URL (the configuration lower-cases its scheme). */
export const isPostgresUrl = (url: string): boolean => /^postgres(ql)?:\/\//.test(url);

/** The SQLite file a DATABASE_URL names (or `:memory:`). */
export const sqliteFileOf = (url: string): string => url.replace(/^sqlite:(\/\/)?/, '');
