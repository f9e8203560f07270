// The soak's clients and operations: tabs of portal sessions that open, close, reconnect inside
// and after the idle hold, end their sessions, and admins that kick, change seats and suspend.
// Which operation comes next is drawn from the seed; when replies arrive is up to the system.
import { SignJWT } from 'jose';
import { io, type Socket } from 'socket.io-client';
import { blackholeProxy } from '../test/support/blackhole';
import { SOAK_ADMIN_TOKEN, type SoakCluster, sleep } from './cluster';
import { Leases } from './leases';
import type { Claims, Conn, OpLog } from './record';
import type { Rng } from './rng';

export interface LicenseSpec {
  id: string;
  seatKey: Array<'session' | 'user' | 'device' | 'instance'>;
  seats: number;
  idleSec: number;
  /** Distinct seat keys its clients draw from: more than its seats, so seats run out. */
  keys: number;
  /** Heaviest weight claim (1 = no weight claim). */
  maxWeight: number;
  /** The policies of today, set on the license when made (docs/contract.md). */
  queue?: boolean;
  overage?: number;
  reservations?: Array<{ group: string; seats: number }>;
  groupLimits?: Array<{ group: string; max: number }>;
  /** The `grp` claim of seat key k is `groups[k % groups.length]` ('' for none). */
  groups?: string[];
  /** Leases are taken on it (`leaseIntervalSec`, short so leases lapse within a run). */
  leaseSec?: number;
  inactivitySec?: number;
  /** Its seats never change (the reservation invariant holds only while seats and reservations do). */
  fixedSeats?: boolean;
}

/** Every seat key, several weights and idle holds, and pools a little larger than the seats. */
export const LICENSES: LicenseSpec[] = [
  { id: 'soak-webui', seatKey: ['session'], seats: 4, idleSec: 3, keys: 9, maxWeight: 1 },
  { id: 'soak-desktop', seatKey: ['user', 'device'], seats: 3, idleSec: 2, keys: 7, maxWeight: 1 },
  { id: 'soak-erp', seatKey: ['instance'], seats: 6, idleSec: 2, keys: 8, maxWeight: 3 },
  { id: 'soak-pos', seatKey: ['device'], seats: 3, idleSec: 4, keys: 6, maxWeight: 1 },
  { id: 'soak-floating', seatKey: ['user'], seats: 2, idleSec: 3, keys: 5, maxWeight: 1 },
  { id: 'soak-mixed', seatKey: ['session'], seats: 5, idleSec: 2, keys: 9, maxWeight: 2 },
  // The policies: a queue, overage, a reservation and a group limit, HTTP leases, inactivity.
  { id: 'soak-queue', seatKey: ['session'], seats: 3, idleSec: 2, keys: 8, maxWeight: 1, queue: true },
  { id: 'soak-overage', seatKey: ['user'], seats: 3, idleSec: 2, keys: 8, maxWeight: 1, overage: 1.5, leaseSec: 10 },
  {
    id: 'soak-groups',
    seatKey: ['session'],
    seats: 5,
    idleSec: 2,
    keys: 12,
    maxWeight: 1,
    reservations: [{ group: 'night', seats: 2 }],
    groupLimits: [{ group: 'contractors', max: 2 }],
    groups: ['night', 'contractors', ''],
    fixedSeats: true,
  },
  { id: 'soak-lease', seatKey: ['device'], seats: 3, idleSec: 2, keys: 6, maxWeight: 1, leaseSec: 10 },
  { id: 'soak-inactive', seatKey: ['session'], seats: 6, idleSec: 2, keys: 40, maxWeight: 1, inactivitySec: 2 },
];

/** Licenses leases are taken on, and those whose seats the `seats` operation changes. */
const LEASED = LICENSES.filter((l) => l.leaseSec);
const RESIZABLE = LICENSES.filter((l) => !l.fixedSeats);
/** New tabs pick the policies' licenses twice as often as the others. */
const POLICIES = LICENSES.filter((l) => l.queue || l.overage || l.reservations || l.leaseSec || l.inactivitySec);
const PICKED = [...LICENSES, ...POLICIES];

/** How long a tab of an inactivity license goes on sending `session:activity` after its grant. */
const BUSY_MS = [0, 0, 1500, 5000, Infinity];
/**
 * A busy tab's activity: more often than once a second, so some are throttled by the server (one
 * counted every 1.2 s at worst, well inside the 2 s timeout).
 */
const ACTIVITY_EVERY_MS = 400;

/** The claims of a license's k-th seat key; `variant` changes claims that are not part of the key. */
function claimsOf(spec: LicenseSpec, k: number, variant: number): Claims {
  const weight = spec.maxWeight > 1 ? 1 + (k % spec.maxWeight) : undefined;
  const c: Claims = { name: `${spec.id} #${k}`, ...(weight ? { weight } : {}) };
  for (const part of spec.seatKey) {
    if (part === 'session') c.sid = `s${k}`;
    if (part === 'user') c.sub = `u${spec.seatKey.length > 1 ? k % 3 : k}`;
    if (part === 'device') c.dev = `d${spec.seatKey.length > 1 ? Math.floor(k / 3) : k}`;
    if (part === 'instance') c.ins = `i${k}`;
  }
  const grp = spec.groups?.[k % spec.groups.length];
  if (grp) c.grp = grp;
  // Claims outside the key vary from tab to tab, as they do in life (who logs into the POS).
  if (!spec.seatKey.includes('user')) c.sub = `u${(k + variant) % 4}`;
  if (!spec.seatKey.includes('device') && spec.seatKey.includes('user')) c.dev = `d${variant % 3}`;
  return c;
}

interface Identity {
  spec: LicenseSpec;
  k: number;
  key: string;
}

type TabState = 'connecting' | 'queued' | 'granted' | 'done';

class Tab {
  state: TabState = 'connecting';
  socket?: Socket;
  conn?: Conn;
  private attempts = 0;
  /** Closed by the workload (or given up): never reconnects. */
  closed = false;
  private activity?: NodeJS.Timeout;

  constructor(
    readonly n: number,
    readonly who: Identity,
    readonly claims: Claims,
    private readonly w: Workload,
    /** Connects with `queue: true` (a license with a queue). */
    private readonly wait = false,
    /** On an inactivity license: how long after its first grant it sends activity. */
    private readonly busyMs = 0,
  ) {}

  /** Opens a socket (through `via` when given, else to a live node) and follows what happens. */
  open(via?: string): void {
    const url = via ?? this.w.pickNode();
    if (!url) return this.retry('no live node');
    this.state = 'connecting';
    const conn: Conn = { n: this.w.conns.length, tab: this.n, licenseId: this.who.spec.id, key: this.who.key, claims: this.claims, node: url, openedAt: Date.now() };
    this.w.conns.push(conn);
    this.conn = conn;
    const auth = { token: this.w.tokenOf(this.who.spec, this.claims), ...(this.wait ? { queue: true } : {}) };
    const socket = io(url, { auth, transports: ['websocket'], reconnection: false, forceNew: true, timeout: 8000 });
    this.socket = socket;
    const end = (e: NonNullable<Conn['end']>) => {
      if (conn.end) return false;
      conn.end = e;
      return true;
    };
    socket.on('connect', () => (conn.socketId = socket.id));
    socket.on('seat:granted', (p: { sessionId: string; resumed: boolean }) => {
      if (conn.end) return;
      conn.grant = { at: Date.now(), sessionId: p.sessionId, resumed: p.resumed };
      this.state = 'granted';
      this.attempts = 0;
      if (this.who.spec.inactivitySec) this.beBusy(socket, conn);
    });
    socket.on('seat:queued', () => {
      if (conn.end || conn.grant) return;
      conn.queuedAt ??= Date.now();
      this.state = 'queued';
    });
    socket.on('seat:denied', (p: { reason: string }) => {
      if (!end({ at: Date.now(), kind: 'denied', reason: p.reason })) return;
      this.w.denialsSeen.push({ at: conn.end!.at, licenseId: conn.licenseId, reason: p.reason, claims: this.claims });
      this.finish();
    });
    socket.on('session:ended', (p: { reason: string }) => {
      if (!end({ at: Date.now(), kind: 'ended', reason: p.reason })) return;
      this.w.log.add({ kind: 'told', detail: `tab ${this.n} told ${p.reason}`, licenseId: conn.licenseId, sessionId: conn.grant?.sessionId, tab: this.n, key: this.who.key });
      this.finish();
    });
    socket.on('connect_error', (err: Error & { data?: { reason?: string } }) => {
      const reason = err.data?.reason ?? err.message;
      if (!end({ at: Date.now(), kind: 'refused', reason })) return;
      // A node that is down or a store that is away: try again, as the SDK does.
      if (err.data?.reason === undefined || reason === 'unavailable') this.retry(reason);
      else {
        this.w.anomalies.push(`tab ${this.n}: handshake refused with ${reason}`);
        this.finish();
      }
    });
    socket.on('disconnect', (why: string) => {
      const server = why === 'io server disconnect';
      if (!end(server ? { at: Date.now(), kind: 'server' } : { at: Date.now(), kind: 'transport', detail: why })) return;
      if (!conn.grant && server) return this.retry('admission failed'); // seat:error, then the cut
      if (server) return this.finish();
      this.w.log.add({ kind: 'dropped', detail: `tab ${this.n} lost its link (${why})`, licenseId: conn.licenseId, sessionId: conn.grant?.sessionId, tab: this.n, key: this.who.key });
      this.retry(why);
    });
  }

  /** Sends `session:activity` for `busyMs` after the first grant, then goes quiet. */
  private beBusy(socket: Socket, conn: Conn): void {
    clearInterval(this.activity);
    this.busyUntil ??= Date.now() + this.busyMs;
    if (Date.now() >= this.busyUntil) return;
    this.activity = setInterval(() => {
      if (conn.end || this.socket !== socket || Date.now() >= this.busyUntil!) return clearInterval(this.activity);
      socket.emit('session:activity');
      (conn.activity ??= []).push(Date.now());
      if (conn.activity.length > 16) conn.activity.shift();
    }, ACTIVITY_EVERY_MS);
    this.activity.unref();
  }

  private busyUntil?: number;

  private retry(why: string): void {
    this.socket?.removeAllListeners();
    this.socket?.disconnect();
    if (this.closed || ++this.attempts > 60) return this.finish();
    this.state = 'connecting';
    setTimeout(() => {
      if (!this.closed) this.open();
    }, 150 + Math.floor(Math.random() * 400)).unref();
    void why;
  }

  private finish(): void {
    clearInterval(this.activity);
    this.state = 'done';
    this.closed = true;
    this.w.untrack(this);
    setImmediate(() => this.socket?.disconnect());
  }

  /** The tab closes (or the app quits): a plain disconnect. */
  close(): void {
    if (this.conn && !this.conn.end) this.conn.end = { at: Date.now(), kind: 'client' };
    this.closed = true;
    this.finish();
  }

  /** The app ends its own session: `session:end`, with an ack. */
  endSession(): void {
    this.socket?.timeout(5000).emit('session:end', () => {});
  }
}

/**
 * Tabs of an inactivity license are spared the operations on tabs (closes, kicks, ends, other
 * tabs, whose connects are activity) so they live long enough to go quiet, or not: each closes
 * by itself after a while (`LIFE_MS`). License operations (seats, suspension) still reach them.
 */
const spared = (tab: Tab) => tab.who.spec.inactivitySec !== undefined;
const LIFE_MS = [2500, 9000] as const;

export class Workload {
  readonly conns: Conn[] = [];
  readonly denialsSeen: Array<{ at: number; licenseId: string; reason: string; claims: Claims }> = [];
  /** Things that are not invariant violations but should not happen (printed in the report). */
  readonly anomalies: string[] = [];
  readonly counts = new Map<string, number>();
  private readonly tabs = new Set<Tab>();
  private tabN = 0;
  private readonly secrets = new Map<string, string>();
  private readonly tokens = new Map<string, string>();
  private readonly seats = new Map<string, number>();
  private readonly suspended = new Set<string>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly silent: Array<{ close: () => Promise<void> }> = [];
  /** The soak tenant's admin token: every other kick is its admin's (checked in the ending's transaction), the rest the operator's. */
  private tenantToken = SOAK_ADMIN_TOKEN;
  private kicks = 0;
  readonly leases = new Leases(this);

  constructor(
    readonly cluster: SoakCluster,
    readonly rng: Rng,
    readonly log: OpLog,
    readonly maxTabs: number,
  ) {}

  /** A tenant and the licenses, through the REST API. Signs tokens with their secrets. */
  async setup(): Promise<void> {
    const tenant = await this.rest('POST', '/tenants', { name: 'Soak' });
    this.tenantToken = tenant.adminToken;
    for (const l of LICENSES) {
      const policies = {
        ...(l.queue ? { queue: true } : {}),
        ...(l.overage ? { overage: l.overage } : {}),
        ...(l.reservations ? { reservations: l.reservations } : {}),
        ...(l.groupLimits ? { groupLimits: l.groupLimits } : {}),
        ...(l.leaseSec ? { leaseIntervalSec: l.leaseSec } : {}),
        ...(l.inactivitySec ? { inactivityTimeoutSec: l.inactivitySec, inactivityWarningSec: 1 } : {}),
      };
      const made = await this.rest('POST', '/licenses', { id: l.id, name: l.id, tenantId: tenant.id, seats: l.seats, seatKey: l.seatKey, idleTimeoutSec: l.idleSec, ...policies });
      this.secrets.set(l.id, made.secret);
      this.seats.set(l.id, l.seats);
    }
    // Signing keys are made once; a token per claims set is made on first use and kept.
    for (const l of LICENSES) for (let k = 0; k < l.keys; k++) for (let v = 0; v < 4; v++) await this.sign(l, claimsOf(l, k, v));
  }

  private async sign(spec: LicenseSpec, claims: Claims): Promise<string> {
    const id = `${spec.id}:${JSON.stringify(claims)}`;
    let token = this.tokens.get(id);
    if (!token) {
      token = await new SignJWT({ lic: spec.id, ...claims }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime('6h').sign(new TextEncoder().encode(this.secrets.get(spec.id)!));
      this.tokens.set(id, token);
    }
    return token;
  }

  tokenOf(spec: LicenseSpec, claims: Claims): string {
    const token = this.tokens.get(`${spec.id}:${JSON.stringify(claims)}`);
    if (!token) throw new Error(`no token signed for ${spec.id} ${JSON.stringify(claims)}`);
    return token;
  }

  pickNode(): string | undefined {
    const urls = this.cluster.liveUrls();
    return urls.length ? urls[Math.floor(Math.random() * urls.length)] : undefined;
  }

  nextTab(): number {
    return ++this.tabN;
  }

  untrack(tab: Tab): void {
    this.tabs.delete(tab);
  }

  get openTabs(): number {
    return this.tabs.size;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  private count(kind: string): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
  }

  private granted(): Tab[] {
    return [...this.tabs].filter((t) => t.state === 'granted' && t.conn?.grant && !spared(t));
  }

  /**
   * A new tab of `who`; `variant` (drawn when the operation is) picks the claims outside the key,
   * whether it waits in a license's queue (3 in 4) and how long it stays busy on an inactivity license.
   */
  private newTab(who: Identity, variant: number, via?: string): Tab {
    const claims = claimsOf(who.spec, who.k, variant);
    const busy = BUSY_MS[(variant + who.k) % BUSY_MS.length]!;
    const tab = new Tab(++this.tabN, who, claims, this, who.spec.queue === true && variant !== 0, busy);
    this.tabs.add(tab);
    tab.open(via);
    if (spared(tab)) {
      const life = LIFE_MS[0] + ((tab.n * 7919 + variant * 131) % (LIFE_MS[1] - LIFE_MS[0]));
      setTimeout(() => {
        if (tab.closed) return;
        this.log.add({ kind: 'close', detail: `tab ${tab.n} of ${who.key} after ${life} ms`, licenseId: who.spec.id, sessionId: tab.conn?.grant?.sessionId, tab: tab.n, key: who.key });
        tab.close();
      }, life).unref();
    }
    return tab;
  }

  private identity(): Identity {
    const spec = this.rng.pick(PICKED);
    const k = this.rng.int(0, spec.keys - 1);
    return { spec, k, key: `${spec.id}/${k}` };
  }

  /** One operation, drawn from the seed. Asynchronous parts run on; `drain` waits for them. */
  step(): void {
    const roll = this.rng.int(0, 999);
    const granted = this.granted();
    let kind =
      roll < 280 ? 'open'
      : roll < 370 ? 'another-tab'
      : roll < 540 ? 'close'
      : roll < 670 ? 'reconnect'
      : roll < 730 ? 'end'
      : roll < 780 ? 'kick'
      : roll < 820 ? 'kick-open'
      : roll < 870 ? 'seats'
      : roll < 875 ? 'suspend'
      : roll < 910 ? 'reconnect-late'
      : roll < 960 ? 'lease'
      : roll < 980 ? 'lease-release'
      : 'lease-lapse';
    if ((kind === 'open' || kind === 'another-tab') && this.tabs.size >= this.maxTabs) kind = 'close';
    if (kind === 'lease' && this.leases.count >= 12) kind = 'lease-release';
    const pick = granted.length ? this.rng.pick(granted) : undefined;
    const target = this.rng.int(0, 1_000_000);
    const variant = this.rng.int(0, 3);
    switch (kind) {
      case 'open': {
        const who = this.identity();
        const tab = this.newTab(who, variant);
        this.log.add({ kind, detail: `tab ${tab.n} of ${who.key}`, licenseId: who.spec.id, tab: tab.n, key: who.key });
        break;
      }
      case 'another-tab': {
        // Beside a tab that holds a seat, or one that waits in a queue: two tabs of one seat key
        // then wait, and a pass that frees two seats must give them one session.
        const beside = [...granted, ...[...this.tabs].filter((t) => t.state === 'queued')];
        if (!beside.length) return this.step();
        const by = beside[target % beside.length]!;
        const tab = this.newTab(by.who, variant);
        this.log.add({ kind, detail: `tab ${tab.n} beside tab ${by.n} (${by.state}) of ${by.who.key}`, licenseId: by.who.spec.id, tab: tab.n, key: by.who.key });
        break;
      }
      case 'close': {
        const all = [...this.tabs].filter((t) => !spared(t));
        if (!all.length) return;
        const tab = all[target % all.length]!;
        this.log.add({ kind, detail: `tab ${tab.n} of ${tab.who.key}`, licenseId: tab.who.spec.id, sessionId: tab.conn?.grant?.sessionId, tab: tab.n, key: tab.who.key });
        tab.close();
        break;
      }
      case 'reconnect':
      case 'reconnect-late': {
        if (!pick) return;
        // Inside the hold, or after it (the seat is then released and taken again if free).
        const idleMs = pick.who.spec.idleSec * 1000;
        const after = kind === 'reconnect' ? this.rng.int(0, Math.floor(idleMs * 0.7)) : idleMs + this.rng.int(500, 1500);
        this.log.add({ kind, detail: `tab ${pick.n} of ${pick.who.key} closes, back in ${after} ms`, licenseId: pick.who.spec.id, sessionId: pick.conn?.grant?.sessionId, tab: pick.n, key: pick.who.key });
        pick.close();
        this.later(after, () => {
          const tab = this.newTab(pick.who, variant);
          this.log.add({ kind: 'back', detail: `tab ${tab.n} of ${pick.who.key} (was tab ${pick.n})`, licenseId: pick.who.spec.id, tab: tab.n, key: pick.who.key });
        });
        break;
      }
      case 'end': {
        if (!pick) return;
        this.log.add({ kind, detail: `tab ${pick.n} ends session ${pick.conn!.grant!.sessionId}`, licenseId: pick.who.spec.id, sessionId: pick.conn!.grant!.sessionId, tab: pick.n, key: pick.who.key });
        pick.endSession();
        break;
      }
      case 'kick':
      case 'kick-open': {
        if (!pick) return;
        const sessionId = pick.conn!.grant!.sessionId;
        const about = { licenseId: pick.who.spec.id, sessionId, tab: pick.n, key: pick.who.key };
        const byTenant = this.kicks++ % 2 === 1;
        this.log.add({ kind: 'kick', detail: `session ${sessionId} of tab ${pick.n}, by ${byTenant ? "the tenant's admin" : 'the operator'}`, ...about });
        this.track(
          this.rest('DELETE', `/sessions/${sessionId}`, target % 2 ? { message: 'Soak kick' } : undefined, [404], byTenant ? this.tenantToken : SOAK_ADMIN_TOKEN).then((r) =>
            this.log.add({ kind: 'kicked', detail: r === undefined ? `session ${sessionId}: 404, no live session` : `session ${sessionId} ended`, ...about }),
          ),
        );
        // Straight back in: the seat key is cooling down, so this one is denied `kicked`.
        if (kind === 'kick-open') {
          this.later(50, () => {
            const tab = this.newTab(pick.who, variant);
            this.log.add({ kind: 'back', detail: `tab ${tab.n} of ${pick.who.key} right after the kick`, licenseId: pick.who.spec.id, tab: tab.n, key: pick.who.key });
          });
        }
        break;
      }
      case 'lease': {
        const spec = this.rng.pick(LEASED);
        const k = target % spec.keys;
        const claims = claimsOf(spec, k, variant);
        const key = `${spec.id}/${k}`;
        this.log.add({ kind, detail: `POST /leases for ${key}`, licenseId: spec.id, key });
        this.track(this.leases.take(spec.id, key, claims, this.tokenOf(spec, claims)));
        break;
      }
      case 'lease-release':
      case 'lease-lapse': {
        const conn = this.leases.stop(target, kind === 'lease-release' ? 'release' : 'lapse');
        if (!conn) return;
        this.log.add({ kind, detail: `lease ${conn.lease!.leaseId} (tab ${conn.tab}) of ${conn.key}`, licenseId: conn.licenseId, sessionId: conn.grant?.sessionId, tab: conn.tab, key: conn.key });
        break;
      }
      case 'seats': {
        const spec = this.rng.pick(RESIZABLE);
        const seats = this.rng.int(Math.max(0, spec.seats - 2), spec.seats + 2);
        this.log.add({ kind, detail: `${spec.id} seats ${this.seats.get(spec.id)} -> ${seats}`, licenseId: spec.id });
        this.seats.set(spec.id, seats);
        this.track(this.rest('PATCH', `/licenses/${spec.id}`, { seats }));
        break;
      }
      case 'suspend': {
        const spec = this.rng.pick(LICENSES);
        if (this.suspended.has(spec.id)) return;
        const back = this.rng.int(300, 1500);
        this.suspended.add(spec.id);
        this.log.add({ kind, detail: `${spec.id} suspended for ${back} ms`, licenseId: spec.id });
        this.track(
          this.rest('PATCH', `/licenses/${spec.id}`, { status: 'suspended' }).finally(() =>
            this.later(back, () => {
              this.log.add({ kind: 'restore', detail: spec.id, licenseId: spec.id });
              this.track(this.rest('PATCH', `/licenses/${spec.id}`, { status: 'active' }).finally(() => this.suspended.delete(spec.id)));
            }),
          ),
        );
        break;
      }
    }
    this.count(kind);
  }

  /** A tab whose network goes silent without a close, some time after its grant (a fault). */
  async silentClient(): Promise<void> {
    // Drawn before anything waits, so the seed's sequence does not depend on timing.
    const who = this.identity();
    const variant = this.rng.int(0, 3);
    const silentAfter = this.rng.int(100, 1500);
    const url = this.pickNode();
    if (!url) return;
    const proxy = await blackholeProxy(Number(new URL(url).port));
    const tab = this.newTab(who, variant, proxy.url);
    this.log.add({ kind: 'fault', detail: `silent client: tab ${tab.n} of ${who.key} through a proxy to ${url}`, licenseId: who.spec.id, tab: tab.n });
    const until = Date.now() + 5000;
    while (tab.state === 'connecting' && Date.now() < until) await sleep(50);
    await sleep(silentAfter);
    if (tab.conn && !tab.conn.end) {
      proxy.drop();
      tab.conn.end = { at: Date.now(), kind: 'silent' };
      tab.closed = true;
      this.untrack(tab);
      this.log.add({ kind: 'fault', detail: `tab ${tab.n}'s network went silent`, licenseId: who.spec.id, sessionId: tab.conn.grant?.sessionId, tab: tab.n });
    }
    // Kept until the end: closing it would tell the server what the silence must not.
    this.silent.push({ close: async () => {
      tab.socket?.removeAllListeners();
      tab.socket?.disconnect();
      await proxy.close();
    } });
  }

  private later(ms: number, fn: () => void): void {
    this.track(sleep(ms).then(fn));
  }

  private track<T>(p: Promise<T>): void {
    const tracked = p.catch((err: unknown) => this.anomalies.push(`operation failed: ${err instanceof Error ? err.message : String(err)}`)).finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  /** Waits for the operations still under way (delayed reconnects, restores, REST calls). */
  async drain(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  /** Every tab closes; silent clients' sockets are torn down. */
  async closeAll(): Promise<void> {
    for (const tab of [...this.tabs]) tab.close();
    await this.leases.releaseAll();
    for (const s of this.silent.splice(0)) await s.close();
  }

  /** Every license back to its seats and active, so the final checks see a quiet system. */
  async restoreLicenses(): Promise<void> {
    for (const l of LICENSES) await this.rest('PATCH', `/licenses/${l.id}`, { seats: l.seats, status: 'active' });
  }

  /**
   * A REST call to a live node with the operator's token (or `token`). Answers of 5xx (the store
   * away) and failed fetches (a node just killed) are tried again for up to 20 s; `ok` lists other
   * statuses that are fine (404 for a kick that lost a race).
   */
  async rest(method: string, pathname: string, body?: unknown, ok: number[] = [], token = SOAK_ADMIN_TOKEN): Promise<any> {
    const until = Date.now() + 20_000;
    for (;;) {
      const url = this.pickNode();
      try {
        if (!url) throw new Error('no live node');
        const res = await fetch(`${url}/api/v1${pathname}`, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(8000),
        });
        const text = await res.text();
        if (res.ok || ok.includes(res.status)) return text ? JSON.parse(text) : undefined;
        if (res.status < 500) throw new Error(`${method} ${pathname} -> ${res.status} ${text}`);
      } catch (err) {
        if ((err as Error).message.includes(' -> ') || Date.now() > until) throw err;
      }
      await sleep(200);
    }
  }
}
