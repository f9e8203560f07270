// The seat server under test, started as `npm start` starts it (server/main.ts): the port opens
// first (server/early-port.ts), then the server loads (seat-node-main.ts) and takes it over.
import { listenEarly } from '../server/early-port';

const earlyPort = await listenEarly();
const portOpenMs = performance.now();
const { run } = await import('./seat-node-main');
await run(earlyPort, portOpenMs);
