// Holds a seat with the SDK and prints every change, one line each: `npm run client -- <token> [url]`.
// Ctrl-C closes it (the seat is then held for the idle timeout). It exits by itself once there is
// no seat to wait for: 1 when the token is refused or the seat denied, 0 when the session ended.
import { inspect } from 'node:util';
import { SeatClient } from '../client/sdk';

const [token, url = 'http://localhost:3000'] = process.argv.slice(2);
if (!token) {
  process.stderr.write('usage: npm run client -- <token> [url]\n');
  process.exit(2);
}

const line = (value: unknown) => inspect(value, { breakLength: Infinity, depth: 3 });
const client = new SeatClient({ url, token });
const exit = (code: number) => {
  stopPrinting();
  client.close();
  process.exit(code);
};

const stopPrinting = client.on('state', (state) => {
  // The admission's payload goes on the state's own line.
  const detail = state === 'granted' ? client.grant : state === 'denied' ? (client.denial ?? client.lastError) : state === 'ended' ? client.ended : undefined;
  console.log(`state: ${state}${detail ? `  ${line(detail)}` : ''}`);
  if (state === 'denied') exit(1);
  if (state === 'ended') exit(0);
});
client.on('error', (e) => {
  // A retryable refusal (an expired token, the server unavailable) is retried by the SDK; a final
  // one (invalid_token, license_not_found, …) moves the client to `denied` and ends this program.
  if ('reason' in e && !e.final) console.log(`error: ${e.reason} (retrying)  ${e.message}`);
  else if (!('reason' in e)) console.log(`error: ${e.code}  ${e.message}`);
});
process.on('SIGINT', () => exit(0));
