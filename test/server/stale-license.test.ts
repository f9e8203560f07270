// A node keeps a license it read for checking tokens a second (token-auth.ts). A license deleted,
// or its seat key changed, on another node within that second: a socket that passed the handshake
// on this node's copy is refused by the admission's transaction, and told so (`seat:error` with the
// handshake's code), not `unavailable`; the SDK takes it as the handshake's refusal.
import path from 'node:path';
import { io } from 'socket.io-client';
import { describe, expect, it, onTestFinished } from 'vitest';
import { SeatClient } from '../../client/sdk';
import { SqliteSeatStore } from '../../server/store/sqlite-store';
import { type AppSocket, granted, nextEvent, sign, startServer, tempDir, until } from '../support/harness';

function raw(url: string, token: string): AppSocket {
  const socket: AppSocket = io(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  onTestFinished(() => void socket.disconnect());
  return socket;
}

async function twoNodes() {
  const file = path.join(tempDir(), 'seats.db');
  const { url, api } = await startServer({ store: SqliteSeatStore.open(file) });
  // "Another node": a second connection to the same database, whose changes this server does not hear of.
  const other = SqliteSeatStore.open(file);
  onTestFinished(() => other.close());
  return { url, api, other };
}

describe('a license changed on another node within the second this node keeps it', () => {
  it('deleted: a connect is told license_not_found after its handshake, and holds nothing', async () => {
    const { url, api, other } = await twoNodes();
    const { license, admin } = await api.setup({ seats: 2 });
    await granted(url, await sign(license, { sid: 'first' }));
    expect(await other.deleteLicense(license.id, Date.now())).toBeDefined();
    const late = raw(url, await sign(license, { sid: 'late' }));
    const error = nextEvent(late, 'seat:error');
    const gone = nextEvent(late, 'disconnect');
    expect(await error).toEqual({ code: 'license_not_found', message: `no license "${license.id}"` });
    await gone;
    expect((await admin.call('GET', `/licenses/${license.id}`)).status).toBe(404);
  });

  it('its seat key changed: a token without the claim is told missing_claim; the SDK stops at denied as for the handshake', async () => {
    const { url, api, other } = await twoNodes();
    const { license, admin } = await api.setup({ seats: 2, seatKey: ['session'] });
    const first = await granted(url, await sign(license, { sid: 'first', dev: 'd1' }));
    // Ended, so the seat key may change (on the other node, which this one does not hear).
    await other.endSession(first.grant.sessionId, 'ended_by_app', Date.now());
    await other.updateLicense(license.id, { seatKey: ['device'] }, Date.now());
    const late = raw(url, await sign(license, { sid: 'late' }));
    expect(await nextEvent(late, 'seat:error')).toMatchObject({ code: 'missing_claim', message: expect.stringContaining('dev') });

    const client = new SeatClient({ url, token: await sign(license, { sid: 'sdk' }), socketOptions: { reconnectionDelay: 100, reconnectionDelayMax: 200 } });
    onTestFinished(() => client.close());
    await until(() => client.state === 'denied');
    expect(client.lastError).toMatchObject({ reason: 'missing_claim' });
    // Denied for good: it does not come back as a retry would.
    await new Promise((r) => setTimeout(r, 1500));
    expect(client.state).toBe('denied');
    expect((await admin.ok('GET', `/licenses/${license.id}/sessions`)).sessions).toEqual([]);
  });
});
