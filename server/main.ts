// `npm start`: one node with the configuration from the environment (docs/contract.md section 7).
// Its port opens first, with nothing but node:net loaded (early-port.ts); the server loads after
// (start.ts, a chunk of its own in the bundle) and takes over the port and what came meanwhile.
import { listenEarly } from './early-port';

const earlyPort = await listenEarly();
try {
  const { start } = await import('./start');
  start(earlyPort);
} catch (err) {
  process.stderr.write(`the seat server could not load: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}
