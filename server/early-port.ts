// The port opens before the server has loaded. A restarted node spends most of its way back
// loading its code (0.5 s idle, 0.6–1.9 s on a 2-core machine under a reconnect storm: README,
// Performance), and a closed port refuses every client that tries meanwhile into its reconnect
// backoff (1, 2, 4, 5 s): the storm then ends seconds after the node is ready. So `npm start` (and
// the bench's server) listen first, with nothing but node:net loaded, and take each connection
// paused, unread; once the server has loaded, `SeatServer.listen` takes over the port and the
// connections held, whose requests are then read as if they had just arrived. Meanwhile a client
// waits (its connect has its own timeout, 20 s in socket.io-client), as it does at the starting
// gate while the node starts (seat-server.ts).
import net from 'node:net';

/**
 * Connections the kernel queues for the server to accept. Node's default, 511, overflows in a
 * reconnect storm while the event loop admits: the clients whose handshakes were dropped resend
 * them after one, then three seconds. The kernel caps it at `net.core.somaxconn` (4096 on Linux
 * since 5.4).
 */
export const LISTEN_BACKLOG = 4096;

export interface EarlyPort {
  /** Listening on PORT and HOST; `SeatServer.listen` takes its handle. */
  readonly server: net.Server;
  /** Hands the connections taken so far (paused, unread) to `to`, and takes no more. */
  handOver(to: (socket: net.Socket) => void): void;
}

/**
 * Listens on PORT and HOST as the configuration reads them (section 7), holding each connection
 * paused. Answers undefined, holding nothing, where PORT is set but not a plain port number (the
 * configuration then reads it, or says what is wrong with it; an empty PORT is unset, 3000) or the
 * port cannot be had (the server's own listen then fails with the error, as without this).
 */
export async function listenEarly(env: Record<string, string | undefined> = process.env): Promise<EarlyPort | undefined> {
  // Empty is unset, as the configuration reads it.
  const given = env.PORT?.trim() || undefined;
  const port = given === undefined ? 3000 : /^\d{1,5}$/.test(given) ? Number(given) : NaN;
  if (!Number.isInteger(port) || port > 65_535) return undefined;
  const held: net.Socket[] = [];
  const server = net.createServer({ pauseOnConnect: true }, (socket) => held.push(socket));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host: env.HOST?.trim() || undefined, backlog: LISTEN_BACKLOG }, () => resolve());
    });
  } catch {
    server.close();
    return undefined;
  }
  return {
    server,
    handOver(to) {
      server.removeAllListeners('connection');
      for (const socket of held.splice(0)) to(socket);
    },
  };
}
