import type { GateLane } from './fair-gate.js';

/**
 * Password hashing behind a port, so each runtime uses the strongest
 * function it has: scrypt through node:crypto on Node
 * (src/entry/node-passwords.ts), PBKDF2-SHA-256 through WebCrypto here, which
 * runs on Node and Workers alike (workerd caps PBKDF2 at 100,000 iterations).
 * Hashes are self-describing strings (`$<algorithm>$<parameters>$<salt>$<hash>`),
 * so parameters can change without breaking stored hashes.
 */
export interface PasswordHasher {
  /**
   * A new salted hash of the password. `lane`: who asks, where hashing is
   * rationed (src/lib/fair-gate.ts); none is an untrusted request of no
   * known source.
   */
  hash(password: string, lane?: GateLane): Promise<string>;
  /**
   * Whether the password matches the stored hash; false (never a throw) for
   * a hash this hasher cannot read. A hasher that rations its work throws
   * `RateLimited` when `lane`'s queue is full.
   */
  verify(password: string, stored: string, lane?: GateLane): Promise<boolean>;
}

/** NIST SP 800-63B: at least 12 characters here; a cap so a megabyte "password" cannot tie up the hasher. */
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;

const encoder = new TextEncoder();

export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/=+$/, '');
}

export function fromBase64(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]*$/.test(text)) return null;
  try {
    return Uint8Array.from(atob(text + '='.repeat((4 - (text.length % 4)) % 4)), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

/** Equal bytes, in time that depends only on the lengths. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) difference |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return difference === 0;
}

/** workerd refuses more PBKDF2 iterations than this. */
export const PBKDF2_MAX_ITERATIONS = 100_000;
const PBKDF2_PATTERN = /^\$pbkdf2-sha256\$i=(\d{1,7})\$([A-Za-z0-9+/]{16,})\$([A-Za-z0-9+/]{43})$/;

async function pbkdf2(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const material = await crypto.subtle.importKey('raw', encoder.encode(password), 'PBKDF2', false, ['deriveBits']);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, material, 256));
}

/** Verifies a `$pbkdf2-sha256$…` hash (shared by both hashers: a Node installation reads hashes a Worker wrote). */
export async function verifyPbkdf2(password: string, stored: string): Promise<boolean> {
  const match = PBKDF2_PATTERN.exec(stored);
  if (!match) return false;
  const iterations = Number(match[1]);
  const salt = fromBase64(match[2]!);
  const expected = fromBase64(match[3]!);
  if (!salt || !expected || iterations < 1 || iterations > PBKDF2_MAX_ITERATIONS) return false;
  return bytesEqual(await pbkdf2(password, salt, iterations), expected);
}

/** PBKDF2-SHA-256 through WebCrypto: the hasher of the Workers runtime. */
export class Pbkdf2PasswordHasher implements PasswordHasher {
  constructor(private readonly iterations = PBKDF2_MAX_ITERATIONS) {
    if (iterations < 1 || iterations > PBKDF2_MAX_ITERATIONS) throw new RangeError(`PBKDF2 iterations must be 1…${PBKDF2_MAX_ITERATIONS}`);
  }

  async hash(password: string): Promise<string> {
    const salt = crypto.getRandomValues(new Uint8Array(16));
    return `$pbkdf2-sha256$i=${this.iterations}$${toBase64(salt)}$${toBase64(await pbkdf2(password, salt, this.iterations))}`;
  }

  verify(password: string, stored: string): Promise<boolean> {
    return verifyPbkdf2(password, stored);
  }
}
