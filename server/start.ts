// `npm start`'s server, loaded once its port is open (main.ts): runs one node with the
// configuration from the environment (docs/contract.md section 7).
import { ConfigError, redactUrl } from './config';
import { demoBanner, setupDemo } from './demo-setup';
import type { EarlyPort } from './early-port';
import { mountPages } from './http/pages';
import { createLogger } from './logger';
import { createSeatServer } from './seat-server';
import { MIGRATION_FAILED } from './store/kysely-store';

async function main(earlyPort: EarlyPort | undefined): Promise<void> {
  let log = createLogger('info');
  const server = createSeatServer({ earlyPort, routes: (app, ctx) => mountPages(app, { ...ctx, onError: (err) => log.error({ err }, 'pages failed') }) });
  log = createLogger(server.config.logLevel);
  const { url, generatedAdminToken } = await server.listen();
  log.info({ url, node: server.config.nodeId, database: redactUrl(server.config.databaseUrl) }, 'seat server listening');
  if (generatedAdminToken) {
    // Printed once, on the first start of an empty database; only its hash is stored.
    process.stdout.write(`\nOperator ADMIN_TOKEN (shown once; set ADMIN_TOKEN to choose your own):\n  ${generatedAdminToken}\n\n`);
  }
  process.stdout.write(demoBanner(url, server.config.demo ? await setupDemo(server) : undefined));
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping: releasing this node\'s sockets');
    server
      .close({ graceful: true })
      .then(() => process.exit(0))
      .catch((err) => {
        log.error({ err }, 'unclean stop');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** Runs the node on the port main.ts opened (or on PORT, where it could not). */
export function start(earlyPort: EarlyPort | undefined): void {
  main(earlyPort).catch(fail);
}

function fail(err: unknown): never {
  process.stderr.write(err instanceof ConfigError ? `${err.message}\n` : `the seat server could not start: ${startFailure(err)}\n`);
  process.exit(1);
}

/**
 * Why the start failed, naming the variable to change where the error says which it is: the port
 * taken, HOST not an address here, the database that could not be opened or reached (with the
 * driver's own words, from the error's causes). Anything else keeps its stack.
 */
export function startFailure(err: unknown, env: Record<string, string | undefined> = process.env): string {
  const chain: Array<Error & { code?: unknown; syscall?: unknown }> = [];
  for (let e: unknown = err; e instanceof Error && chain.length < 5; e = e.cause) chain.push(e);
  if (chain.length === 0) return String(err);
  // A connect to a name with several addresses fails as an AggregateError with no message of its own.
  const words = (e: Error) => (e instanceof AggregateError && !e.message ? e.errors.map((x) => String((x as Error)?.message ?? x)).join('; ') : e.message);
  const said = chain.map(words).join(': ');
  const code = chain.map((e) => e.code).find((c) => typeof c === 'string');
  const port = env.PORT?.trim() || '3000';
  const host = env.HOST?.trim();
  const database = redactUrl(env.DATABASE_URL?.trim() || './data/seats.db');
  // Another running node holds the database or this NODE_ID (node-claim.ts): its words say which.
  if (code === 'NODE_IN_USE') return chain[0]!.message;
  if (code === 'EADDRINUSE') return `port ${port} is in use by another process; set PORT to a free one (${said})`;
  if ((code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') && chain.some((e) => e.syscall === 'listen' || e.syscall === 'getaddrinfo')) {
    return `HOST=${host ?? ''} is not an address of this machine; unset HOST to listen on every interface (${said})`;
  }
  if (typeof code === 'string' && code.startsWith('SQLITE_')) return `DATABASE_URL=${database}: the SQLite file could not be opened or written (${said})`;
  if (chain[0]!.message === MIGRATION_FAILED) return `DATABASE_URL=${database}: the database could not be reached or migrated (${said})`;
  return chain[0]!.stack ?? said;
}
