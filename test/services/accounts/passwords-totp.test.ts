import { describe, expect, it } from 'vitest';
import { ScryptPasswordHasher, SCRYPT_COST } from '../../../src/entry/node-passwords.js';
import type { GateLane } from '../../../src/lib/fair-gate.js';
import { Pbkdf2PasswordHasher, PBKDF2_MAX_ITERATIONS } from '../../../src/lib/passwords.js';
import { base32Decode, base32Encode, matchTotp, otpauthUri, totpCode, totpStep } from '../../../src/lib/totp.js';

describe('password hashing', () => {
  it('ships scrypt at N=2^17, r=8, p=1 with a 16-byte salt and a 32-byte key, and verifies only the right password', async () => {
    const hasher = new ScryptPasswordHasher();
    expect(SCRYPT_COST).toEqual({ log2N: 17, r: 8, p: 1 });
    const hash = await hasher.hash('correct horse battery staple');
    expect(hash).toMatch(/^\$scrypt\$ln=17,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await hasher.verify('correct horse battery staple', hash)).toBe(true);
    expect(await hasher.verify('correct horse battery stapl', hash)).toBe(false);
    // Salted: the same password twice gives two hashes.
    expect(await hasher.hash('correct horse battery staple')).not.toBe(hash);
  });

  it('ships PBKDF2-SHA-256 at workerd\'s 100,000 iterations for Workers, and Node reads those hashes', async () => {
    const worker = new Pbkdf2PasswordHasher();
    const hash = await worker.hash('correct horse battery staple');
    expect(hash).toMatch(new RegExp(`^\\$pbkdf2-sha256\\$i=${PBKDF2_MAX_ITERATIONS}\\$[A-Za-z0-9+/]{22}\\$[A-Za-z0-9+/]{43}$`));
    expect(await worker.verify('correct horse battery staple', hash)).toBe(true);
    expect(await worker.verify('wrong horse battery staple', hash)).toBe(false);
    const node = new ScryptPasswordHasher({ log2N: 10, r: 8, p: 1 });
    expect(await node.verify('correct horse battery staple', hash)).toBe(true);
    expect(await node.verify('wrong horse battery staple', hash)).toBe(false);
    expect(() => new Pbkdf2PasswordHasher(PBKDF2_MAX_ITERATIONS + 1)).toThrow(RangeError);
  });

  it('refuses tampered, foreign and resource-hungry hashes without throwing', async () => {
    const node = new ScryptPasswordHasher({ log2N: 10, r: 8, p: 1 });
    const hash = await node.hash('a long enough password');
    const flipped = hash.slice(0, -2) + (hash.at(-2) === 'A' ? 'B' : 'A') + hash.at(-1);
    expect(await node.verify('a long enough password', flipped)).toBe(false);
    expect(await node.verify('a long enough password', hash.replace('ln=10', 'ln=30'))).toBe(false);
    expect(await node.verify('a long enough password', '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA')).toBe(false);
    expect(await node.verify('a long enough password', '')).toBe(false);
    expect(await new Pbkdf2PasswordHasher(1000).verify('a long enough password', hash)).toBe(false);
  });

  it('runs scrypt one at a time; strangers wait by source (2 each, 16 in all) and take turns, and a trusted check goes first whatever is waiting', async () => {
    const node = new ScryptPasswordHasher({ log2N: 12, r: 8, p: 1 });
    const hash = await node.hash('password number 0');
    let peak = 0;
    let inFlight = 0;
    const order: string[] = [];
    const original = node['gated'].bind(node);
    node['gated'] = async <T,>(lane: GateLane, work: () => Promise<T>) =>
      original(lane, async () => {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        order.push(lane.source);
        try {
          return await work();
        } finally {
          inFlight -= 1;
        }
      });
    const check = (source: string, trusted = false) =>
      node.verify('password number 0', hash, { source, trusted }).then(
        (ok) => ({ source, ok }),
        (error: unknown) => ({ source, error }),
      );

    // One running; source a queues 2 and is refused a third; b queues 2; 12 more sources one each: 16 waiting.
    const started = [check('first'), check('a'), check('a'), check('a'), check('b'), check('b'), ...Array.from({ length: 12 }, (_, i) => check(`s${i}`))];
    // The line is full for strangers, whatever their source, but not for a trusted check.
    const refusedNewSource = check('late');
    const trusted = check('owner-device', true);
    const results = await Promise.all([...started, refusedNewSource, trusted]);
    const refused = results.filter((r) => 'error' in r);
    expect(refused.map((r) => r.source).sort()).toEqual(['a', 'late']);
    for (const r of refused) expect('error' in r && r.error).toMatchObject({ code: 'RATE_LIMITED' });
    expect(results.filter((r) => 'ok' in r && r.ok)).toHaveLength(results.length - 2);
    // The trusted check ran right after the one running; then the sources took turns (a and b each once before their second).
    expect(order.slice(0, 2)).toEqual(['first', 'owner-device']);
    expect(order.slice(2, 4)).toEqual(['a', 'b']);
    expect(order.indexOf('a', 3)).toBeGreaterThan(order.indexOf('s11'));
    expect(peak).toBe(1);
    // And the line drained: a new check runs.
    expect(await node.verify('password number 0', hash)).toBe(true);
  });
});

describe('TOTP (RFC 6238)', () => {
  // RFC 6238 appendix B: the SHA-1 seed is the ASCII "12345678901234567890", codes of 8 digits.
  const seed = new TextEncoder().encode('12345678901234567890');
  const vectors: [number, string][] = [
    [59, '94287082'],
    [1111111109, '07081804'],
    [1111111111, '14050471'],
    [1234567890, '89005924'],
    [2000000000, '69279037'],
    [20000000000, '65353130'],
  ];

  it.each(vectors)('gives the RFC 6238 SHA-1 code at T=%i', async (seconds, code) => {
    expect(await totpCode(seed, totpStep(seconds * 1000), 8)).toBe(code);
  });

  it('gives the RFC 6238 SHA-256 and SHA-512 codes (same truncation)', async () => {
    const seed32 = new TextEncoder().encode('12345678901234567890123456789012');
    const seed64 = new TextEncoder().encode('1234567890123456789012345678901234567890123456789012345678901234');
    expect(await totpCode(seed32, totpStep(59_000), 8, 'SHA-256')).toBe('46119246');
    expect(await totpCode(seed64, totpStep(59_000), 8, 'SHA-512')).toBe('90693936');
  });

  it('accepts the code of now and of one step either side, refuses further, and never a step already used', async () => {
    const now = 1_800_000_000_000;
    const step = totpStep(now);
    const at = async (s: number) => totpCode(seed, s);
    expect(await matchTotp(seed, await at(step), now, null)).toBe(step);
    expect(await matchTotp(seed, await at(step - 1), now, null)).toBe(step - 1);
    expect(await matchTotp(seed, await at(step + 1), now, null)).toBe(step + 1);
    expect(await matchTotp(seed, await at(step - 2), now, null)).toBeNull();
    expect(await matchTotp(seed, await at(step + 2), now, null)).toBeNull();
    // Replay: the step of the code is not after the last one used.
    expect(await matchTotp(seed, await at(step), now, step)).toBeNull();
    expect(await matchTotp(seed, await at(step), now, step - 1)).toBe(step);
    expect(await matchTotp(seed, 'abcdef', now, null)).toBeNull();
    expect(await matchTotp(seed, `${await at(step)}0`, now, null)).toBeNull();
  });

  it('round-trips base32 (RFC 4648 vectors) and writes an otpauth URI apps read', () => {
    expect(base32Encode(new TextEncoder().encode('foobar'))).toBe('MZXW6YTBOI');
    expect(new TextDecoder().decode(base32Decode('mzxw 6ytb oi======')!)).toBe('foobar');
    expect(base32Decode('not base32!')).toBeNull();
    const uri = otpauthUri(seed, 'owner@example.org', 'Signet');
    expect(uri).toBe('otpauth://totp/Signet%3Aowner%40example.org?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Signet&algorithm=SHA1&digits=6&period=30');
  });
});
