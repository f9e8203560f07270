// Signs a client token for a license, as a portal would:
// `npm run sign -- <licenseId> <secret> [claims JSON] [lifetime]`. The token expires after the
// lifetime (jose's time spans: `30m`, `8h`, `30d`; default `1h`), or at the claims' own `exp`.
import { SignJWT } from 'jose';

const [licenseId, secret, claimsJson = '{}', lifetime = '1h'] = process.argv.slice(2);
if (!licenseId || !secret) {
  process.stderr.write('usage: npm run sign -- <licenseId> <secret> \'{"sid":"portal-1","sub":"alice"}\' [lifetime, e.g. 8h]\n');
  process.exit(2);
}
const claims = JSON.parse(claimsJson) as Record<string, unknown>;
const exp = typeof claims.exp === 'number' ? claims.exp : lifetime;
const token = await new SignJWT({ lic: licenseId, ...claims })
  .setProtectedHeader({ alg: 'HS256' })
  .setExpirationTime(exp)
  .sign(new TextEncoder().encode(secret));
process.stdout.write(`${token}\n`);
