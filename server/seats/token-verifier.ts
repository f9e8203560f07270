// Client tokens: HS256 JWTs signed with the license's secret (docs/contract.md section 3).
import { createDecoder, createVerifier, TokenError } from 'fast-jwt';
import { AuthErrorCode, TokenClaims } from '../../shared';
import { ACTIVATION_CLAIM_MESSAGE } from './decisions/activation';
import { missingClaimMessage, seatKeyValue } from './decisions/seat-key';
import { SeatError } from './seat-error';
import type { Claimant, License } from './types';

/** Verifies a token's signature and `exp` with one secret, and returns its payload. */
export type SecretVerifier = (token: string) => Record<string, unknown>;

/**
 * A verifier of one secret. fast-jwt verifies with node:crypto's HMAC, about ten times faster than
 * jose's WebCrypto path on every connect. One holds about 1 KiB (the secret's KeyObject and
 * fast-jwt's options), so it is kept no longer than the license it was made for (`TokenAuth`
 * keeps both a second), not one per secret for the life of the process.
 */
export function secretVerifier(secret: string): SecretVerifier {
  // `nbf` is checked in verifyToken with the clock-skew leeway; `exp` stays exact.
  return createVerifier({ key: secret, algorithms: ['HS256'], requiredClaims: ['exp'], ignoreNotBefore: true });
}

/**
 * Verifies with the license's secret, and, when that signature does not match, with the secret
 * it had before its last rotation while that one's grace lasts (`previousSecretUntil`), so a
 * portal still signing with the old secret keeps working until then.
 */
function verifyWithSecrets(token: string, license: License, nowMs: number, verifierOf: (secret: string) => SecretVerifier): Record<string, unknown> {
  try {
    return verifierOf(license.secret)(token);
  } catch (err) {
    const { previousSecret, previousSecretUntil } = license;
    const graceOpen = previousSecret && previousSecretUntil !== null && previousSecretUntil !== undefined && nowMs < previousSecretUntil;
    if (!graceOpen || (err as { code?: string }).code !== TokenError.codes.invalidSignature) throw err;
    return verifierOf(previousSecret)(token);
  }
}

export interface VerifiedToken {
  token: string;
  license: License;
  claims: TokenClaims;
  claimant: Claimant;
}

/**
 * Reads a token's payload unverified. fast-jwt's decoder decodes base64url through Buffer; jose's
 * `decodeJwt` (its web build) goes through `atob` and a byte loop, about 1.6 times the CPU on
 * every connect.
 */
const decodeUnverified = createDecoder() as (token: string) => Record<string, unknown>;

/** Longer tokens are refused before anything of them is read. */
export const MAX_TOKEN_LENGTH = 8192;

/** The token's license id, read before the signature can be checked (the secret is per license). */
export function licenseIdOf(token: unknown): string {
  if (typeof token === 'string' && token.length > MAX_TOKEN_LENGTH) {
    throw new SeatError(AuthErrorCode.InvalidToken, `the token is ${token.length} characters long; at most ${MAX_TOKEN_LENGTH} are read`);
  }
  if (typeof token !== 'string' || token.length === 0) {
    throw new SeatError(AuthErrorCode.InvalidToken, 'auth.token must be a JWT string');
  }
  let payload: Record<string, unknown>;
  try {
    payload = decodeUnverified(token);
  } catch (cause) {
    throw new SeatError(AuthErrorCode.InvalidToken, 'the token is not a well-formed JWT', { cause });
  }
  if (payload.lic === undefined) throw new SeatError(AuthErrorCode.MissingClaim, 'the token has no "lic" claim');
  if (typeof payload.lic !== 'string' || payload.lic.length === 0) {
    throw new SeatError(AuthErrorCode.InvalidToken, 'the "lic" claim must be a non-empty string');
  }
  return payload.lic;
}

/**
 * Checks the token's signature, expiry and claims against its license. `clockSkewSec` is the
 * leeway for the portal's clock: a token issued (`iat`) or valid from (`nbf`) later than that ahead
 * of this server's clock (`nowMs`) is refused. `exp` is checked by fast-jwt against the system clock.
 * `verifierOf` gives a secret's verifier: a fresh one unless the caller keeps them (`TokenAuth`).
 */
export async function verifyToken(
  token: string,
  license: License,
  clockSkewSec = 60,
  nowMs = Date.now(),
  verifierOf: (secret: string) => SecretVerifier = secretVerifier,
): Promise<VerifiedToken> {
  let payload: Record<string, unknown>;
  try {
    payload = verifyWithSecrets(token, license, nowMs, verifierOf);
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    if (code === TokenError.codes.expired) throw new SeatError(AuthErrorCode.TokenExpired, 'the token has expired', { cause });
    if (code === TokenError.codes.missingRequiredClaim) {
      throw new SeatError(AuthErrorCode.MissingClaim, (cause as Error).message.replace(/^The (\w+) claim is required\.$/, 'the token has no "$1" claim'), { cause });
    }
    // `exp` not a number of seconds (fast-jwt: "The exp claim must be a number.", "… a positive integer.").
    const claim = /^The (\w+) claim must be (.+)\.$/.exec((cause as Error).message ?? '');
    if ((code === TokenError.codes.invalidClaimValue || code === TokenError.codes.invalidClaimType) && claim) throw new SeatError(AuthErrorCode.InvalidToken, `the "${claim[1]}" claim is invalid: it must be ${claim[2]} of seconds`, { cause });
    const why = code === TokenError.codes.invalidAlgorithm ? 'only HS256 tokens are accepted' : 'the token signature or format is invalid';
    throw new SeatError(AuthErrorCode.InvalidToken, why, { cause });
  }

  const now = nowMs / 1000;
  for (const claim of ['iat', 'nbf'] as const) {
    const at = payload[claim];
    if (at === undefined) continue;
    if (typeof at !== 'number' || !Number.isFinite(at)) throw new SeatError(AuthErrorCode.InvalidToken, `the "${claim}" claim must be a number of seconds`);
    if (at > now + clockSkewSec) {
      const ahead = `${Math.round(at - now)} s ahead of the server's clock, leeway ${clockSkewSec} s`;
      throw new SeatError(
        AuthErrorCode.InvalidToken,
        claim === 'iat' ? `the token was issued in the future (iat ${ahead}); check the signing clock` : `the token is not valid yet (nbf ${ahead})`,
      );
    }
  }

  const parsed = TokenClaims.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const claim = String(issue.path[0] ?? '?');
    const missing = payload[claim] === undefined;
    throw new SeatError(
      missing ? AuthErrorCode.MissingClaim : AuthErrorCode.InvalidToken,
      missing ? `the token has no "${claim}" claim` : `the "${claim}" claim is invalid: ${issue.message}`,
    );
  }
  const claims = parsed.data;
  const claimant: Claimant = {
    sessionRef: claims.sid ?? null,
    userId: claims.sub ?? null,
    deviceId: claims.dev ?? null,
    instanceId: claims.ins ?? null,
    group: claims.grp ?? null,
    app: claims.app ?? null,
    name: claims.name ?? null,
    weight: claims.weight ?? 1,
  };
  // The admission's transaction applies the seat key the license has then; a token that lacks a
  // claim of the seat key it has now is refused here already.
  const key = seatKeyValue(license.seatKey, claimant);
  if ('missing' in key) throw new SeatError(AuthErrorCode.MissingClaim, missingClaimMessage(key));
  // A license that counts activations counts them by device (the transaction checks again).
  if (license.maxActivations !== null && claimant.deviceId === null) throw new SeatError(AuthErrorCode.MissingClaim, ACTIVATION_CLAIM_MESSAGE);
  return { token, license, claims, claimant };
}
