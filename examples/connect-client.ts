// Holds a seat with the SDK and prints every change: `npm run client -- <token> [url]`. Ctrl-C closes it.
import { SeatClient } from '../client/sdk';

const [token, url = 'http://localhost:3000'] = process.argv.slice(2);
if (!token) {
  process.stderr.write('usage: npm run client -- <token> [url]\n');
  process.exit(2);
}
const client = new SeatClient({ url, token });
client.on('state', (state) => console.log(`state: ${state}`));
client.on('granted', (g) => console.log('granted', g));
client.on('denied', (d) => console.log('denied', d));
client.on('ended', (e) => console.log('ended', e));
client.on('error', (e) => console.log('error', e));
process.on('SIGINT', () => {
  client.close();
  process.exit(0);
});
