// A load process: opens socket.io-client sockets to one server over loopback, closed-loop (a
// bound on connects in flight) or open-loop (a fixed rate), and times what the driver asks for.
// Every wait is bounded; the process exits when the driver goes away.
import { performance } from 'node:perf_hooks';
import { SignJWT } from 'jose';
import { io, type Socket } from 'socket.io-client';
import { serve } from './ipc';

interface Granted {
  sessionId: string;
  resumed: boolean;
}

interface Conn {
  socket: Socket;
  /** The first grant, and the latest one (a reconnect is granted again). */
  first?: Granted;
  last?: Granted;
  lastAt?: number;
  grants: number;
  denied?: string;
  closing: boolean;
  unexpectedDisconnects: number;
  ended?: (at: number) => void;
}

export interface OpenArgs {
  tag: string;
  url: string;
  /** Sign a token per socket with the license's secret; the floor takes no token. */
  license?: { id: string; secret: string };
  /** Instead of `license`: socket i of the run takes licenses[(offset + i) % length] (the scale table's many licenses). */
  licenses?: Array<{ id: string; secret: string }>;
  /** This worker's first socket's index in the whole run, across load processes. */
  offset?: number;
  prefix: string;
  count: number;
  /** Closed loop: at most this many connects in flight. */
  concurrency?: number;
  /** Open loop: connects started per second. */
  ratePerSec?: number;
  reconnection?: boolean;
  timeoutMs?: number;
}

export interface OpenResult {
  ok: number;
  failed: number;
  errors: Record<string, number>;
  latenciesMs: number[];
  startedAt: number;
  endedAt: number;
}

const tags = new Map<string, Conn[]>();
const bump = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);

async function open(a: OpenArgs): Promise<OpenResult> {
  const tokens: string[] = [];
  for (let i = 0; i < a.count; i++) {
    const lic = a.licenses?.length ? a.licenses[((a.offset ?? 0) + i) % a.licenses.length]! : a.license;
    tokens.push(
      lic
        ? await new SignJWT({ lic: lic.id, sid: `${a.prefix}-${i}`, app: 'bench' })
            .setProtectedHeader({ alg: 'HS256' })
            .setIssuedAt()
            .setExpirationTime('30m')
            .sign(new TextEncoder().encode(lic.secret))
        : 'floor',
    );
  }
  const conns: Conn[] = tags.get(a.tag) ?? [];
  tags.set(a.tag, conns);
  const errors: Record<string, number> = {};
  const latenciesMs: number[] = [];
  let ok = 0;
  let failed = 0;
  const timeoutMs = a.timeoutMs ?? 30_000;

  const one = (i: number) =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      const socket = io(a.url, {
        auth: { token: tokens[i]! },
        transports: ['websocket'],
        reconnection: a.reconnection ?? false,
        forceNew: true,
        timeout: timeoutMs,
      });
      const conn: Conn = { socket, grants: 0, closing: false, unexpectedDisconnects: 0 };
      let settled = false;
      const settle = (error?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) {
          failed++;
          bump(errors, error);
          conn.closing = true;
          socket.disconnect();
        } else {
          ok++;
          latenciesMs.push(performance.now() - t0);
          conns.push(conn);
        }
        resolve();
      };
      const timer = setTimeout(() => settle('timeout'), timeoutMs);
      socket.on('seat:granted', (g: Granted) => {
        conn.grants++;
        conn.first ??= g;
        conn.last = g;
        conn.lastAt = Date.now();
        conn.denied = undefined;
        settle();
      });
      socket.on('seat:denied', (d: { reason: string }) => {
        conn.denied = d.reason;
        settle(`denied:${d.reason}`);
      });
      socket.on('connect_error', (err: Error) => {
        if (!a.reconnection) settle(`connect_error:${err.message}`);
      });
      socket.on('session:ended', () => conn.ended?.(performance.now()));
      socket.on('disconnect', () => {
        if (!conn.closing) conn.unexpectedDisconnects++;
        if (!settled && !a.reconnection) settle('disconnected');
      });
    });

  const startedAt = Date.now();
  if (a.ratePerSec) {
    const start = performance.now();
    const all: Promise<void>[] = [];
    let next = 0;
    await new Promise<void>((resolve) => {
      const tick = () => {
        const due = Math.min(a.count, Math.floor(((performance.now() - start) / 1000) * a.ratePerSec!) + 1);
        while (next < due) all.push(one(next++));
        if (next >= a.count) return resolve();
        setTimeout(tick, 2);
      };
      tick();
    });
    await Promise.all(all);
  } else {
    let next = 0;
    const lane = async () => {
      while (next < a.count) await one(next++);
    };
    await Promise.all(Array.from({ length: Math.max(1, a.concurrency ?? 50) }, lane));
  }
  return { ok, failed, errors, latenciesMs, startedAt, endedAt: Date.now() };
}

/** Disconnects every socket of the tag; reports the disconnects it did not ask for. */
function close(a: { tag: string }) {
  const conns = tags.get(a.tag) ?? [];
  tags.delete(a.tag);
  let unexpected = 0;
  for (const c of conns) {
    unexpected += c.unexpectedDisconnects;
    c.closing = true;
    c.socket.disconnect();
  }
  return { closed: conns.length, unexpectedDisconnects: unexpected };
}

function status(a: { tag: string; since?: number }) {
  const conns = tags.get(a.tag) ?? [];
  let connected = 0;
  let regranted = 0;
  let sameSession = 0;
  let resumedFlag = 0;
  let denied = 0;
  let lastAt = 0;
  let unexpected = 0;
  for (const c of conns) {
    if (c.socket.connected) connected++;
    if (c.denied) denied++;
    unexpected += c.unexpectedDisconnects;
    if (a.since !== undefined && c.lastAt !== undefined && c.lastAt >= a.since) {
      regranted++;
      if (c.last?.sessionId === c.first?.sessionId) sameSession++;
      if (c.last?.resumed) resumedFlag++;
      lastAt = Math.max(lastAt, c.lastAt);
    }
  }
  return { total: conns.length, connected, regranted, sameSession, resumedFlag, denied, lastAt, unexpectedDisconnects: unexpected };
}

/** When each of the tag's sockets was last granted, at or after `since` (a storm's spread). */
function grantTimes(a: { tag: string; since: number }) {
  return (tags.get(a.tag) ?? []).flatMap((c) => (c.lastAt !== undefined && c.lastAt >= a.since ? [c.lastAt - a.since] : []));
}

/** Kicks the tag's sessions one at a time over REST and times each until its `session:ended`. */
async function kick(a: { tag: string; url: string; adminToken: string; count: number; gapMs: number }) {
  const conns = (tags.get(a.tag) ?? []).filter((c) => c.first).slice(0, a.count);
  const latenciesMs: number[] = [];
  const errors: Record<string, number> = {};
  for (const c of conns) {
    c.closing = true;
    const ended = new Promise<number>((resolve) => (c.ended = resolve));
    const t0 = performance.now();
    const res = await fetch(`${a.url}/api/v1/sessions/${encodeURIComponent(c.first!.sessionId)}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${a.adminToken}` },
    });
    await res.arrayBuffer();
    if (res.status >= 300) {
      bump(errors, `http_${res.status}`);
      continue;
    }
    const at = await Promise.race([ended, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
    if (at === null) bump(errors, 'no_session_ended');
    else latenciesMs.push(at - t0);
    if (a.gapMs > 0) await new Promise((r) => setTimeout(r, a.gapMs));
  }
  return { latenciesMs, errors };
}

/**
 * Sends the tag's sockets, when they next reconnect, to these servers in turn: what a balancer
 * does once it has dropped a dead node (the cluster storm calls it just before the kill -9).
 */
function failover(a: { tag: string; to: string[] }) {
  const conns = tags.get(a.tag) ?? [];
  // Manager.open() builds its engine from `uri` on every reconnect; socket.io-client types it private.
  conns.forEach((c, i) => ((c.socket.io as unknown as { uri: string }).uri = a.to[i % a.to.length]!));
  return { moved: conns.length };
}

serve({ open, close, status, kick, failover, grantTimes });
process.send!({ ready: true });
