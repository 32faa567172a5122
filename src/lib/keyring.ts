import { constantTimeEqual, KeyedHasher, randomBytes, toBase64Url } from './secrets.js';

/**
 * Every key Signet uses, derived from one root secret (SECRET_KEY or its key
 * file) with HKDF-SHA-256, one key per purpose. The root secret is never
 * written to the database: a stolen database or backup holds nonces and
 * hashes, but nothing that turns them back into tokens or IP addresses.
 *
 * Tokens handed to supporters are `<nonce><mac>` (22 + 22 base64url
 * characters): the nonce is stored, the MAC is recomputed from the key, so
 * a token never exists at rest; only the email that carries it holds it.
 */
export type KeyPurpose = 'confirm-token' | 'privacy-token' | 'unsubscribe-token' | 'form-token' | 'ip-hash' | 'accounts' | 'erasure-ledger' | 'webhook-secrets';

const purposes: KeyPurpose[] = ['confirm-token', 'privacy-token', 'unsubscribe-token', 'form-token', 'ip-hash', 'accounts', 'erasure-ledger', 'webhook-secrets'];

/** Nonce and MAC lengths of a derived token, in base64url characters (16 bytes each). */
const NONCE_CHARS = 22;
const MAC_BYTES = 16;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{44}$/;

/** The smallest root secret accepted: 32 bytes of entropy as base64url or hex, or any 32+ character passphrase. */
export const MIN_ROOT_SECRET_CHARS = 32;

const encoder = new TextEncoder();

async function hkdf(root: Uint8Array, purpose: string): Promise<Uint8Array> {
  const material = await crypto.subtle.importKey('raw', root, 'HKDF', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: encoder.encode('signet/v1'), info: encoder.encode(purpose) },
    material,
    256,
  );
  return new Uint8Array(bits);
}

/** A fresh random nonce for a derived token (16 bytes, base64url). */
export function newNonce(): string {
  return toBase64Url(randomBytes(16));
}

/** Tokens made from a stored nonce and a purpose key. */
export class DerivedTokens {
  constructor(
    private readonly hasher: KeyedHasher,
    private readonly label: string,
    /** The same purpose under the previous root secret, while a rotation is under way. */
    private readonly previous?: DerivedTokens,
  ) {}

  private async mac(nonce: string): Promise<string> {
    return toBase64Url((await this.hasher.digest(`${this.label}:${nonce}`)).slice(0, MAC_BYTES));
  }

  /** The token for a stored nonce (as put in an email link). */
  async token(nonce: string): Promise<string> {
    if (nonce.length !== NONCE_CHARS) throw new TypeError('a token nonce is 22 base64url characters');
    return `${nonce}${await this.mac(nonce)}`;
  }

  /** The nonce a token carries, or null when the token was not made with this key. */
  async verify(token: string): Promise<string | null> {
    if (!TOKEN_PATTERN.test(token)) return null;
    const nonce = token.slice(0, NONCE_CHARS);
    if (constantTimeEqual(await this.mac(nonce), token.slice(NONCE_CHARS))) return nonce;
    return this.previous ? this.previous.verify(token) : null;
  }
}

/**
 * The keys of one installation. Build it once per process with
 * `createKeyring(rootSecret)`; every method is cheap after that.
 */
export class Keyring {
  readonly confirmTokens: DerivedTokens;
  readonly privacyTokens: DerivedTokens;
  /** Signs `form:<name>:<issued at>` for the CSRF tokens of the supporter forms. */
  readonly formTokens: KeyedHasher;
  /** Signs `unsubscribe:<signature id>` for the links in update emails. */
  readonly unsubscribe: KeyedHasher;
  /**
   * Organisers' accounts (src/services/account-links.ts, accounts.ts): the
   * secrets of mailed account links (derived from the link's id, so the
   * outbox never holds one), the key sealing TOTP secrets, the pending
   * second-factor state.
   */
  readonly accounts: KeyedHasher;
  /** Seals the webhooks' signing secrets (src/services/webhook-secrets.ts): the database alone cannot sign an event. */
  readonly webhookSecrets: KeyedHasher;
  private readonly ipKey: KeyedHasher;
  private readonly erasureKey: KeyedHasher;
  /** Day-and-campaign IP keys, made on first use; a few per day at most. */
  private readonly ipDayKeys = new Map<string, Promise<KeyedHasher>>();

  /**
   * The keyring of the previous root secret while a rotation is under way
   * (SECRET_KEY_PREVIOUS): links made before it still verify; everything new
   * is made under the current one.
   */
  readonly previous: Keyring | undefined;

  private constructor(keys: Record<KeyPurpose, KeyedHasher>, previous?: Keyring) {
    this.previous = previous;
    this.confirmTokens = new DerivedTokens(keys['confirm-token'], 'confirm', previous?.confirmTokens);
    this.privacyTokens = new DerivedTokens(keys['privacy-token'], 'privacy', previous?.privacyTokens);
    this.formTokens = keys['form-token'];
    this.unsubscribe = keys['unsubscribe-token'];
    this.accounts = keys.accounts;
    this.webhookSecrets = keys['webhook-secrets'];
    this.ipKey = keys['ip-hash'];
    this.erasureKey = keys['erasure-ledger'];
  }

  static async create(rootSecret: string, previousRootSecret?: string): Promise<Keyring> {
    if (rootSecret.length < MIN_ROOT_SECRET_CHARS) throw new TypeError(`the root secret must be at least ${MIN_ROOT_SECRET_CHARS} characters`);
    const root = encoder.encode(rootSecret);
    const entries = await Promise.all(purposes.map(async (purpose) => [purpose, new KeyedHasher(await hkdf(root, purpose))] as const));
    const previous = previousRootSecret && previousRootSecret !== rootSecret ? await Keyring.create(previousRootSecret) : undefined;
    return new Keyring(Object.fromEntries(entries) as Record<KeyPurpose, KeyedHasher>, previous);
  }

  /** `<signature id>.<MAC>`: the same unsubscribe link in every update email to a supporter, nothing stored. */
  async unsubscribeToken(signatureId: string): Promise<string> {
    return `${signatureId}.${await this.unsubscribe.hash(`unsubscribe:${signatureId}`)}`;
  }

  /**
   * What the erasure ledger records of an erased address (normalised): a keyed
   * hash, so the ledger names nobody to whoever reads it without the root
   * secret, while a restore (which has the secret) can find the address again
   * among the rows of an older backup.
   */
  erasureSubject(emailNormalized: string): Promise<string> {
    return this.erasureKey.hash(`erasure:${emailNormalized}`);
  }

  /** Names the ledger key without revealing it, so a restore can tell entries made under another root secret. */
  async erasureKeyId(): Promise<string> {
    return (await this.erasureKey.hash('erasure-key-id')).slice(0, 12);
  }

  /**
   * The keyed hash of a client address for one campaign on one UTC day
   * (`YYYY-MM-DD`). A new key each day and campaign means a hash links one
   * person's requests within a day's campaign (enough for rate limits and
   * abuse review) but not across campaigns or days, and dropping a day's
   * hashes after 30 days leaves nothing to match a known address against.
   */
  async ipHash(campaignId: string, day: string, address: string): Promise<string> {
    const id = `${day}:${campaignId}`;
    let key = this.ipDayKeys.get(id);
    if (!key) {
      if (this.ipDayKeys.size >= 1000) this.ipDayKeys.clear();
      key = this.ipKey.digest(`ip-day:${id}`).then((bytes) => new KeyedHasher(bytes));
      this.ipDayKeys.set(id, key);
    }
    return (await key).hash(address);
  }
}

/** The UTC day of an instant as `YYYY-MM-DD` (the period an IP-hash key covers). */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
