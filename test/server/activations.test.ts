// Maximum activations per license (docs/contract.md section 8): `maxActivations` in the license
// body and views, a new device beyond it denied `too_many_activations`, the activations listed
// and deactivated over REST (the device's live sessions end with `deactivated`), each tenant its own.
import path from 'node:path';
import { io } from 'socket.io-client';
import { describe, expect, it, onTestFinished } from 'vitest';
import { closeSocket, connectAndAdmit, granted, nextEvent, sign, startProcess, startServer, tempDir, until } from '../support/harness';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('activations', () => {
  it('two machines, one at a time: a third is denied too_many_activations, the second waits for the seat, deactivating frees an activation', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1, seatKey: ['device'], maxActivations: 2 });
    expect(license.maxActivations).toBe(2);
    const machine = async (dev: string) => sign(license, { dev });

    const a = await granted(url, await machine('pc-1'));
    // The second machine while the first is connected: no free seat.
    const busy = await connectAndAdmit(url, await machine('pc-2'));
    expect(busy.result).toMatchObject({ kind: 'denied', payload: { reason: 'no_free_seats' } });
    expect(await a.socket.emitWithAck('session:end')).toEqual({ ok: true });
    const b = await granted(url, await machine('pc-2'));
    expect(await b.socket.emitWithAck('session:end')).toEqual({ ok: true });

    // A third machine: both activations are taken, though the seat is free.
    const third = await connectAndAdmit(url, await machine('pc-3'));
    expect(third.result).toMatchObject({ kind: 'denied', payload: { reason: 'too_many_activations', seatsInUse: 0, seats: 1 } });
    expect((third.result as any).payload.message).toMatch(/deactivate/);
    const { denials } = await admin.ok('GET', `/licenses/${license.id}/denials`);
    expect(denials.map((d: any) => [d.reason, d.deviceId])).toEqual([['too_many_activations', 'pc-3'], ['no_free_seats', 'pc-2']]);

    const { activations } = await admin.ok('GET', `/licenses/${license.id}/activations`);
    expect(activations.map((x: any) => x.deviceId)).toEqual(['pc-1', 'pc-2']);
    for (const x of activations) {
      expect(Object.keys(x).sort()).toEqual(['activatedAt', 'deviceId', 'lastSeenAt']);
      expect(x.activatedAt).toMatch(ISO);
      expect(x.lastSeenAt).toMatch(ISO);
    }

    // Deactivating frees an activation for the third machine.
    expect((await admin.call('DELETE', `/licenses/${license.id}/activations/pc-1`)).status).toBe(204);
    await granted(url, await machine('pc-3'));
    expect((await admin.ok('GET', `/licenses/${license.id}/activations`)).activations.map((x: any) => x.deviceId)).toEqual(['pc-2', 'pc-3']);
    // pc-1 is now the new device beyond the limit.
    expect((await connectAndAdmit(url, await machine('pc-1'))).result).toMatchObject({ kind: 'denied', payload: { reason: 'too_many_activations' } });
  });

  it('deactivating a device ends its live session on every socket with `deactivated`, frees the seat and is audited', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 2, seatKey: ['device'], maxActivations: 3 });
    const token = await sign(license, { dev: 'kiosk-7', app: 'pos' });
    const tabs = [await granted(url, token), await granted(url, token)];
    const other = await granted(url, await sign(license, { dev: 'kiosk-8' }));
    const watcher = io(`${url}/admin`, { auth: { token: admin.token }, transports: ['websocket'], forceNew: true });
    onTestFinished(() => void watcher.disconnect());
    const snapshot: any = await nextEvent(watcher, 'admin:snapshot');
    expect(snapshot.activations).toEqual({ [license.id]: 2 });
    expect(snapshot.licenses[0].maxActivations).toBe(3);

    const ended = tabs.map((t) => nextEvent(t.socket, 'session:ended'));
    const gone = tabs.map((t) => nextEvent(t.socket, 'disconnect'));
    expect((await admin.call('DELETE', `/licenses/${license.id}/activations/kiosk-7`)).status).toBe(204);
    for (const e of await Promise.all(ended)) expect(e).toEqual({ reason: 'deactivated', message: 'This device was deactivated for this license' });
    await Promise.all(gone);
    expect(other.socket.connected).toBe(true);
    const after = await admin.ok('GET', `/licenses/${license.id}`);
    expect(after.seatsInUse).toBe(1);
    expect((await admin.ok('GET', `/licenses/${license.id}/sessions`)).sessions.map((s: any) => s.deviceId)).toEqual(['kiosk-8']);
    const audit = (await admin.ok('GET', '/audit')).audit;
    expect(audit[0]).toMatchObject({ action: 'activation.deactivate', licenseId: license.id, detail: { deviceId: 'kiosk-7', endedSessions: 1 } });
    // Unknown device (and the one just deactivated): 404.
    for (const dev of ['kiosk-9', 'kiosk-7']) {
      const r = await admin.call('DELETE', `/licenses/${license.id}/activations/${dev}`);
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe('not_found');
    }
    expect((await admin.call('GET', `/licenses/nope/activations`)).status).toBe(404);
    // The device comes back as a new activation.
    const back = await granted(url, token);
    expect(back.grant.resumed).toBe(false);
    await closeSocket(back.socket);
  });

  it("a tenant never reads or deactivates another tenant's activations (403)", async () => {
    const { url, api } = await startServer();
    const a = await api.setup({ seats: 1, seatKey: ['device'], maxActivations: 1 });
    const b = await api.setup({ seats: 1 });
    const held = await granted(url, await sign(a.license, { dev: 'secret-device' }));
    for (const [method, p] of [
      ['GET', `/licenses/${a.license.id}/activations`],
      ['DELETE', `/licenses/${a.license.id}/activations/secret-device`],
      ['DELETE', `/licenses/${a.license.id}/activations/unknown`],
    ] as const) {
      const r = await b.admin.call(method, p);
      expect(r.status, `${method} ${p}`).toBe(403);
      expect(JSON.stringify(r.body)).not.toContain('secret-device"');
    }
    expect(held.socket.connected).toBe(true);
    expect((await a.admin.ok('GET', `/licenses/${a.license.id}/activations`)).activations.map((x: any) => x.deviceId)).toEqual(['secret-device']);
    // The operator sees and manages every tenant's.
    expect((await api.ok('GET', `/licenses/${a.license.id}/activations`)).activations).toHaveLength(1);
  });

  it('maxActivations: default null, set and cleared with PATCH, bad values refused naming the field and changing nothing', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 3 });
    expect(license.maxActivations).toBeNull();
    expect((await admin.ok('GET', `/licenses/${license.id}`)).maxActivations).toBeNull();
    for (const [value, status] of [[0, 422], [-1, 422], [1.5, 400], ['2', 400], [true, 400], [2_000_000, 422]] as const) {
      const created = await api.call('POST', '/licenses', { seats: 1, maxActivations: value });
      expect(created.status, `POST ${value}`).toBe(status);
      expect(created.body.error.message, `POST ${value}`).toContain('maxActivations');
      const patched = await admin.call('PATCH', `/licenses/${license.id}`, { maxActivations: value, seats: 1 });
      expect(patched.status, `PATCH ${value}`).toBe(status);
      expect(patched.body.error.message).toContain('maxActivations');
    }
    expect(await admin.ok('GET', `/licenses/${license.id}`)).toMatchObject({ seats: 3, maxActivations: null });
    expect((await admin.ok('PATCH', `/licenses/${license.id}`, { maxActivations: 1 })).maxActivations).toBe(1);
    expect((await admin.ok('GET', '/licenses')).licenses[0].maxActivations).toBe(1);
    // A license that counts activations needs the dev claim: refused in the handshake.
    const noDev = await connectAndAdmit(url, await sign(license, { sid: 'portal' }));
    expect(noDev.result).toMatchObject({ kind: 'connect_error', message: 'missing_claim', data: { reason: 'missing_claim' } });
    expect((noDev.result as any).data.message).toContain('activations');
    await granted(url, await sign(license, { sid: 'portal', dev: 'laptop' }));
    // Lowering below the activated count ends nobody; clearing it lets new devices in.
    expect((await admin.ok('PATCH', `/licenses/${license.id}`, { maxActivations: null })).maxActivations).toBeNull();
    await granted(url, await sign(license, { sid: 'portal-2' }));
  });

  it('activations survive a kill -9 and restart', async () => {
    const db = path.join(tempDir(), 'seats.db');
    const env = { DATABASE_URL: db, IDLE_TIMEOUT_MIN_SEC: '1', SWEEP_INTERVAL_MS: '200' };
    const first = await startProcess(env);
    const { license, admin } = await first.api.setup({ seats: 5, seatKey: ['device'], maxActivations: 1, idleTimeoutSec: 1 });
    const a = await granted(first.url, await sign(license, { dev: 'pc-1' }));
    a.socket.io.reconnection(false);
    await first.kill9();
    await until(() => !a.socket.connected);
    const second = await startProcess({ ...env, PORT: String(first.port) });
    const api2 = second.api.as(admin.token);
    expect((await api2.ok('GET', `/licenses/${license.id}/activations`)).activations.map((x: any) => x.deviceId)).toEqual(['pc-1']);
    expect((await connectAndAdmit(second.url, await sign(license, { dev: 'pc-2' }))).result).toMatchObject({
      kind: 'denied',
      payload: { reason: 'too_many_activations' },
    });
    // pc-1's seat is released after its idle timeout; its activation stays and it comes back.
    await until(async () => (await api2.ok('GET', `/licenses/${license.id}`)).seatsInUse === 0);
    expect((await granted(second.url, await sign(license, { dev: 'pc-1' }))).grant.resumed).toBe(false);
  });
  it("a queued device whose turn comes beyond maxActivations is denied too_many_activations (recorded), and the seat goes to the next in line", async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 1, seatKey: ['device'], maxActivations: 2, queue: true });
    const machine = async (dev: string) => sign(license, { dev });
    const waiter = (token: string) => {
      const socket = io(url, { auth: { token, queue: true }, transports: ['websocket'], reconnection: false, forceNew: true });
      onTestFinished(() => void socket.disconnect());
      return socket;
    };
    const a = await granted(url, await machine('pc-a'));
    // Both join while one device is activated: each fits the limit then.
    const b = waiter(await machine('pc-b'));
    expect(await nextEvent(b, 'seat:queued')).toEqual({ position: 1, queueLength: 1 });
    const c = waiter(await machine('pc-c'));
    expect(await nextEvent(c, 'seat:queued')).toEqual({ position: 2, queueLength: 2 });

    const bGranted = nextEvent(b, 'seat:granted');
    expect(await a.socket.emitWithAck('session:end')).toEqual({ ok: true });
    await bGranted;
    // pc-a, activated, waits behind pc-c.
    const again = waiter(await machine('pc-a'));
    expect(await nextEvent(again, 'seat:queued')).toEqual({ position: 2, queueLength: 2 });

    // pc-b lets go: pc-c's turn, but pc-a and pc-b hold both activations.
    const cHeard: string[] = [];
    c.onAny((event) => cHeard.push(event));
    const cDenied = nextEvent(c, 'seat:denied');
    const cGone = nextEvent(c, 'disconnect');
    const aGranted = nextEvent(again, 'seat:granted');
    expect(await b.emitWithAck('session:end')).toEqual({ ok: true });
    const denied = await cDenied;
    expect(denied).toMatchObject({ reason: 'too_many_activations', seatsInUse: 0, seats: 1 });
    expect(denied.message).toMatch(/deactivate/);
    expect(await cGone).toBe('io server disconnect');
    expect(cHeard).not.toContain('seat:granted');
    // The seat went on to the next in line.
    expect(await aGranted).toMatchObject({ resumed: false, seatsInUse: 1 });

    const { activations } = await admin.ok('GET', `/licenses/${license.id}/activations`);
    expect(activations.map((x: any) => x.deviceId).sort()).toEqual(['pc-a', 'pc-b']);
    const { denials } = await admin.ok('GET', `/licenses/${license.id}/denials`);
    expect(denials.map((d: any) => [d.reason, d.deviceId])).toEqual([['too_many_activations', 'pc-c']]);
    const { sessions } = await admin.ok('GET', `/licenses/${license.id}/sessions`);
    expect(sessions.map((s: any) => s.deviceId)).toEqual(['pc-a']);
  });

  it('a device id "." or ".." is deactivated with ?deviceId=, answered as the path form; the path form of ".." that a URL parser collapses deletes nothing', async () => {
    const { url, api } = await startServer();
    const { license, admin } = await api.setup({ seats: 3, seatKey: ['device'], maxActivations: 5 });
    const good = await granted(url, await sign(license, { dev: 'good-device' }));
    const dotdot = await granted(url, await sign(license, { dev: '..' }));
    await granted(url, await sign(license, { dev: '.' }));
    const devices = async () => (await admin.ok('GET', `/licenses/${license.id}/activations`)).activations.map((x: any) => x.deviceId);
    expect(await devices()).toEqual(['good-device', '..', '.']);

    // What the dashboard sent: fetch collapses `/activations/..` (and `%2e%2e`) to `/licenses/<id>/`,
    // which is no endpoint (a trailing slash is another path), so nothing goes.
    for (const dots of ['..', '%2e%2e', '%2E.']) {
      const target = `${url}/api/v1/licenses/${license.id}/activations/${dots}`;
      expect(new URL(target).pathname).toBe(`/api/v1/licenses/${license.id}/`);
      const r = await fetch(target, { method: 'DELETE', headers: { authorization: `Bearer ${admin.token}` } });
      expect(r.status).toBe(404);
      expect((await r.json()).error.code).toBe('not_found');
    }
    expect((await admin.call('GET', `/licenses/${license.id}`)).status).toBe(200);
    expect(good.socket.connected).toBe(true);
    expect(await devices()).toEqual(['good-device', '..', '.']);

    // The query form: 204, the device's session ends `deactivated`, the others stay.
    const ended = nextEvent(dotdot.socket, 'session:ended');
    expect((await admin.call('DELETE', `/licenses/${license.id}/activations?deviceId=..`)).status).toBe(204);
    expect(await ended).toMatchObject({ reason: 'deactivated' });
    expect((await admin.call('DELETE', `/licenses/${license.id}/activations?${new URLSearchParams({ deviceId: '.' })}`)).status).toBe(204);
    expect(await devices()).toEqual(['good-device']);
    expect(good.socket.connected).toBe(true);
    const audit = (await admin.ok('GET', '/audit')).audit;
    expect(audit.slice(0, 2).map((e: any) => [e.action, e.detail.deviceId])).toEqual([['activation.deactivate', '.'], ['activation.deactivate', '..']]);

    // As the path form answers: an unknown device 404, another tenant 403, an unknown license 404.
    const unknown = await admin.call('DELETE', `/licenses/${license.id}/activations?deviceId=..`);
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'not_found']);
    const other = await api.setup({ seats: 1 });
    expect((await other.admin.call('DELETE', `/licenses/${license.id}/activations?deviceId=good-device`)).status).toBe(403);
    expect((await admin.call('DELETE', `/licenses/nope/activations?deviceId=good-device`)).status).toBe(404);
    // No device named, an empty one, or two: 400 naming deviceId; nothing changes.
    for (const query of ['', '?deviceId=', '?deviceId=a&deviceId=b']) {
      const r = await admin.call('DELETE', `/licenses/${license.id}/activations${query}`);
      expect([r.status, r.body.error.code], query).toEqual([400, 'bad_request']);
      expect(r.body.error.message).toContain('deviceId');
    }
    expect(await devices()).toEqual(['good-device']);
    expect(good.socket.connected).toBe(true);
  });

  it('a trailing slash is another path: DELETE, PATCH and GET of /licenses/<id>/ are 404 not_found and change nothing', async () => {
    const { api } = await startServer();
    const { license, admin } = await api.setup({ seats: 2 });
    for (const [method, body] of [['DELETE'], ['PATCH', { seats: 9 }], ['GET']] as const) {
      const r = await admin.call(method, `/licenses/${license.id}/`, body);
      expect([r.status, r.body.error.code], method).toEqual([404, 'not_found']);
    }
    for (const p of ['/licenses/', `/licenses/${license.id}/activations/`, '/leases/', '/receipt-keys/']) {
      expect((await api.call('GET', p)).status, p).toBe(404);
    }
    expect(await admin.ok('GET', `/licenses/${license.id}`)).toMatchObject({ id: license.id, seats: 2 });
  });
});
