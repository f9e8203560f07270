// The process logger (pino). Tokens never reach it: the redact list covers where they travel.
import { type Logger, pino } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({
    level,
    redact: ['req.headers.authorization', 'token', 'auth.token', '*.token', 'adminToken'],
  });
}
