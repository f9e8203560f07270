// A loopback TCP proxy that can go silent, for a client whose network drops without a close.
// No test framework here: the cluster suites and the soak both use it.
import net from 'node:net';

export interface Blackhole {
  url: string;
  port: number;
  /** From now on nothing passes either way, and nothing is closed: a network gone silent. */
  drop(): void;
  /** Nothing passes either way for now, nothing is closed, and what is sent is kept (`pass`). */
  hold(): void;
  /** The network is back: what was kept is sent on, in order, and traffic flows again. */
  pass(): void;
  /** The other side is down: its connections are cut, and new ones are closed at once (`up`). */
  down(): void;
  /** The other side is back: new connections pass again. */
  up(): void;
  close(): Promise<void>;
}

/** A loopback TCP proxy to `target` that can go silent, like a client whose network drops. */
export async function blackholeProxy(target: number): Promise<Blackhole> {
  const pairs: Array<[net.Socket, net.Socket]> = [];
  let dropped = false;
  let held = false;
  let isDown = false;
  // Held traffic in order, by the socket it goes to; null: that socket is to close.
  const kept: Array<[net.Socket, Buffer | null]> = [];
  const server = net.createServer((client) => {
    if (isDown) {
      client.destroy();
      return;
    }
    const upstream = net.connect(target, '127.0.0.1');
    pairs.push([client, upstream]);
    const forward = (from: net.Socket, to: net.Socket) =>
      from.on('data', (d) => {
        if (held) kept.push([to, d]);
        else if (!dropped) to.write(d);
      });
    forward(client, upstream);
    forward(upstream, client);
    for (const s of [client, upstream]) s.on('error', () => {});
    const closeOther = (other: net.Socket) => {
      if (held) kept.push([other, null]);
      else if (!dropped) other.destroy();
    };
    client.on('close', () => closeOther(upstream));
    upstream.on('close', () => closeOther(client));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    drop: () => {
      dropped = true;
    },
    hold: () => {
      held = true;
    },
    pass: () => {
      held = false;
      for (const [to, d] of kept.splice(0)) if (d === null) to.destroy();
      else if (!to.destroyed) to.write(d);
    },
    down: () => {
      isDown = true;
      for (const [a, b] of pairs.splice(0)) {
        a.destroy();
        b.destroy();
      }
    },
    up: () => {
      isDown = false;
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
