// Holds a seat with an HTTP lease (no socket) and prints every change, one line each:
// `npm run lease -- <token> [url]`. It renews at half the license's leaseIntervalSec; Ctrl-C
// releases the lease, so the seat is free at once. It exits by itself once there is no seat to
// hold: 1 when the token is refused or the seat denied, 0 when the seat ended (kicked, suspended…).
// Renewals send the same token: sign it to outlive them (or pass `token: () => fetchToken()`).
import { inspect } from 'node:util';
import { SeatLease } from '../client/sdk';

const [token, url = 'http://localhost:3000'] = process.argv.slice(2);
if (!token) {
  process.stderr.write('usage: npm run lease -- <token> [url]\n');
  process.exit(2);
}

const line = (value: unknown) => inspect(value, { breakLength: Infinity, depth: 3 });
// releaseOnExit: Ctrl-C (SIGINT) or SIGTERM lets go of the lease before the process stops.
const lease = new SeatLease({ url, token, releaseOnExit: true });

lease.on('state', (state) => {
  const detail = state === 'granted' ? lease.grant : state === 'denied' ? lease.denial : state === 'ended' ? lease.ended : undefined;
  console.log(`state: ${state}${detail ? `  ${line(detail)}` : ''}`);
  if (state === 'denied') process.exit(1);
  if (state === 'ended') process.exit(0);
});
lease.on('renewed', (grant) => console.log(`renewed: until ${grant.renewBy}${grant.resumed ? ' (back after a lapse)' : ''}`));
lease.on('error', (e) => console.log(`error: ${e.code}${e.final ? '' : ' (retrying)'}  ${e.message}`));

try {
  await lease.acquire();
} catch {
  // Printed by the error listener: the token was refused, or the server did not answer.
  process.exit(1);
}
