// Picks the store from DATABASE_URL: postgres:// (or postgresql://) is PostgreSQL, anything else a SQLite file.
import type { SeatServerConfig } from '../config';
import type { SeatStore } from '../seats/seat-store';
import { PostgresSeatStore } from './postgres-store';
import { SqliteSeatStore } from './sqlite-store';

export function openStore(config: Pick<SeatServerConfig, 'databaseUrl' | 'pgPoolSize'>): SeatStore {
  const url = config.databaseUrl;
  if (/^postgres(ql)?:\/\//.test(url)) return PostgresSeatStore.open(url, config.pgPoolSize);
  return SqliteSeatStore.open(url.replace(/^sqlite:(\/\/)?/, ''));
}
