// Client token authentication: the license a token is verified against, read at most once a
// second per license, and read afresh while the store is in trouble.
import { AuthErrorCode, echoId } from '../../shared';
import type { SeatServerConfig } from '../config';
import { SeatError } from './seat-error';
import type { SeatStore } from './seat-store';
import { licenseIdOf, type VerifiedToken, verifyToken } from './token-verifier';
import type { License } from './types';

/** After a store failure, how long tokens are verified against fresh reads only. */
const STORE_TROUBLE_MS = 5000;

/** Notes when the store fails, so a cache can stop answering for it a while (see `TokenAuth`). */
export class StoreTrouble {
  private until = 0;
  constructor(private readonly now: () => number) {}

  /** Passes `op` through, noting a failure. */
  async watch<T>(op: Promise<T>): Promise<T> {
    try {
      return await op;
    } catch (err) {
      this.until = this.now() + STORE_TROUBLE_MS;
      throw err;
    }
  }

  get active(): boolean {
    return this.now() < this.until;
  }
}

export interface TokenAuthOptions {
  store: Pick<SeatStore, 'getLicense'>;
  options: Pick<SeatServerConfig, 'tokenClockSkewSec'>;
  trouble: StoreTrouble;
  now: () => number;
}

export class TokenAuth {
  /** Licenses read for verifying tokens, by id, kept a second (see `license`). */
  private readonly licenses = new Map<string, { license: License; until: number }>();

  constructor(private readonly deps: TokenAuthOptions) {}

  async authenticate(token: unknown): Promise<VerifiedToken> {
    const licenseId = licenseIdOf(token);
    return this.verify(token as string, await this.license(licenseId));
  }

  /** A license changed here: the next token is verified against it as it is now. */
  forget(licenseId: string): void {
    this.licenses.delete(licenseId);
  }

  private verify(token: string, license: License): Promise<VerifiedToken> {
    return verifyToken(token, license, this.deps.options.tokenClockSkewSec, this.deps.now());
  }

  /**
   * The license tokens are verified against, read at most once a second per license: a storm of
   * connects needs one read, not one each. A change made on this node (a secret rotated, the
   * license deleted) is forgotten at once (`forget`); one made on another node is seen within
   * the second. Its seat key may change, and the
   * admission's transaction applies the seat key of the license as it reads it then (a token
   * checked against the one before may still be refused there with `missing_claim`). Everything
   * else the transaction reads afresh.
   */
  private async license(licenseId: string): Promise<License> {
    const { store, trouble, now } = this.deps;
    const at = now();
    const hit = this.licenses.get(licenseId);
    // While the store is failing, a connect must fail in the handshake (`unavailable`) as it
    // would without the cache, not after it.
    if (hit && hit.until > at && !trouble.active) return hit.license;
    const license = await trouble.watch(store.getLicense(licenseId));
    if (!license) {
      this.licenses.delete(licenseId);
      throw new SeatError(AuthErrorCode.LicenseNotFound, `no license ${echoId(licenseId)}`);
    }
    if (this.licenses.size >= 10_000) this.licenses.clear();
    this.licenses.set(licenseId, { license, until: at + 1000 });
    return license;
  }
}
