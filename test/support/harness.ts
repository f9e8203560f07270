// Test helpers: a real seat server on port 0 (in-process or as a child process), real
// socket.io-client sockets, and REST calls. Everything started here is stopped after the test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import { io, type Socket } from 'socket.io-client';
import { onTestFinished } from 'vitest';
import type { ClientToServerEvents, ServerToClientEvents } from '../../shared';
import { createSeatServer, type SeatServer, type SeatServerOptions } from '../../server/seat-server';
import type { SeatServerConfig } from '../../server/config';
import { type Proc as ServerProc, spawnServer } from './server-process';

export const OPERATOR_TOKEN = 'test-operator-token-0123456789';
export type AppSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Short timeouts so idle holds, sweeps and heartbeats happen in a test's seconds. */
export const FAST: Partial<SeatServerConfig> = {
  adminToken: OPERATOR_TOKEN,
  idleTimeoutMinSec: 1,
  idleTimeoutMaxSec: 3600,
  inactivityTimeoutMinSec: 1,
  activityFlushMs: 200,
  kickCooldownSec: 1,
  sweepIntervalMs: 200,
  heartbeatIntervalMs: 200,
  nodeTimeoutMs: 1500,
  logLevel: 'silent',
  demo: false,
};

export function tempDir(prefix = 'seats-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  // Retried: a SQLite store still open in the directory (its checkpointer thread) may write a file
  // back while it is being removed (ENOTEMPTY).
  onTestFinished(() => rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 }));
  return dir;
}

export interface Running {
  url: string;
  server: SeatServer;
  api: Api;
}

/** An in-process server on port 0 with an in-memory (or given) database; closed after the test. */
export async function startServer(opts: SeatServerOptions & { databaseUrl?: string } = {}): Promise<Running> {
  const server = createSeatServer({
    ...opts,
    env: opts.env ?? {},
    config: { databaseUrl: opts.databaseUrl ?? ':memory:', ...FAST, ...opts.config },
  });
  const { url } = await server.listen(0);
  onTestFinished(() => server.close());
  return { url, server, api: new Api(url, OPERATOR_TOKEN) };
}

export type Proc = ServerProc & { api: Api };

/**
 * `npm start`'s entry point as a child process (see `spawnServer`), killed after the test unless
 * `untilTestEnds: false` (a suite-wide process the caller stops).
 */
export async function startProcess(env: Record<string, string>, opts: { untilTestEnds?: boolean } = {}): Promise<Proc> {
  const pending = spawnServer({ ADMIN_TOKEN: OPERATOR_TOKEN, ...env });
  if (opts.untilTestEnds !== false) onTestFinished(() => pending.kill9());
  const proc = await pending.ready;
  return { ...proc, api: new Api(proc.url, OPERATOR_TOKEN) };
}

export interface LicenseReply {
  id: string;
  secret: string;
  seats: number;
  seatsInUse: number;
  idleTimeoutSec: number;
  deniedMessage: string;
  [k: string]: unknown;
}

export class Api {
  constructor(
    readonly url: string,
    readonly token: string,
  ) {}

  as(token: string): Api {
    return new Api(this.url, token);
  }

  async call<T = any>(method: string, pathname: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.url}/api/v1${pathname}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  async ok<T = any>(method: string, pathname: string, body?: unknown): Promise<T> {
    const r = await this.call<T>(method, pathname, body);
    if (r.status >= 300) throw new Error(`${method} ${pathname} → ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  /** A tenant and a license of it; returns the license (with its secret) and the tenant's admin API. */
  async setup(license: Record<string, unknown> = {}): Promise<{ license: LicenseReply; tenant: { id: string; name: string; adminToken: string }; admin: Api }> {
    const tenant = await this.ok<{ id: string; name: string; adminToken: string }>('POST', '/tenants', { name: `t-${Math.random().toString(36).slice(2)}` });
    const lic = await this.ok<LicenseReply>('POST', '/licenses', { tenantId: tenant.id, seats: 5, idleTimeoutSec: 2, ...license });
    return { license: lic, tenant, admin: this.as(tenant.adminToken) };
  }
}

/** Signs a client token for the license (HS256 with its secret, 10 minutes). */
export async function sign(license: { id: string; secret: string }, claims: Record<string, unknown>, opts: { exp?: number | string; alg?: string } = {}): Promise<string> {
  return new SignJWT({ lic: license.id, ...claims })
    .setProtectedHeader({ alg: opts.alg ?? 'HS256' })
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? '10m')
    .sign(new TextEncoder().encode(license.secret));
}

export type Admission =
  | { kind: 'granted'; payload: Parameters<ServerToClientEvents['seat:granted']>[0] }
  | { kind: 'denied'; payload: Parameters<ServerToClientEvents['seat:denied']>[0] }
  | { kind: 'connect_error'; message: string; data: { reason: string; message: string } };

/** A real socket.io-client socket to the app namespace, closed after the test. */
export function connect(url: string, token: string, opts: { reconnection?: boolean } = {}): AppSocket {
  const socket: AppSocket = io(url, {
    auth: { token },
    transports: ['websocket'],
    reconnection: opts.reconnection ?? false,
    forceNew: true,
  });
  onTestFinished(() => {
    socket.disconnect();
  });
  return socket;
}

/** Resolves with the socket's first admission outcome. */
export function admission(socket: AppSocket, timeoutMs = 10_000): Promise<Admission> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no admission event')), timeoutMs);
    const done = (a: Admission) => {
      clearTimeout(timer);
      resolve(a);
    };
    socket.once('seat:granted', (payload) => done({ kind: 'granted', payload }));
    socket.once('seat:denied', (payload) => done({ kind: 'denied', payload }));
    socket.once('connect_error', (err: Error & { data?: any }) => done({ kind: 'connect_error', message: err.message, data: err.data }));
  });
}

/** Connects and waits for the admission outcome. */
export async function connectAndAdmit(url: string, token: string, opts: { reconnection?: boolean } = {}): Promise<{ socket: AppSocket; result: Admission }> {
  const socket = connect(url, token, opts);
  return { socket, result: await admission(socket) };
}

export async function granted(url: string, token: string, opts: { reconnection?: boolean } = {}) {
  const { socket, result } = await connectAndAdmit(url, token, opts);
  if (result.kind !== 'granted') throw new Error(`expected a grant, got ${JSON.stringify(result)}`);
  return { socket, grant: result.payload };
}

export function nextEvent<T = any>(socket: { once: (ev: any, fn: (...a: any[]) => void) => any }, event: string, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${event}" within ${timeoutMs} ms`)), timeoutMs);
    socket.once(event, (payload: T) => {
      clearTimeout(timer);
      resolve(payload);
    });
  });
}

export function closeSocket(socket: AppSocket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.disconnected) return resolve();
    socket.once('disconnect', () => resolve());
    socket.disconnect();
  });
}

/** Polls `fn` until it returns true (or times out): for state reached through another process. */
/** An admin dashboard's socket (namespace `/admin`) on the server at `url`, websocket only, closed after the test. */
export function adminSocket(url: string, token: string): Socket {
  const s = io(`${url}/admin`, { auth: { token }, transports: ['websocket'], forceNew: true, reconnection: false });
  onTestFinished(() => void s.disconnect());
  return s;
}

export async function until(fn: () => Promise<boolean> | boolean, timeoutMs = 10_000, stepMs = 50): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return;
    await sleep(stepMs);
  }
  throw new Error('condition not met in time');
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
