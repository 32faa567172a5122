const encoder = new TextEncoder();

type NodeDigest = { digest(encoding: 'hex'): string; digest(): Uint8Array };
type NodeCrypto = {
  createHash(algorithm: string): { update(data: string): NodeDigest };
  createHmac(algorithm: string, key: string | Uint8Array): { update(data: string): NodeDigest };
};

/**
 * Node's synchronous hashing, found at run time so this module still loads
 * on Workers (no `process` there, so WebCrypto is used). On the sign path
 * it matters: WebCrypto's async digest costs ~70 µs a call in Node, this ~2 µs.
 */
const nodeCrypto = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.('node:crypto') as
  | NodeCrypto
  | undefined;

export function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function toHex(buffer: ArrayBuffer): string {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');
}

const POOL_SIZE = 4096;
let pool = new Uint8Array(0);
let poolOffset = 0;

/**
 * Cryptographically random bytes from a pool refilled 4 KiB at a time:
 * one getRandomValues call per ~200 signatures instead of three per
 * signature, which under load cost more than the rest of the sign path.
 */
export function randomBytes(length: number): Uint8Array {
  if (length > POOL_SIZE) return crypto.getRandomValues(new Uint8Array(length));
  if (poolOffset + length > pool.length) {
    pool = crypto.getRandomValues(new Uint8Array(POOL_SIZE));
    poolOffset = 0;
  }
  const bytes = pool.slice(poolOffset, poolOffset + length);
  // Wipe what was handed out so no later reader of the pool can see it.
  pool.fill(0, poolOffset, poolOffset + length);
  poolOffset += length;
  return bytes;
}

/** A random URL-safe secret of `bytes` bytes (default 32 = 256 bits). */
export function randomToken(bytes = 32): string {
  return toBase64Url(randomBytes(bytes));
}

/** SHA-256 in hex: how tokens are stored, so a database leak reveals no usable secret. */
export async function sha256Hex(value: string): Promise<string> {
  if (nodeCrypto) return nodeCrypto.createHash('sha256').update(value).digest('hex');
  return toHex(await crypto.subtle.digest('SHA-256', encoder.encode(value)));
}

/** Compares two strings in time that depends only on their length. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = encoder.encode(a);
  const right = encoder.encode(b);
  let difference = left.length ^ right.length;
  const length = Math.max(left.length, right.length);
  for (let i = 0; i < length; i++) difference |= (left[i] ?? 0) ^ (right[i] ?? 0);
  return difference === 0;
}

/**
 * A keyed hash (HMAC-SHA-256), e.g. of a client IP, that cannot be reversed
 * by enumerating IPs without the key. The key is raw bytes (derived keys,
 * src/lib/keyring.ts) or, for keys made by earlier versions, a string.
 */
export class KeyedHasher {
  private key: ReturnType<typeof crypto.subtle.importKey>;

  constructor(private readonly secret: string | Uint8Array) {
    const raw = typeof secret === 'string' ? encoder.encode(secret) : secret;
    this.key = crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  }

  /** The HMAC in hex, shortened to 128 bits. */
  async hash(value: string): Promise<string> {
    if (nodeCrypto) return nodeCrypto.createHmac('sha256', this.secret).update(value).digest('hex').slice(0, 32);
    return toHex(await crypto.subtle.sign('HMAC', await this.key, encoder.encode(value))).slice(0, 32);
  }

  /** The full HMAC as bytes (32). */
  async digest(value: string): Promise<Uint8Array> {
    if (nodeCrypto) return new Uint8Array(nodeCrypto.createHmac('sha256', this.secret).update(value).digest());
    return new Uint8Array(await crypto.subtle.sign('HMAC', await this.key, encoder.encode(value)));
  }
}
