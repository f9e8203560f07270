// createSeatServer: wires express, http and socket.io (and the Redis adapter) around the engine
// and returns { listen, close }. The engine and store stay free of transport concerns.
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Server } from 'socket.io';
import type { ClientToServerEvents, InterServerEvents, ServerToClientEvents, SocketData } from '../shared';
import { type SeatServerConfig, parseConfig } from './config';
import { apiRouter } from './http/api-router';
import { createHttpServer, finalErrorHandler, methodNotAllowed, notFound } from './http/errors';
import { openApiDocument } from './http/openapi';
import { createLogger, type Logger } from './logger';
import { createMetrics, metricsRoute } from './metrics';
import { attachAdminNamespace } from './realtime/admin-namespace';
import { attachAppNamespace } from './realtime/app-namespace';
import type { SeatHooks } from './seats/hooks';
import { SeatEngine } from './seats/seat-engine';
import type { SeatStore } from './seats/seat-store';
import { openStore } from './store/open-store';

export interface SeatServerOptions {
  /** Parsed from the environment when absent; fields given here win. */
  config?: Partial<SeatServerConfig>;
  env?: Record<string, string | undefined>;
  hooks?: SeatHooks;
  logger?: Logger;
  /** A store to use instead of the one DATABASE_URL names. */
  store?: SeatStore;
  /** Extra routes (the dashboard and demo pages) mounted before the API. */
  routes?: (app: express.Express, ctx: { engine: SeatEngine; config: SeatServerConfig }) => void;
}

export interface SeatServer {
  readonly engine: SeatEngine;
  readonly config: SeatServerConfig;
  readonly io: Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
  /** Starts the engine and listens; resolves with the bound port and, on first start, the generated operator token. */
  listen(port?: number): Promise<{ port: number; url: string; generatedAdminToken?: string }>;
  /**
   * Stops. `graceful` (SIGTERM) releases this node's sockets so their sessions go idle and their
   * clients resume on another node; without it, rows stay for the next start to clean up.
   */
  close(opts?: { graceful?: boolean }): Promise<void>;
}

/** The host of the URL the server reports: `localhost` when it listens on every interface. */
function urlHost(host: string | undefined): string {
  if (host === undefined || host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

export function createSeatServer(opts: SeatServerOptions = {}): SeatServer {
  const config = parseConfig(opts.env ?? process.env, opts.config);
  const log = opts.logger ?? createLogger(config.logLevel);
  const store = opts.store ?? openStore(config);
  const engine = new SeatEngine({
    store,
    config,
    hooks: opts.hooks,
    onHookError: (hook, err) => log.error({ err, hook }, 'engine task failed'),
  });

  const app = express();
  app.disable('x-powered-by');
  // TRUST_PROXY: req.ip, and the sockets' per-address connect limit, read X-Forwarded-For through these hops.
  app.set('trust proxy', config.trustProxy);
  const metrics = createMetrics(engine);
  app.get('/healthz', async (_req, res) => {
    try {
      await store.ping();
      res.json({ status: 'ok', node: config.nodeId });
    } catch {
      res.status(503).json({ error: { code: 'unavailable', message: 'the database does not answer' } });
    }
  });
  app.get('/metrics', metricsRoute(metrics, engine));
  const openapi = openApiDocument();
  app.route('/api/openapi.json').get((_req, res) => res.json(openapi)).all(methodNotAllowed(['GET']));
  opts.routes?.(app, { engine, config });
  app.use('/api/v1', apiRouter(engine, { maxBodyBytes: config.maxPayloadBytes, onError: (err) => log.error({ err }, 'request failed') }));
  // What nothing above answered: JSON 404s and errors under /api and /demo/token, small pages elsewhere.
  app.use(notFound, finalErrorHandler((err) => log.error({ err }, 'request failed')));

  // Refusals before express sees a request (headers over 16 KB, malformed HTTP) get JSON errors too.
  const httpServer = createHttpServer(app);
  const io = new Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>(httpServer, {
    maxHttpBufferSize: config.maxPayloadBytes,
    pingInterval: config.pingIntervalMs,
    pingTimeout: config.pingTimeoutMs,
    serveClient: false,
    // Seats are held by the idle timeout, not by socket.io's own recovery.
    connectionStateRecovery: undefined,
  });
  attachAppNamespace(io.of('/'), engine, log, { trustProxy: app.get('trust proxy fn') });
  let closeAdapter: (() => Promise<void>) | undefined;
  attachAdminNamespace(io.of('/admin') as never, engine, log, () => closeAdapter !== undefined);

  return {
    engine,
    config,
    io,
    async listen(port = config.port) {
      await store.migrate();
      if (config.redisUrl) {
        const { attachRedisAdapter } = await import('./realtime/redis-adapter');
        closeAdapter = await attachRedisAdapter(io, config.redisUrl, log);
      }
      const started = await engine.start();
      await new Promise<void>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen({ port, host: config.host }, () => resolve());
      });
      const bound = (httpServer.address() as AddressInfo).port;
      return { port: bound, url: `http://${urlHost(config.host)}:${bound}`, generatedAdminToken: started.generatedAdminToken };
    },
    async close({ graceful = false } = {}) {
      // Graceful: this node's seats go idle first. Closing the transports (not a socket.io
      // disconnect, which clients take as final) makes clients reconnect elsewhere and resume.
      await engine.stop({ release: graceful });
      await new Promise<void>((resolve) => {
        io.close(() => resolve());
      });
      await closeAdapter?.();
      await store.close();
    },
  };
}
