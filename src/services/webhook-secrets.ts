/**
 * The webhooks' signing secrets: made once, shown once, kept sealed.
 *
 * A receiver checks `Signet-Signature: t=<unix seconds>,v1=<hex>` where the
 * hex is HMAC-SHA-256 keyed with the secret (its UTF-8 text, as shown) over
 * `<t>.<raw body>`. The secret is stored sealed with AES-GCM under a key
 * derived from SECRET_KEY, with the hook's id as associated data (a sealed
 * secret copied to another row does not open), so a stolen database or
 * backup cannot sign events.
 */
import type { Keyring } from '../lib/keyring.js';
import { KeyedHasher, randomToken, toBase64Url } from '../lib/secrets.js';

const encoder = new TextEncoder();

/** A new signing secret: `whsec_` and 256 random bits. */
export function newWebhookSecret(): string {
  return `whsec_${randomToken(32)}`;
}

const sealKeys = new WeakMap<object, ReturnType<typeof crypto.subtle.importKey>>();
function sealKey(keys: Keyring): ReturnType<typeof crypto.subtle.importKey> {
  let key = sealKeys.get(keys.webhookSecrets);
  if (!key) {
    key = keys.webhookSecrets.digest('webhook-seal-key').then((raw) => crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']));
    sealKeys.set(keys.webhookSecrets, key);
  }
  return key;
}

function fromBase64Url(text: string): Uint8Array {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/');
  return Uint8Array.from(atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4)), (c) => c.charCodeAt(0));
}

/** `v1.<iv>.<ciphertext>` of the secret, bound to the hook's id. */
export async function sealWebhookSecret(keys: Keyring, webhookId: string, secret: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: encoder.encode(webhookId) }, await sealKey(keys), encoder.encode(secret));
  return `v1.${toBase64Url(iv)}.${toBase64Url(new Uint8Array(sealed))}`;
}

/** The secret, opened with the current key or the previous one while SECRET_KEY is being rotated; null when neither opens it. */
export async function openWebhookSecret(keys: Keyring, webhookId: string, sealed: string): Promise<string | null> {
  const match = /^v1\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]+)$/.exec(sealed);
  if (!match) return null;
  for (let ring: Keyring | undefined = keys; ring; ring = ring.previous) {
    try {
      const plain = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: fromBase64Url(match[1]!), additionalData: encoder.encode(webhookId) },
        await sealKey(ring),
        fromBase64Url(match[2]!),
      );
      return new TextDecoder().decode(plain);
    } catch {
      // Not sealed under this key: try the previous one.
    }
  }
  return null;
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A hasher per secret: building one imports a WebCrypto key, which cost more than the HMAC itself. */
const hashers = new Map<string, KeyedHasher>();
function hasherOf(secret: string): KeyedHasher {
  let hasher = hashers.get(secret);
  if (!hasher) {
    if (hashers.size >= 100) hashers.clear();
    hasher = new KeyedHasher(secret);
    hashers.set(secret, hasher);
  }
  return hasher;
}

/** The `Signet-Signature` header of a body sent at `unixSeconds`. */
export async function webhookSignature(secret: string, unixSeconds: number, body: string): Promise<string> {
  const mac = await hasherOf(secret).digest(`${unixSeconds}.${body}`);
  return `t=${unixSeconds},v1=${toHex(mac)}`;
}
