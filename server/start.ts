// `npm start`'s server, loaded once its port is open (main.ts): runs one node with the
// configuration from the environment (docs/contract.md section 7).
import { adminTokenWarning, ConfigError, redactUrl } from './config';
import { demoBanner, setupDemo } from './demo-setup';
import type { EarlyPort } from './early-port';
import { mountPages } from './http/pages';
import { createLogger } from './logger';
import { createSeatServer } from './seat-server';
import { MIGRATION_FAILED } from './store/kysely-store';

/**
 * How long a failure to build the pages waits before it is logged. Ctrl-C in a terminal signals
 * the whole process group, esbuild's service too: a build under way then fails, at times before
 * this process has heard its own signal. A stop that comes meanwhile is no failure to report.
 */
const PAGES_ERROR_GRACE_MS = 1000;

/** How long a stop asked for while the node starts waits for the start to finish. */
const STOP_DURING_START_MS = 5000;

async function main(earlyPort: EarlyPort | undefined): Promise<void> {
  let log = createLogger('info');
  let stopping = false;
  const pagesFailed = (err: unknown) => {
    setTimeout(() => stopping || log.error({ err }, 'pages failed'), PAGES_ERROR_GRACE_MS).unref();
  };
  const server = createSeatServer({
    earlyPort,
    routes: (app, ctx) => mountPages(app, { ...ctx, onError: pagesFailed }),
    // Printed once, on the first start of an empty database, the moment its hash is stored (only
    // the hash is): a crash later in the start would otherwise leave no copy of it.
    onGeneratedAdminToken: (token) => process.stdout.write(`\nOperator ADMIN_TOKEN (shown once; set ADMIN_TOKEN to choose your own):\n  ${token}\n\n`),
  });
  log = createLogger(server.config.logLevel);
  const weakToken = adminTokenWarning(server.config);
  if (weakToken) log.warn(weakToken);
  // Heard from the start: a signal while the node starts stops it once it has started (a start
  // that fails exits by itself), not halfway through its migrations or its demo's setup. A start
  // that hangs (a database that takes the connection and never answers) is not waited for long.
  let started: Promise<unknown> = new Promise(() => {});
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping: releasing this node\'s sockets');
    const hung = setTimeout(() => {
      log.warn({ waitedMs: STOP_DURING_START_MS }, 'stopped before the start finished');
      process.exit(1);
    }, STOP_DURING_START_MS);
    void started.then(
      () => {
        clearTimeout(hung);
        return server.close({ graceful: true }).then(
          () => process.exit(0),
          (err: unknown) => {
            log.error({ err }, 'unclean stop');
            process.exit(1);
          },
        );
      },
      () => clearTimeout(hung),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  const listening = server.listen();
  started = listening;
  const { url } = await listening;
  log.info({ url, node: server.config.nodeId, database: redactUrl(server.config.databaseUrl) }, 'seat server listening');
  if (stopping) return;
  const demo = server.config.demo ? setupDemo(server) : undefined;
  started = Promise.all([listening, demo]);
  const setup = await demo?.catch((err: unknown) => {
    // The store closed under it: the stop, not a failed start.
    if (stopping) return null;
    throw err;
  });
  if (setup === null || stopping) return;
  process.stdout.write(demoBanner(url, setup));
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
