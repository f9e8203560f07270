// A loopback TCP proxy that can go silent, for a client whose network drops without a close.
// No test framework here: the cluster suites and the soak both use it.
import net from 'node:net';

export interface Blackhole {
  url: string;
  /** From now on nothing passes either way, and nothing is closed: a network gone silent. */
  drop(): void;
  close(): Promise<void>;
}

/** A loopback TCP proxy to `target` that can go silent, like a client whose network drops. */
export async function blackholeProxy(target: number): Promise<Blackhole> {
  const pairs: Array<[net.Socket, net.Socket]> = [];
  let dropped = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(target, '127.0.0.1');
    pairs.push([client, upstream]);
    const forward = (from: net.Socket, to: net.Socket) =>
      from.on('data', (d) => {
        if (!dropped) to.write(d);
      });
    forward(client, upstream);
    forward(upstream, client);
    for (const s of [client, upstream]) s.on('error', () => {});
    client.on('close', () => !dropped && upstream.destroy());
    upstream.on('close', () => !dropped && client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    drop: () => {
      dropped = true;
    },
    close: async () => {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
