import { scrypt, timingSafeEqual, randomBytes } from 'node:crypto';
import { fromBase64, type PasswordHasher, toBase64, verifyPbkdf2 } from '../lib/passwords.js';
import { FairGate, type FairGateLimits, type GateLane } from '../lib/fair-gate.js';
import { RateLimited } from '../lib/service-errors.js';

export type ScryptCost = { log2N: number; r: number; p: number };

/**
 * OWASP's scrypt floor is N=2^17, r=8, p=1: 128 MiB and about 1 s of CPU a
 * hash on a small 2-core VM (bench/organisers.ts).
 */
export const SCRYPT_COST: ScryptCost = { log2N: 17, r: 8, p: 1 };

const UNKNOWN_LANE: GateLane = { source: '', trusted: false };

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
  private readonly gate: FairGate;

  /**
   * One scrypt at a time: libuv's pool has 4 threads shared with file reads,
   * DNS and WebCrypto; a burst of sign-ins (wrong passwords from many
   * addresses included) once held a small file read for 8 s and took the
   * process to 600 MB. One at a time leaves three threads free and 128 MiB.
   * Waiting is fair (src/lib/fair-gate.ts): a trusted sign-in (the
   * account's device cookie, a mailed link, a session) goes first, and
   * untrusted ones take turns by source, at most 2 waiting per source and
   * 16 in all; past that the answer is 429, not a longer queue. Nobody
   * waits more than 16 hashes behind untrusted strangers, and a trusted
   * sign-in waits only for the hash running and the trusted ones before it.
   */
  constructor(
    private readonly cost: ScryptCost = SCRYPT_COST,
    limits: Partial<FairGateLimits> = {},
  ) {
    this.gate = new FairGate({ concurrency: 1, waitingPerSource: 2, waitingUntrusted: 16, waitingTrusted: 16, ...limits });
  }

  private async gated<T>(lane: GateLane, work: () => Promise<T>): Promise<T> {
    const turn = this.gate.enter(lane);
    if (!turn) throw new RateLimited(5, 'Too many sign-ins at once. Please try again in a few seconds.');
    const leave = await turn;
    try {
      return await work();
    } finally {
      leave();
    }
  }

  async hash(password: string, lane: GateLane = UNKNOWN_LANE): Promise<string> {
    const salt = new Uint8Array(randomBytes(16));
    const key = await this.gated(lane, () => scryptAsync(password, salt, this.cost));
    return `$scrypt$ln=${this.cost.log2N},r=${this.cost.r},p=${this.cost.p}$${toBase64(salt)}$${toBase64(key)}`;
  }

  async verify(password: string, stored: string, lane: GateLane = UNKNOWN_LANE): Promise<boolean> {
    if (stored.startsWith('$pbkdf2-sha256$')) return verifyPbkdf2(password, stored);
    const match = SCRYPT_PATTERN.exec(stored);
    if (!match) return false;
    const cost = { log2N: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
    // Bounds, so a tampered row cannot make one sign-in allocate gigabytes.
    if (cost.log2N < 1 || cost.log2N > 20 || cost.r < 1 || cost.r > 16 || cost.p < 1 || cost.p > 4) return false;
    const salt = fromBase64(match[4]!);
    const expected = fromBase64(match[5]!);
    if (!salt || !expected || expected.length !== 32) return false;
    return timingSafeEqual(await this.gated(lane, () => scryptAsync(password, salt, cost)), expected);
  }
}
