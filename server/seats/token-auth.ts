// Client token authentication: the license a token is verified against, read at most once a
// second per license, and read afresh while the store is in trouble.
import { AuthErrorCode, echoId } from '../../shared';
import type { SeatServerConfig } from '../config';
import { SeatError } from './seat-error';
import type { SeatStore } from './seat-store';
import { licenseIdOf, type SecretVerifier, secretVerifier, type VerifiedToken, verifyToken } from './token-verifier';
import type { License } from './types';

/** After a store failure, how long tokens are verified against fresh reads only. */
const STORE_TROUBLE_MS = 5000;

/** How long a license read for verifying tokens is used. */
const LICENSE_FOR_MS = 1000;

/** At most this many licenses are kept; past it they are all forgotten (a storm over more licenses than this in a second). */
const KEPT = 10_000;

/** An expired license is dropped up to this long after it expires, so one sweep drops a storm's worth together. */
const SWEEP_SLACK_MS = 100;

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

/** A license read for verifying tokens, with the verifiers of its secrets, made when first needed. */
class KeptLicense {
  private readonly verifiers = new Map<string, SecretVerifier>();
  constructor(
    readonly license: License,
    readonly until: number,
  ) {}

  readonly verifierOf = (secret: string): SecretVerifier => {
    let verify = this.verifiers.get(secret);
    if (!verify) this.verifiers.set(secret, (verify = secretVerifier(secret)));
    return verify;
  };
}

export class TokenAuth {
  /**
   * Licenses read for verifying tokens, by id, used a second (see `license`), in the order they
   * expire. An expired one is dropped (`sweep`): with thousands of licenses in use, each kept one
   * and its verifier would otherwise hold about 2 KiB until a connect on it read it again.
   */
  private readonly licenses = new Map<string, KeptLicense>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly deps: TokenAuthOptions) {}

  async authenticate(token: unknown): Promise<VerifiedToken> {
    const licenseId = licenseIdOf(token);
    const kept = await this.license(licenseId);
    return verifyToken(token as string, kept.license, this.deps.options.tokenClockSkewSec, this.deps.now(), kept.verifierOf);
  }

  /** A license changed here: the next token is verified against it as it is now. */
  forget(licenseId: string): void {
    this.licenses.delete(licenseId);
  }

  /** How many licenses are kept for verifying tokens. */
  get kept(): number {
    return this.licenses.size;
  }

  /** Drops the licenses whose second is over (a timer calls it; an expired one is never used again). */
  sweep(): void {
    const at = this.deps.now();
    for (const [id, kept] of this.licenses) {
      if (kept.until > at) break;
      this.licenses.delete(id);
    }
    this.scheduleSweep();
  }

  /** A timer for when the first kept license expires, while there is one; it keeps no process alive. */
  private scheduleSweep(): void {
    if (this.sweeper) return;
    const first = this.licenses.values().next().value;
    if (!first) return;
    this.sweeper = setTimeout(
      () => {
        this.sweeper = undefined;
        this.sweep();
      },
      Math.max(0, first.until - this.deps.now()) + SWEEP_SLACK_MS,
    );
    this.sweeper.unref();
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
  private async license(licenseId: string): Promise<KeptLicense> {
    const { store, trouble, now } = this.deps;
    const at = now();
    const hit = this.licenses.get(licenseId);
    // While the store is failing, a connect must fail in the handshake (`unavailable`) as it
    // would without the cache, not after it.
    if (hit && hit.until > at && !trouble.active) return hit;
    const license = await trouble.watch(store.getLicense(licenseId));
    // Deleted first, so the map stays in the order the licenses expire (set keeps a key's place).
    this.licenses.delete(licenseId);
    if (!license) throw new SeatError(AuthErrorCode.LicenseNotFound, `no license ${echoId(licenseId)}`);
    if (this.licenses.size >= KEPT) this.licenses.clear();
    const kept = new KeptLicense(license, at + LICENSE_FOR_MS);
    this.licenses.set(licenseId, kept);
    this.scheduleSweep();
    return kept;
  }
}
