import { scrypt, timingSafeEqual, randomBytes } from 'node:crypto';
import { fromBase64, type PasswordHasher, toBase64, verifyPbkdf2 } from '../lib/passwords.js';

export type ScryptCost = { log2N: number; r: number; p: number };

/** OWASP's scrypt floor is N=2^17, r=8, p=1: about 128 MiB and ~0.3 s a hash on a small server. */
export const SCRYPT_COST: ScryptCost = { log2N: 17, r: 8, p: 1 };

const SCRYPT_PATTERN = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{16,})\$([A-Za-z0-9+/]{43})$/;

function scryptAsync(password: string, salt: Uint8Array, cost: ScryptCost): Promise<Uint8Array> {
  const N = 2 ** cost.log2N;
  // Node's default maxmem (32 MiB) is below what N=2^17, r=8 needs (128·N·r bytes).
  const maxmem = 256 * N * cost.r;
  return new Promise((resolve, reject) =>
    scrypt(password, salt, 32, { N, r: cost.r, p: cost.p, maxmem }, (error, key) => (error ? reject(error) : resolve(new Uint8Array(key)))),
  );
}

/**
 * scrypt through node:crypto (off the event loop, in libuv's pool): the
 * hasher of the Node runtime. Verifies `$pbkdf2-sha256$` hashes too, so an
 * installation moved from Workers to Node keeps its users' passwords.
 */
export class ScryptPasswordHasher implements PasswordHasher {
  constructor(private readonly cost: ScryptCost = SCRYPT_COST) {}

  async hash(password: string): Promise<string> {
    const salt = new Uint8Array(randomBytes(16));
    const key = await scryptAsync(password, salt, this.cost);
    return `$scrypt$ln=${this.cost.log2N},r=${this.cost.r},p=${this.cost.p}$${toBase64(salt)}$${toBase64(key)}`;
  }

  async verify(password: string, stored: string): Promise<boolean> {
    if (stored.startsWith('$pbkdf2-sha256$')) return verifyPbkdf2(password, stored);
    const match = SCRYPT_PATTERN.exec(stored);
    if (!match) return false;
    const cost = { log2N: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
    // Bounds, so a tampered row cannot make one sign-in allocate gigabytes.
    if (cost.log2N < 1 || cost.log2N > 20 || cost.r < 1 || cost.r > 16 || cost.p < 1 || cost.p > 4) return false;
    const salt = fromBase64(match[4]!);
    const expected = fromBase64(match[5]!);
    if (!salt || !expected || expected.length !== 32) return false;
    return timingSafeEqual(await scryptAsync(password, salt, cost), expected);
  }
}
