// Signed seat receipts (docs/contract.md "Offline grace and signed receipts"): compact JWS with
// EdDSA (Ed25519) that an app checks against GET /.well-known/jwks.json with no server, so it
// keeps working offline until the receipt's `exp`. The signing keys live in the database, so a
// restart (a kill -9 too) signs with the same key and every node signs with the same one.
//
// Keys are the settings `receipt-key:1`, `receipt-key:2`, … (a private JWK each), written with
// putSettingIfAbsent: nodes starting together agree on key 1, and a rotation takes the next free
// number, so two rotations at once each add a key and none overwrites another. The highest number
// signs; every key stays published (receipts live at most 30 days, keys are few and small).
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import { ErrorCode, type SeatGrantedPayload } from '../../shared';
import type { Actor } from './actor';
import type { Administration } from './administration';
import { SeatError } from './seat-error';
import type { ReceiptHold, SeatStore } from './seat-store';
import type { ClaimantIds, License, Session } from './types';

const SETTING = (n: number) => `receipt-key:${n}`;
/** How often a node looks for a key another node rotated in (the JWKS route also looks at once). */
export const KEY_REFRESH_MS = 5_000;

/** A public key as the JWKS publishes it. */
export interface PublicJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid: string;
  alg: 'EdDSA';
  use: 'sig';
}

interface StoredKey {
  kid: string;
  createdAt: number;
  /** The private JWK (kty, crv, x, d). */
  jwk: JWK;
}

interface SigningKey {
  kid: string;
  createdAt: number;
  key: CryptoKey;
  public: PublicJwk;
}

export interface ReceiptsDeps {
  store: Pick<SeatStore, 'getSetting' | 'putSettingIfAbsent' | 'extendReceipt'>;
  admin: Pick<Administration, 'audit'>;
  now: () => number;
  onError: (source: string, err: unknown) => void;
  refreshMs?: number;
}

/** A receipt's times in JWT seconds: never later than the hold on record (`receiptUntil`). */
export function receiptTimes(receiptUntil: number, graceSec: number, now: number): { iat: number; exp: number } {
  const exp = Math.floor(receiptUntil / 1000);
  // exp = iat + grace when the hold is this grant's own; a later hold (an earlier receipt's,
  // from a larger grace since lowered) keeps its exp and the receipt is issued now.
  return { iat: Math.min(Math.floor(now / 1000), exp - graceSec), exp };
}

export class Receipts {
  /** Oldest first; the last one signs. */
  private keys: SigningKey[] = [];
  private refreshing?: NodeJS.Timeout;
  private loading?: Promise<void>;

  constructor(private readonly deps: ReceiptsDeps) {}

  /** Loads the keys, generating the first one on the first start of a database. */
  async start(): Promise<void> {
    await this.refresh();
    if (this.keys.length === 0) {
      await this.deps.store.putSettingIfAbsent(SETTING(1), JSON.stringify(await newKey(this.deps.now())));
      await this.refresh();
    }
    this.refreshing = setInterval(() => void this.refresh().catch((err) => this.deps.onError('receipt-keys', err)), this.deps.refreshMs ?? KEY_REFRESH_MS);
    this.refreshing.unref();
  }

  stop(): void {
    clearInterval(this.refreshing);
  }

  /** Reads keys added since the last look (by a rotation here or on another node). */
  refresh(): Promise<void> {
    // One look at a time: concurrent callers share it.
    this.loading ??= (async () => {
      try {
        for (let n = this.keys.length + 1; ; n++) {
          const value = await this.deps.store.getSetting(SETTING(n));
          if (value === undefined) break;
          this.keys.push(await toSigningKey(JSON.parse(value) as StoredKey));
        }
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  /** Every public key, oldest first: receipts signed with any of them still verify. */
  jwks(): { keys: PublicJwk[] } {
    return { keys: this.keys.map((k) => k.public) };
  }

  /** The keys with their age, and which one signs (the operator's listing). */
  listKeys(): Array<{ kid: string; createdAt: number; current: boolean }> {
    return this.keys.map((k, i) => ({ kid: k.kid, createdAt: k.createdAt, current: i === this.keys.length - 1 }));
  }

  /**
   * The operator adds a new signing key: it signs from now on (on other nodes within
   * KEY_REFRESH_MS), and the old ones stay published so receipts already issued verify.
   */
  async rotate(actor: Actor): Promise<{ kid: string }> {
    if (actor.kind !== 'operator') throw new SeatError(ErrorCode.Forbidden, "only the operator rotates the server's receipt keys");
    const stored = await newKey(this.deps.now());
    const value = JSON.stringify(stored);
    await this.refresh();
    // Another node may take the next number first: then ours goes after it.
    for (let n = this.keys.length + 1; ; n++) {
      if ((await this.deps.store.putSettingIfAbsent(SETTING(n), value)) === value) break;
    }
    await this.refresh();
    await this.deps.admin.audit(actor, null, 'receipt-key.rotate', { kid: stored.kid }, null);
    return { kid: stored.kid };
  }

  /** The grant as it goes to the socket: with a receipt for the hold the admission recorded. */
  async granted(result: { granted: SeatGrantedPayload; session: Session; license: License }): Promise<SeatGrantedPayload> {
    const receipt = await this.forSession(result.session, result.license);
    return receipt === undefined ? result.granted : { ...result.granted, receipt };
  }

  /**
   * A receipt for the hold a grant, a resume or a lease's renewal has just recorded in the
   * session (`receiptUntil`); undefined when the license has no grace. Never throws: the seat is
   * held in the store either way, and the next renewal brings a receipt.
   */
  async forSession(session: Session, license: License): Promise<string | undefined> {
    if (license.offlineGraceSec <= 0 || session.receiptUntil === null) return undefined;
    try {
      return await this.sign(session.id, session.licenseId, session, session.receiptUntil, license.offlineGraceSec);
    } catch (err) {
      this.deps.onError('receipt', err);
      return undefined;
    }
  }

  /**
   * A fresh receipt for a live session: the hold moves on in the store first, then it is signed
   * for that hold. Undefined when the session is gone or idle, or its license has no grace now.
   */
  async renew(sessionId: string): Promise<{ receipt: string; hold: ReceiptHold } | undefined> {
    const hold = await this.deps.store.extendReceipt(sessionId, this.deps.now());
    if (!hold) return undefined;
    return { receipt: await this.sign(hold.sessionId, hold.licenseId, hold, hold.receiptUntil, hold.offlineGraceSec), hold };
  }

  private async sign(sessionId: string, licenseId: string, ids: ClaimantIds, receiptUntil: number, graceSec: number): Promise<string> {
    const key = this.keys.at(-1);
    if (!key) throw new Error('no receipt signing key loaded');
    const { iat, exp } = receiptTimes(receiptUntil, graceSec, this.deps.now());
    const claims: Record<string, string> = { lic: licenseId, sid: sessionId };
    if (ids.userId !== null) claims.sub = ids.userId;
    if (ids.deviceId !== null) claims.dev = ids.deviceId;
    if (ids.instanceId !== null) claims.ins = ids.instanceId;
    return new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'seat-receipt+jwt' }).setIssuedAt(iat).setExpirationTime(exp).sign(key.key);
  }
}

async function newKey(now: number): Promise<StoredKey> {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const jwk = await exportJWK(privateKey);
  // The RFC 7638 thumbprint: the same key has the same kid on every node.
  return { kid: await calculateJwkThumbprint(jwk), createdAt: now, jwk };
}

async function toSigningKey(stored: StoredKey): Promise<SigningKey> {
  const { x } = stored.jwk;
  if (stored.jwk.kty !== 'OKP' || stored.jwk.crv !== 'Ed25519' || typeof x !== 'string') throw new Error(`receipt key ${stored.kid} is not an Ed25519 key`);
  const key = (await importJWK(stored.jwk, 'EdDSA')) as CryptoKey;
  return { kid: stored.kid, createdAt: stored.createdAt, key, public: { kty: 'OKP', crv: 'Ed25519', x, kid: stored.kid, alg: 'EdDSA', use: 'sig' } };
}
