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
    const { code, out } = await soak(['--quick', '--seed', seed]);
    const report = reportOf(out);
    expect(report, report).toMatch(/^violations: 0$/m);
    expect(report).toMatch(/^faults: 5 /m);
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
});
