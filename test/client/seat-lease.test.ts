// The SDK's SeatLease against a real server: acquire, renewals at half the interval, the end
// reason after a kick, release, denial, fresh tokens, and `npm run lease` let go on Ctrl-C.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { LeaseState, SeatLease, type SeatLeaseOptions } from '../../client/sdk';
import type { SessionPayload } from '../../server/seats/hooks';
import { sign, sleep, startServer, until } from '../support/harness';
import { shortLeases } from '../server/leases-support';

function lease(opts: SeatLeaseOptions): SeatLease {
  const l = new SeatLease(opts);
  onTestFinished(() => l.release().catch(() => {}));
  return l;
}

/** A lease granted on a one-seat license (one-second lease interval), with what it says when it ends or fails. */
async function heldLease() {
  const { url, api, server } = await startServer();
  const { license, admin } = await api.setup({ seats: 1, seatKey: ['device'] });
  await shortLeases(server, license.id, 1);
  const l = lease({ url, token: await sign(license, { dev: 'till-1' }) });
  const ended = new Promise((resolve) => l.on('ended', resolve));
  const errors: Array<{ code: string; final?: boolean }> = [];
  l.on('error', (e) => errors.push(e));
  const grant = await l.acquire();
  return { l, ended, errors, grant, license, admin };
}

describe('SeatLease', () => {
  it('acquires, renews by itself at half the interval so the seat never idles, and releases at once', async () => {
    const idle: SessionPayload[] = [];
    const { url, api, server } = await startServer({ hooks: { onSessionIdle: (p) => void idle.push(p) } });
    const { license, admin } = await api.setup({ seats: 1, seatKey: ['device'] });
    await shortLeases(server, license.id, 1);
    const l = lease({ url, token: await sign(license, { dev: 'till-1' }) });
    const states: LeaseState[] = [];
    l.on('state', (s) => states.push(s));
    const renewals: string[] = [];
    l.on('renewed', (g) => renewals.push(g.renewBy));

    const grant = await l.acquire();
    expect(grant).toMatchObject({ resumed: false, seatsInUse: 1, seats: 1, leaseIntervalSec: 1 });
    expect(l.state).toBe('granted');
    // Three lease intervals: without its renewals it would have lapsed and idled twice over.
    await sleep(3000);
    expect(renewals.length).toBeGreaterThanOrEqual(4);
    expect(idle).toEqual([]);
    expect((await admin.ok('GET', `/licenses/${license.id}/sessions`)).sessions).toMatchObject([{ id: grant!.sessionId, state: 'active', leases: 1 }]);

    await l.release();
    expect(l.state).toBe('released');
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(0);
    expect(states).toEqual(['acquiring', 'granted', 'released']);
    // Nothing renews after a release.
    const after = renewals.length;
    await sleep(700);
    expect(renewals.length).toBe(after);
  });

  it('reports the end reason on the renewal after a kick, and stops renewing', async () => {
    const { l, ended, grant, admin } = await heldLease();
    await admin.ok('DELETE', `/sessions/${grant!.sessionId}`);
    expect(await ended).toEqual({ reason: 'kicked', message: 'Your session was ended by an administrator' });
    expect(l.state).toBe('ended');
    expect(l.ended?.reason).toBe('kicked');
  });

  it("ends with license_deleted on the renewal after its license was deleted, and stops renewing", async () => {
    const { l, ended, errors, license, admin } = await heldLease();
    await admin.ok('DELETE', `/licenses/${license.id}`);
    expect(await ended).toEqual({ reason: 'license_deleted', message: 'This license was deleted' });
    expect(l.state).toBe('ended');
    expect(errors).toMatchObject([{ code: 'license_not_found', final: true }]);
    const after = errors.length;
    await sleep(1200);
    expect(errors.length).toBe(after);
  });

  it('a denial resolves undefined with the reason; a fresh token is fetched for every request', async () => {
    const { url, api, server } = await startServer();
    const { license } = await api.setup({ seats: 1, seatKey: ['device'], deniedMessage: 'All tills are in use' });
    await shortLeases(server, license.id, 1);
    let calls = 0;
    // The first renewal gets an expired token: an error to retry, not an end.
    const token = async () => (++calls === 2 ? sign(license, { dev: 'till-1' }, { exp: Math.floor(Date.now() / 1000) - 5 }) : sign(license, { dev: 'till-1' }));
    const holder = lease({ url, token, retryMs: 100 });
    const errors: string[] = [];
    holder.on('error', (e) => errors.push(`${e.code}:${e.final}`));
    await holder.acquire();
    await until(() => calls >= 4, 3000);
    expect(errors).toEqual(['token_expired:false']);
    expect(holder.state).toBe('granted');

    const other = lease({ url, token: await sign(license, { dev: 'till-2' }) });
    const denied = new Promise((resolve) => other.on('denied', resolve));
    expect(await other.acquire()).toBeUndefined();
    expect(await denied).toEqual({ reason: 'no_free_seats', message: 'All tills are in use', seatsInUse: 1, seats: 1 });
    expect(other.state).toBe('denied');

    const refused = lease({ url, token: 'not-a-jwt' });
    await expect(refused.acquire()).rejects.toMatchObject({ code: 'invalid_token', status: 401 });
  });

  it('npm run lease holds a seat and lets it go on Ctrl-C (releaseOnExit)', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1, seatKey: ['device'], idleTimeoutSec: 300 });
    const root = path.resolve(import.meta.dirname, '../..');
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/lease-client.ts', await sign(license, { dev: 'till-1' }), url], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    onTestFinished(() => void child.kill('SIGKILL'));
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
    await until(() => out.includes('state: granted'), 20_000);
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(1);
    child.kill('SIGINT');
    expect(await exited).toBe('SIGINT');
    expect(out).toContain('state: released');
    // Free at once, not after the 300 s idle hold.
    expect((await admin.ok('GET', `/licenses/${license.id}`)).seatsInUse).toBe(0);
  }, 40_000);
});
