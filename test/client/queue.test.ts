// The SDK and the queue: with `queue: true` a client waits in the `queued` state with its place,
// moves up, and turns `granted` when a seat frees; holders hear how many wait.
import { describe, expect, it, onTestFinished } from 'vitest';
import { SeatClient } from '../../client/sdk';
import { sign, startServer, until } from '../support/harness';

function client(url: string, token: string, queue = false): SeatClient {
  const c = new SeatClient({ url, token, queue, socketOptions: { reconnectionDelay: 100, reconnectionDelayMax: 200 } });
  onTestFinished(() => c.close());
  return c;
}

describe('SeatClient queue', () => {
  it('waits with its place, moves up, and gets the seat the holder frees', async () => {
    const { url, api } = await startServer();
    const { license } = await api.setup({ seats: 1, queue: true });
    const holder = client(url, await sign(license, { sid: 'a' }));
    await until(() => holder.state === 'granted');
    const first = client(url, await sign(license, { sid: 'b' }), true);
    await until(() => first.state === 'queued');
    const second = client(url, await sign(license, { sid: 'c' }), true);
    await until(() => second.queue?.position === 2);
    await until(() => first.queue?.queueLength === 2 && holder.waiting === 2);
    await holder.endSession();
    await until(() => first.state === 'granted');
    expect(first.queue).toBeUndefined();
    await until(() => second.queue?.position === 1);
    expect(second.state).toBe('queued');
  });
});
