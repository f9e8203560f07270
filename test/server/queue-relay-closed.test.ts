// A socket whose joining of a license's queue was on its way back from the store as the license
// was deleted (on SQLite both commit together, and the deletion's word can be told first) is told
// at its join: `session:ended` `license_deleted`, then let go, never left waiting for nothing
// (docs/contract.md, `DELETE /licenses/:id`: "and so does every socket waiting in its queue").
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { EndReason } from '../../shared';
import { createLogger } from '../../server/logger';
import { QueueRelay } from '../../server/realtime/queue-relay';
import { END_MESSAGE } from '../../server/seats/messages';
import type { License } from '../../server/seats/types';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** A socket.io server whose connections join license `lic_a`'s queue through the relay, at place 1 of 1. */
async function relayServer() {
  const http = createServer();
  const io = new Server(http);
  const nsp = io.of('/');
  const relay = new QueueRelay(
    nsp as never,
    { queue: { places: async () => [], waiting: async () => 0, watchLocal: () => {} }, grant: async () => {}, lost: async () => {}, nodeId: 'node-a' },
    createLogger('silent'),
    false,
  );
  nsp.on('connection', (socket) => {
    socket.data.licenseId = 'lic_a';
    relay.queued(socket as never, { position: 1, queueLength: 1 } as never);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => io.close(() => resolve())));
  return { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, relay };
}

/** What the client heard, in order, until the server let it go (or 2 s passed). */
function heard(client: ClientSocket): Promise<string[]> {
  const events: string[] = [];
  client.onAny((event: string, payload: unknown) => events.push(`${event} ${JSON.stringify(payload)}`));
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(events), 2000);
    client.on('disconnect', (reason) => {
      clearTimeout(timer);
      resolve([...events, `disconnect ${reason}`]);
    });
  });
}

describe('the queue relay and a deleted license', () => {
  it('a socket that joins the queue just after its license was deleted is told and let go, not left waiting', async () => {
    const { url, relay } = await relayServer();
    // The deletion's word comes first (the license's queue closes) ...
    relay.on({ type: 'queue.closed', license: { id: 'lic_a' } as License, reason: EndReason.LicenseDeleted, message: END_MESSAGE.license_deleted });
    // ... then the joining socket's admission lands.
    const client = connect(url, { transports: ['websocket'], forceNew: true, reconnection: false });
    closers.push(async () => void client.close());
    const events = await heard(client);
    expect(events).toEqual([`session:ended ${JSON.stringify({ reason: 'license_deleted', message: END_MESSAGE.license_deleted })}`, 'disconnect io server disconnect']);
  });

  it('another license\'s queue is not closed by it', async () => {
    const { url, relay } = await relayServer();
    relay.on({ type: 'queue.closed', license: { id: 'lic_b' } as License, reason: EndReason.LicenseDeleted, message: END_MESSAGE.license_deleted });
    const client = connect(url, { transports: ['websocket'], forceNew: true, reconnection: false });
    closers.push(async () => void client.close());
    const events = await heard(client);
    expect(events).toEqual([`seat:queued ${JSON.stringify({ position: 1, queueLength: 1 })}`]);
  });
});
