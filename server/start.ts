// `npm start`'s server, loaded once its port is open (main.ts): runs one node with the
// configuration from the environment (docs/contract.md section 7).
import { ConfigError } from './config';
import { demoBanner, setupDemo } from './demo-setup';
import type { EarlyPort } from './early-port';
import { mountPages } from './http/pages';
import { createLogger } from './logger';
import { createSeatServer } from './seat-server';

async function main(earlyPort: EarlyPort | undefined): Promise<void> {
  let log = createLogger('info');
  const server = createSeatServer({ earlyPort, routes: (app, ctx) => mountPages(app, { ...ctx, onError: (err) => log.error({ err }, 'pages failed') }) });
  log = createLogger(server.config.logLevel);
  const { url, generatedAdminToken } = await server.listen();
  log.info({ url, node: server.config.nodeId, database: server.config.databaseUrl.replace(/\/\/[^@]*@/, '//***@') }, 'seat server listening');
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
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
  } else {
    process.stderr.write(`the seat server could not start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exit(1);
}
