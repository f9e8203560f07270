// createSeatServer: wires the seat parts (event bus, token auth, administration, engine, node
// liveness) and express, http and socket.io (and the Redis adapter) around them, and returns
// { listen, close }. The parts and the store stay free of transport concerns.
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Server } from 'socket.io';
import { type ClientToServerEvents, ErrorCode, type InterServerEvents, type ServerToClientEvents, type SocketData } from '../shared';
import { type SeatServerConfig, parseConfig } from './config';
import { type EarlyPort, LISTEN_BACKLOG } from './early-port';
import { apiRouter } from './http/api-router';
import { leaseRouter } from './http/lease-routes';
import { createHttpServer, finalErrorHandler, methodNotAllowed, notFound } from './http/errors';
import { openApiDocument } from './http/openapi';
import { receiptRoutes } from './http/receipt-routes';
import { createLogger, type Logger } from './logger';
import { createMetrics, metricsRoute } from './metrics';
import { attachAdminNamespace } from './realtime/admin-namespace';
import { attachAppNamespace, localSessionIds } from './realtime/app-namespace';
import { ReceiptRelay } from './realtime/receipt-relay';
import { Inactivity } from './seats/inactivity';
import { SeatQueue } from './seats/seat-queue';
import { SeatRequests } from './seats/seat-requests';
import { Administration } from './seats/administration';
import { EventBus } from './seats/event-bus';
import type { SeatHooks } from './seats/hooks';
import { SeatLeases } from './seats/leases';
import { NodeLiveness } from './seats/node-liveness';
import { Reads } from './seats/reads';
import { Receipts } from './seats/receipts';
import { SeatEngine } from './seats/seat-engine';
import { SeatError } from './seats/seat-error';
import type { SeatStore } from './seats/seat-store';
import { StoreTrouble, TokenAuth } from './seats/token-auth';
import { SeatWebhooks } from './seats/webhooks';
import { MIGRATION_FAILED } from './store/kysely-store';
import { claimNode, type NodeClaim, NodeInUseError } from './store/node-claim';
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
  routes?: (app: express.Express, ctx: { engine: SeatEngine; reads: Reads; config: SeatServerConfig }) => void;
  /** The seat parts' clock (wireSeats): Date.now unless a test passes its own. */
  now?: () => number;
  /**
   * The port, opened before the server loaded (early-port.ts, `npm start`): `listen` takes it over
   * with the connections it holds, instead of opening PORT itself.
   */
  earlyPort?: EarlyPort;
  /**
   * Told a generated operator token the moment its hash is stored, before the rest of the start
   * (`npm start` prints it then: a crash later in the start must not lose the only copy).
   */
  onGeneratedAdminToken?: (token: string) => void;
}

export interface SeatServer {
  /** Seat decisions: `endSession`, `kick`, and the event stream (`subscribe`). */
  readonly engine: SeatEngine;
  /** Tenants, licenses, the admins' tokens and the audit log. */
  readonly admin: Administration;
  /** What admins read (licenses, sessions, denials, history, audit), each query scoped to the actor. */
  readonly reads: Reads;
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

/**
 * Holds what arrives until the node has started: `pass(go)` calls `go` at once when open, else when
 * `open` is called, with the reason starting failed, if it did.
 */
function startingGate(): { pass: (go: (failed?: string) => void) => void; open: (failed?: string) => void } {
  let state: { open: false; waiting: Array<(failed?: string) => void> } | { open: true; failed?: string } = { open: false, waiting: [] };
  return {
    pass(go) {
      if (state.open) go(state.failed);
      else state.waiting.push(go);
    },
    open(failed) {
      if (state.open) return;
      const { waiting } = state;
      state = { open: true, failed };
      for (const go of waiting) go(failed);
    },
  };
}

/** The host of the URL the server reports: `localhost` when it listens on every interface. */
function urlHost(host: string | undefined): string {
  if (host === undefined || host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

export interface SeatParts {
  events: EventBus;
  auth: TokenAuth;
  admin: Administration;
  reads: Reads;
  engine: SeatEngine;
  liveness: NodeLiveness;
  /** Signed seat receipts (offline grace) and their keys. */
  receipts: Receipts;
  /** HTTP leases: seats for apps without a socket, and the sweep that lapses them. */
  leases: SeatLeases;
  /** Activity heard, inactivity warnings and releases. */
  inactivity: Inactivity;
  /** The license queues: grants handed out by releases, and the backstop. */
  queue: SeatQueue;
  /** Webhooks and this node's delivery worker. */
  webhooks: SeatWebhooks;
  /** Users asking for a seat (POST /seat-requests). */
  requests: SeatRequests;
  /** Starts them in order; resolves with the operator token when it was generated now. */
  start(): Promise<{ generatedAdminToken?: string }>;
  /** Stops their timers. With `release`, this node's sockets are let go so their sessions go idle. */
  stop(opts?: { release?: boolean }): Promise<void>;
}

export interface SeatPartsOptions {
  hooks?: SeatHooks;
  /** A hook, listener or periodic task that failed. */
  onError?: (source: string, err: unknown) => void;
  /** The session ids of this node's sockets (node liveness reconciles them on each beat). */
  localSessions?: () => Iterable<string>;
  /** Other nodes share the store and the sessions (Redis set); false when absent. */
  cluster?: boolean;
  /** The clock of every part; tests may pass their own. */
  now?: () => number;
  /** Told a generated operator token the moment its hash is stored (Administration.start). */
  onGeneratedAdminToken?: (token: string) => void;
}

/** The seat parts over one store, each given the options it reads. */
export function wireSeats(store: SeatStore, config: SeatServerConfig, opts: SeatPartsOptions = {}): SeatParts {
  const now = opts.now ?? Date.now;
  const cluster = opts.cluster ?? false;
  const events = new EventBus(opts.hooks, opts.onError);
  const trouble = new StoreTrouble(now);
  const auth = new TokenAuth({ store, trouble, now, options: { tokenClockSkewSec: config.tokenClockSkewSec } });
  const { adminToken, idleTimeoutMinSec, idleTimeoutMaxSec, defaultIdleTimeoutSec, denialRetentionDays, inactivityTimeoutMinSec, inactivityTimeoutMaxSec } = config;
  const admin = new Administration({
    store,
    bus: events,
    auth,
    now,
    options: { adminToken, idleTimeoutMinSec, idleTimeoutMaxSec, defaultIdleTimeoutSec, denialRetentionDays, inactivityTimeoutMinSec, inactivityTimeoutMaxSec },
    onGeneratedToken: opts.onGeneratedAdminToken,
  });
  const reads = new Reads({ store, now, options: { denialRetentionDays } });
  const { nodeId, kickCooldownSec, sweepIntervalMs } = config;
  const engine = new SeatEngine({ store, bus: events, trouble, admin, now, options: { nodeId, kickCooldownSec, sweepIntervalMs } });
  // The backstop every five sweeps: 5 s by default.
  const queue = new SeatQueue({ store, bus: events, now, backstopMs: 5 * sweepIntervalMs });
  const requests = new SeatRequests({ store, auth, bus: events, now, options: { seatRequestsPerHour: config.seatRequestsPerHour } });
  const inactivity = new Inactivity({ store, bus: events, now, options: { activityFlushMs: config.activityFlushMs, sweepIntervalMs, nodeId, nodeTimeoutMs: config.nodeTimeoutMs } });
  const receipts = new Receipts({ store, admin, now, onError: events.onError });
  const webhooks = new SeatWebhooks({ store, admin, now, onError: events.onError, alone: !cluster, options: { nodeId, webhooks: config.webhooks, denialRetentionDays } });
  const leases = new SeatLeases({ store, engine, auth, bus: events, trouble, now, options: { nodeId, sweepIntervalMs, denialRetentionDays }, receipts });
  const { heartbeatIntervalMs, nodeTimeoutMs, stableNodeId } = config;
  const liveness = new NodeLiveness({
    store,
    bus: events,
    trouble,
    seats: engine,
    now,
    localSessions: opts.localSessions ?? (() => []),
    heardThrough: (now) => inactivity.heardThrough(now),
    options: { heartbeatIntervalMs, nodeTimeoutMs, nodeId, stableNodeId, cluster },
  });
  return {
    events,
    auth,
    admin,
    reads,
    engine,
    liveness,
    receipts,
    inactivity,
    queue,
    requests,
    leases,
    webhooks,
    async start() {
      const started = await admin.start();
      await receipts.start();
      await liveness.start();
      await engine.start();
      await leases.start();
      inactivity.start();
      queue.start();
      webhooks.start();
      return started;
    },
    async stop({ release = false } = {}) {
      engine.stop();
      receipts.stop();
      leases.stop();
      inactivity.stop();
      queue.stop();
      admin.stop();
      await webhooks.stop();
      await liveness.stop({ release });
    },
  };
}

export function createSeatServer(opts: SeatServerOptions = {}): SeatServer {
  const config = parseConfig(opts.env ?? process.env, opts.config);
  const log = opts.logger ?? createLogger(config.logLevel);
  const store = opts.store ?? openStore(config);
  // Decided once: with Redis, other nodes share the store and the sessions.
  const { redisUrl } = config;
  const cluster = redisUrl !== undefined;
  const seats = wireSeats(store, config, {
    now: opts.now,
    cluster,
    hooks: opts.hooks,
    onError: (hook, err) => log.error({ err, hook }, 'engine task failed'),
    // This node's sockets, from the app namespace (made below; read only once the node beats).
    localSessions: () => localSessionIds(io.of('/')),
    onGeneratedAdminToken: opts.onGeneratedAdminToken,
  });
  const { engine, admin, reads, auth, events } = seats;

  // listen() opens the port once the schema is migrated (or takes over the one `npm start` opened
  // before loading the server: early-port.ts), before the node has started (its last run's
  // sockets let go, its timers set): what arrives meanwhile waits here, so the clients of a
  // restarted node are held for those few hundred milliseconds instead of refused into their
  // reconnect backoff (seconds, in a storm).
  const starting = startingGate();
  const app = express();
  app.use((_req, _res, next) => starting.pass((failed) => next(failed && new SeatError(ErrorCode.Unavailable, failed))));
  app.disable('x-powered-by');
  // TRUST_PROXY: req.ip, and the sockets' per-address connect limit, read X-Forwarded-For through these hops.
  app.set('trust proxy', config.trustProxy);
  const metrics = createMetrics(events, { store, denialRetentionDays: config.denialRetentionDays, now: Date.now });
  app.get('/healthz', async (_req, res) => {
    try {
      await store.ping();
      res.json({ status: 'ok', node: config.nodeId });
    } catch {
      res.status(503).json({ error: { code: 'unavailable', message: 'the database does not answer' } });
    }
  });
  app.get('/metrics', metricsRoute(metrics, admin, { metricsToken: config.metricsToken }));
  // Built at the first request for it, not at start: 21-24 ms on a quiet machine, 127 ms in the
  // profile of the bench's storm, where a restarted node's clients wait for its start.
  let openapi: Record<string, unknown> | undefined;
  app
    .route('/api/openapi.json')
    .get((_req, res) => res.json((openapi ??= openApiDocument())))
    .all(methodNotAllowed(['GET']));
  opts.routes?.(app, { engine, reads, config });
  // The receipts' public keys, and the operator's rotation (under /api/v1, before the API's 404).
  app.use(receiptRoutes({ receipts: seats.receipts, admin }, { maxBodyBytes: config.maxPayloadBytes, onError: (err) => log.error({ err }, 'request failed') }));
  // Leases are authorised by client tokens, the rest of the API by admin tokens.
  const leaseOptions = { maxBodyBytes: config.maxPayloadBytes, connectRatePerSec: config.connectRatePerSec, connectBurst: config.connectBurst };
  app.use('/api/v1', leaseRouter(seats.leases, seats.requests, { ...leaseOptions, onError: (err) => log.error({ err }, 'lease request failed') }));
  app.use(
    '/api/v1',
    apiRouter(
      { engine, admin, reads, webhooks: seats.webhooks },
      { maxBodyBytes: config.maxPayloadBytes, onError: (err) => log.error({ err }, 'request failed') },
    ),
  );
  // What nothing above answered: JSON 404s and errors under /api and /demo/token, small pages elsewhere.
  app.use(notFound, finalErrorHandler((err) => log.error({ err }, 'request failed')));

  // Refusals before express sees a request (headers over 16 KB, malformed HTTP) get JSON errors too.
  const httpServer = createHttpServer(app, {}, { maxBodyBytes: config.maxPayloadBytes });
  const io = new Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>(httpServer, {
    maxHttpBufferSize: config.maxPayloadBytes,
    pingInterval: config.pingIntervalMs,
    pingTimeout: config.pingTimeoutMs,
    serveClient: false,
    // Seats are held by the idle timeout, not by socket.io's own recovery.
    connectionStateRecovery: undefined,
  });
  const { connectRatePerSec, connectBurst } = config;
  // Before the namespaces' own middleware: no token is read, no seat admitted, until started.
  const held = (next: (err?: Error) => void) =>
    starting.pass((failed) => next(failed ? Object.assign(new Error(ErrorCode.Unavailable), { data: { reason: ErrorCode.Unavailable, message: failed } }) : undefined));
  io.of('/').use((_socket, next) => held(next));
  io.of('/admin').use((_socket, next) => held(next));
  const receiptRelay = new ReceiptRelay(seats.receipts, log);
  attachAppNamespace(io.of('/'), { engine, auth, events, activity: seats.inactivity, queue: seats.queue }, log, { connectRatePerSec, connectBurst, cluster, nodeId: config.nodeId, trustProxy: app.get('trust proxy fn'), receipts: receiptRelay });
  const boards = attachAdminNamespace(io.of('/admin') as never, { admin, reads, events }, log, cluster && { intervalMs: config.heartbeatIntervalMs, forgetMs: config.nodeTimeoutMs });
  let closeAdapter: (() => Promise<void>) | undefined;
  let claim: NodeClaim | undefined;

  return {
    engine,
    admin,
    reads,
    config,
    io,
    async listen(port = config.port) {
      // A store this server opened from DATABASE_URL is claimed for this node before anything of
      // it changes, migrations included (node-claim.ts): a node started beside a running one it
      // would harm stops here.
      if (!opts.store) {
        claim = await claimNode({
          databaseUrl: config.databaseUrl,
          nodeId: config.nodeId,
          cluster,
          nodeTimeoutMs: config.nodeTimeoutMs,
          retryMs: config.heartbeatIntervalMs,
          onLost: (err) => log.error({ err }, 'this node lost its claim on the database to another running node'),
        }).catch((err: unknown) => {
          // A database that cannot be reached fails the start as the migration's would.
          throw err instanceof NodeInUseError ? err : new Error(MIGRATION_FAILED, { cause: err });
        });
      }
      const early = opts.earlyPort;
      try {
        const migrated = await store.migrate();
        if (migrated && migrated.newer.length > 0) {
          log.warn({ newer: migrated.newer }, 'the database was migrated by a newer version of the seat server; this node runs on it as its own version (a rolling upgrade)');
        }
        if (cluster) {
          const { attachRedisAdapter } = await import('./realtime/redis-adapter');
          closeAdapter = await attachRedisAdapter(io, redisUrl, log);
          boards.start();
        }
        await new Promise<void>((resolve, reject) => {
          httpServer.once('error', reject);
          if (early) httpServer.listen(early.server, LISTEN_BACKLOG, () => resolve());
          else httpServer.listen({ port, host: config.host, backlog: LISTEN_BACKLOG }, () => resolve());
        });
      } catch (err) {
        await claim?.release();
        throw err;
      }
      // The connections that came before, their requests unread: read now, as if just arrived.
      early?.handOver((socket) => {
        httpServer.emit('connection', socket);
        socket.resume();
      });
      let started: Awaited<ReturnType<SeatParts['start']>>;
      try {
        started = await seats.start();
      } catch (err) {
        starting.open('the seat server could not start; retry shortly');
        // After this turn, so the refusals just sent are written before the sockets close.
        await new Promise<void>((resolve) => setImmediate(() => io.close(() => resolve())));
        await claim?.release();
        throw err;
      }
      starting.open();
      const bound = (httpServer.address() as AddressInfo).port;
      return { port: bound, url: `http://${urlHost(config.host)}:${bound}`, generatedAdminToken: started.generatedAdminToken };
    },
    async close({ graceful = false } = {}) {
      // Graceful: this node's seats go idle first. Closing the transports (not a socket.io
      // disconnect, which clients take as final) makes clients reconnect elsewhere and resume.
      receiptRelay.stop();
      boards.stop();
      await seats.stop({ release: graceful });
      await new Promise<void>((resolve) => {
        io.close(() => resolve());
      });
      await closeAdapter?.();
      await store.close();
      await claim?.release();
    },
  };
}
