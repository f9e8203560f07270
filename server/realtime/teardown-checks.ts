// A mass disconnect's tail, a turn for the idle deadlines.
//
// A timer fires only in the event loop's timers phase, and 10,000 sockets closing at once keep
// the loop out of it for seconds: libuv handles up to 48 × 1,024 ready sockets in one poll phase,
// then every closed handle's callback in one close phase, and each closing socket makes several
// such events (its close frame, its end read, its own end written, its close). The engine checks
// its deadlines after each seat move it publishes (deadlines.ts), so while the detaches go on,
// the seats that fell due are released; but past the last detach the rest of the teardown runs
// only Node's and ws's code, and seats that fell due then waited for its end: 0.4–0.9 s at p99
// in the bench's burst of 10,000 on a 2-core Xeon.
//
// So once a socket has left, each later stage of its connection's teardown checks the deadlines
// too (a comparison when nothing is due). A message from a worker thread timed to the deadline
// came no sooner: its file descriptor joins the back of the queue of ready sockets.
import type { Socket as TcpSocket } from 'node:net';
import type { Socket } from 'socket.io';

/**
 * Calls `check` when the connection under a socket that has left reads its end, finishes
 * writing and closes. WebSocket only: a long-polling request's connection may be a proxy's,
 * kept alive for other clients' requests.
 */
export function checkAtTeardown(socket: Pick<Socket, 'conn' | 'request'>, check: () => void): void {
  if (socket.conn?.transport?.name !== 'websocket') return;
  const tcp: TcpSocket | undefined = socket.request?.socket;
  // Watched once (a client may connect the namespace again over the same connection).
  if (!tcp || tcp.destroyed || tcp.listeners('close').includes(check)) return;
  tcp.on('end', check);
  tcp.on('finish', check);
  tcp.on('close', check);
}
