// Signs a client token for a license, as a portal would:
// `npm run sign -- <licenseId> <secret> [claims JSON] [lifetime]`. The token expires after the
// lifetime (jose's time spans: `30m`, `8h`, `30d`; default `1h`), or at the claims' own `exp`.
import { SignJWT } from 'jose';

const USAGE = 'usage: npm run sign -- <licenseId> <secret> \'{"sid":"portal-1","sub":"alice"}\' [lifetime, e.g. 8h]\n';
const [licenseId, secret, claimsJson = '{}', lifetime = '1h'] = process.argv.slice(2);
if (!licenseId || !secret) {
  process.stderr.write(USAGE);
  process.exit(2);
}
/** Says what is wrong with an argument on one line, with the usage, instead of a stack trace. */
function refuse(problem: string): never {
  process.stderr.write(`${problem}\n${USAGE}`);
  process.exit(2);
}

let claims: unknown;
try {
  claims = JSON.parse(claimsJson);
} catch {
  refuse(`the claims are not JSON: ${claimsJson}`);
}
// An array or a string would be spread into claims named 0, 1, …
if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) refuse(`the claims must be a JSON object, such as '{"sid":"portal-1"}': ${claimsJson}`);
const exp = 'exp' in claims && typeof claims.exp === 'number' ? claims.exp : lifetime;
const jwt = new SignJWT({ lic: licenseId, ...claims }).setProtectedHeader({ alg: 'HS256' });
try {
  jwt.setExpirationTime(exp);
} catch {
  refuse(`the lifetime is not a time span such as 30m, 8h or 30d: ${lifetime}`);
}
const token = await jwt.sign(new TextEncoder().encode(secret));
process.stdout.write(`${token}\n`);
