// Signs a client token for a license, as a portal would: `npm run sign -- <licenseId> <secret> [claims JSON]`.
import { SignJWT } from 'jose';

const [licenseId, secret, claimsJson = '{}'] = process.argv.slice(2);
if (!licenseId || !secret) {
  process.stderr.write('usage: npm run sign -- <licenseId> <secret> \'{"sid":"portal-1","sub":"alice"}\'\n');
  process.exit(2);
}
const claims = JSON.parse(claimsJson) as Record<string, unknown>;
const token = await new SignJWT({ lic: licenseId, ...claims })
  .setProtectedHeader({ alg: 'HS256' })
  .setExpirationTime('1h')
  .sign(new TextEncoder().encode(secret));
process.stdout.write(`${token}\n`);
