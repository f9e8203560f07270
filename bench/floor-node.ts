// The floor: a bare socket.io server with no seat logic, configured like the seat server's
// (websocket and polling, same payload limit), that answers every connect with one event and
// offers the same kick route, so both are driven by the same load code.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { serve } from './ipc';
import { processCalls } from './node-memory';

const port = Number(process.env.PORT ?? 0);
const httpServer = http.createServer((req, res) => {
  const m = req.method === 'DELETE' && req.url?.match(/^\/api\/v1\/sessions\/([^/?]+)$/);
  if (!m) {
    res.writeHead(404).end();
    return;
  }
  const socket = io.of('/').sockets.get(decodeURIComponent(m[1]!));
  if (!socket) {
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"not_found","message":"no session"}}');
    return;
  }
  socket.emit('session:ended', { reason: 'kicked', message: 'kicked' });
  setImmediate(() => socket.disconnect(true));
  res.writeHead(204).end();
});
const io = new Server(httpServer, { maxHttpBufferSize: 16_384, serveClient: false });
io.on('connection', (socket) => {
  socket.emit('seat:granted', { sessionId: socket.id, licenseId: 'floor', resumed: false, seatsInUse: 0, seats: 0, idleTimeoutSec: 0 });
});

await new Promise<void>((resolve) => httpServer.listen(port, resolve));
const bound = (httpServer.address() as AddressInfo).port;
serve({
  ...processCalls(),
  sockets: () => io.of('/').sockets.size,
  lateness: () => [],
  deadlines: () => null,
  stop: async () => {
    io.disconnectSockets(true);
    await new Promise<void>((resolve) => io.close(() => resolve()));
    setImmediate(() => process.exit(0));
  },
});
process.send!({ ready: true, port: bound, url: `http://localhost:${bound}` });
