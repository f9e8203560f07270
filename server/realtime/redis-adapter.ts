// Across nodes, rooms (a session's sockets, a tenant's dashboards) span every node through Redis.
import { createAdapter } from '@socket.io/redis-adapter';
import { createClient } from 'redis';
import type { Server } from 'socket.io';
import type { Logger } from '../logger';

export async function attachRedisAdapter(io: Server<any, any, any, any>, url: string, log: Logger): Promise<() => Promise<void>> {
  const pub = createClient({ url, socket: { reconnectStrategy: (retries) => Math.min(retries * 100, 2000) } });
  const sub = pub.duplicate();
  // A Redis restart is reported here and retried by the client; it must not crash the node.
  pub.on('error', (err) => log.warn({ err }, 'redis publisher error'));
  sub.on('error', (err) => log.warn({ err }, 'redis subscriber error'));
  await Promise.all([pub.connect(), sub.connect()]);
  // The adapter publishes without awaiting: a publish that fails while Redis is away would be
  // an unhandled rejection, which ends a Node process. Log it instead; the node keeps serving.
  const publish = pub.publish.bind(pub);
  (pub as { publish: typeof publish }).publish = ((...args: Parameters<typeof publish>) =>
    publish(...args).catch((err: unknown) => {
      log.warn({ err }, 'redis publish failed');
      return 0;
    })) as typeof publish;
  io.adapter(createAdapter(pub, sub));
  for (const nsp of ['/', '/admin']) io.of(nsp).adapter.on('error', (err: unknown) => log.warn({ err }, 'redis adapter error'));
  return async () => {
    await Promise.allSettled([pub.quit(), sub.quit()]);
  };
}
