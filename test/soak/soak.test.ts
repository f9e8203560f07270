// The soak (`npm run soak`): a short run passes, and its checker catches what it exists to catch.
import { spawn } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { Checker } from '../../soak/checker';
import { type Conn, Gaps, OpLog } from '../../soak/record';
import { sqliteTruth } from '../../soak/truth';
import { granted, sign, startServer, tempDir } from '../support/harness';
import { describeWith, postgresMissing, redisMissing } from '../support/services';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Runs `npm run soak` with `args` (the bundle is built by the suite's global setup). */
function soak(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'soak/run.ts', '--no-build', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

/** The report's lines, without the nodes' JSON logs. */
const reportOf = (out: string) => out.split('\n').filter((l) => !l.startsWith('{')).join('\n');

describeWith([postgresMissing(), redisMissing()])('npm run soak -- --quick', () => {
  it('passes: three nodes under kill -9, Redis and PostgreSQL restarts and silent clients, 0 violations', { timeout: 150_000 }, async () => {
    const seed = process.env.SOAK_SEED ?? String(Math.floor(Math.random() * 2 ** 31));
    // `npm test` runs this file alone, after the others (package.json): sharing the two cores with
    // another file's servers (or a browser), the soak's three nodes, PostgreSQL and Redis ran late,
    // a row outliving its socket by 6.8 s against 6.5 s allowed in one CI run, and a release 6.9 s
    // late against 6.4 s in another with 2 s of slack. Its times are still allowed 2 s more here
    // (a CI machine may be slower); `npm run soak` on a machine of its own keeps them as they are.
    const { code, out } = await soak(['--quick', '--seed', seed, '--slack-ms', '2000']);
    const report = reportOf(out);
    expect(report, report).toMatch(/^violations: 0$/m);
    expect(report).toMatch(/^faults: 5 /m);
    // Three webhooks heard the run (soak/webhooks.ts), each through failed and late answers.
    expect(report).toMatch(/^webhooks: one-at-a-time \(concurrency 1, batch size 1\) [1-9]\d* requests, concurrent \(concurrency 4, batch size 1\) [1-9]\d* requests, batched \(concurrency 3, batch size 10, then changed [1-9]\d* times\) [1-9]\d* requests; [1-9]\d* events each \([1-9]\d* license changes\); the receiver answered [1-9]\d* with a 503, closed \d+ unanswered and answered [1-9]\d* late, and was down (?:once|\d+ times); \d+ events came again; all delivered \d+\.\d s after the receiver stopped failing \([^)]*\); \d+ holes in the history's ids; the batched webhook's events answered \d+\.\d s after they happened at the median, \d+\.\d s at the 99th percentile, \d+\.\d s at most$/m);
    expect(code, report).toBe(0);
  });
});

describe('the soak checker', () => {
  it('reports over-allocation, a wrong counter, a seat with no socket, an idle release under a connected client and an unlogged denial', async () => {
    const file = path.join(tempDir('soak-checker-'), 'seats.db');
    const { url, api } = await startServer({ databaseUrl: file });
    const { license } = await api.setup({ id: 'checked', seats: 1, idleTimeoutSec: 2 });
    const { socket, grant } = await granted(url, await sign(license, { sid: 'portal-1' }));

    const conns: Conn[] = [
      {
        n: 0,
        tab: 1,
        licenseId: license.id,
        key: 'portal-1',
        claims: { sid: 'portal-1' },
        node: url,
        openedAt: Date.now() - 10_000,
        socketId: socket.id,
        grant: { at: Date.now() - 9000, sessionId: grant.sessionId, resumed: false },
      },
    ];
    const truth = sqliteTruth(file);
    const checker = new Checker({
      truth,
      log: new OpLog(),
      gaps: new Gaps(),
      conns: () => conns,
      denialsSeen: () => [{ at: Date.now() - 5000, licenseId: license.id, reason: 'no_free_seats', claims: { sid: 'portal-2' } }],
      idleMs: () => 2000,
      nodeTimeoutMs: 1500,
      pingMs: 2000,
      sweepMs: 200,
      activityFlushMs: 200,
      inactivityMs: () => null,
    });
    await checker.sample();
    await checker.history(true);
    // The real server keeps every invariant but the denial the test made up.
    expect(checker.violations.map((v) => v.check)).toEqual(['denial-not-logged']);

    // What a broken store could leave: a second session over the seats, a counter that disagrees,
    // an active session without a connection, and an idle release while the client is connected.
    const db = new Database(file);
    db.prepare(
      "insert into sessions (id, license_id, seat_key_value, weight, state, started_at) values ('intruder', ?, '[\"portal-9\"]', 1, 'active', ?)",
    ).run(license.id, Date.now());
    db.prepare("insert into seat_events (license_id, session_id, type, reason, weight, seats_in_use, at) values (?, ?, 'released', 'idle_timeout', 1, 0, ?)").run(
      license.id,
      grant.sessionId,
      Date.now() - 1000,
    );
    db.close();
    await checker.sample();
    await checker.history(true);
    expect(checker.violations.map((v) => v.check).sort()).toEqual(
      ['active-without-socket', 'denial-not-logged', 'released-while-connected', 'seats-exceeded', 'seats-in-use'].sort(),
    );
    await truth.close();
  });

  it('reports the policies broken: seats past the overage, a reservation eaten, a group over its limit, a lease row past its deadline, a queued socket with a row, an early inactivity release', async () => {
    const file = path.join(tempDir('soak-checker-'), 'seats.db');
    const { server, api } = await startServer({ databaseUrl: file });
    const { license: over } = await api.setup({ id: 'over', seats: 2, overage: 1.5 });
    const { license: grouped } = await api.setup({ id: 'grouped', seats: 3, reservations: [{ group: 'night', seats: 2 }], groupLimits: [{ group: 'contractors', max: 1 }] });
    const { license: quiet } = await api.setup({ id: 'quiet', seats: 3 });
    // Planted into a database no server runs on: nothing sweeps or reaps the planted rows first.
    await server.close();

    const now = Date.now();
    const db = new Database(file);
    const session = db.prepare("insert into sessions (id, license_id, seat_key_value, weight, state, started_at, grp) values (?, ?, ?, 1, 'active', ?, ?)");
    const row = db.prepare('insert into connections (socket_id, session_id, license_id, node_id, connected_at, renew_by) values (?, ?, ?, ?, ?, ?)');
    const plant = (id: string, licenseId: string, grp: string | null, renewBy: number | null = null) => {
      session.run(id, licenseId, `["${id}"]`, now - 5000, grp);
      row.run(`sock-${id}`, id, licenseId, renewBy === null ? 'node-x' : 'lease', now - 5000, renewBy);
    };
    // floor(2 × 1.5) = 3 seats, and four held.
    for (const id of ['o1', 'o2', 'o3', 'o4']) plant(id, over.id, null);
    // Two outsiders in a license of 3 seats with 2 reserved for "night"; two contractors of a limit of 1.
    plant('g1', grouped.id, null);
    plant('g2', grouped.id, 'contractors');
    plant('g3', grouped.id, 'contractors');
    // A lease 10 s past its renewBy, still holding its seat.
    plant('l1', quiet.id, null, now - 10_000);
    // A socket in the queue that holds a connection row too.
    db.prepare("insert into queue_entries (license_id, socket_id, node_id, seat_key_value, claimant, enqueued_at) values (?, 'sock-o1', 'node-x', '[\"o1\"]', '{}', ?)").run(over.id, now - 4000);
    // Released for inactivity 1 s after a tab of it sent activity, with a timeout of 3 s (the server
    // counts one a second, so that activity was counted no earlier than 2 s before the release).
    db.prepare("insert into seat_events (license_id, session_id, type, reason, weight, seats_in_use, at) values (?, 'q-gone', 'released', 'inactive', 1, 0, ?)").run(quiet.id, now - 6000);
    db.close();

    const conns: Conn[] = [
      ...['o1', 'o2', 'o3', 'o4', 'g1', 'g2', 'g3'].map((id, n) => ({
        n,
        tab: n + 1,
        licenseId: id.startsWith('o') ? over.id : grouped.id,
        key: id,
        claims: {},
        node: 'node-x',
        openedAt: now - 6000,
        socketId: `sock-${id}`,
        grant: { at: now - 5000, sessionId: id, resumed: false },
      })),
      {
        n: 7,
        tab: 8,
        licenseId: quiet.id,
        key: 'q',
        claims: {},
        node: 'node-x',
        openedAt: now - 12_000,
        socketId: 'sock-q',
        grant: { at: now - 11_900, sessionId: 'q-gone', resumed: false },
        activity: [now - 7000],
        end: { at: now - 5900, kind: 'ended', reason: 'inactive' },
      },
    ];
    const truth = sqliteTruth(file);
    const checker = new Checker({
      truth,
      log: new OpLog(),
      gaps: new Gaps(),
      conns: () => conns,
      denialsSeen: () => [],
      idleMs: () => 2000,
      nodeTimeoutMs: 1500,
      pingMs: 2000,
      sweepMs: 200,
      activityFlushMs: 200,
      inactivityMs: (id) => (id === quiet.id ? 3000 : null),
    });
    await checker.sample();
    await checker.history(true);
    await truth.close();
    const found = new Map(checker.violations.map((v) => [v.check, v.message]));
    expect([...found.keys()]).toEqual(expect.arrayContaining(['seats-exceeded', 'reservation-eaten', 'group-limit-exceeded', 'lease-overdue', 'queued-holds-row', 'inactive-early']));
    expect(found.get('seats-exceeded')).toContain('license over holds 4 seats of floor(2 seats × overage 1.5) = 3');
    expect(found.get('reservation-eaten')).toContain('"night" holds 0 of its 2 reserved');
    expect(found.get('group-limit-exceeded')).toContain('group "contractors" holds 2 seats of license grouped, its limit is 1');
    expect(found.get('lease-overdue')).toMatch(/lease row sock-l1 outlived its renewBy by \d+ ms/);
  });
});
