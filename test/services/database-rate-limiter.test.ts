// DatabaseRateLimiter (src/services/database-rate-limiter.ts) on better-sqlite3 with the real
// migrations: counters shared by every limiter over one database (the Workers isolates share D1
// so), the memory limiter's windows, and what it answers when the database fails. The same
// limiter in workerd over D1, across isolates: test/worker/limits-across-isolates.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rateLimitWindows } from '../../src/db/schema.js';
import type { LogFields, Logger } from '../../src/lib/logger.js';
import { silentLogger } from '../../src/lib/logger.js';
import { DatabaseRateLimiter, SUPPORTER_BUCKETS } from '../../src/services/database-rate-limiter.js';
import { MemoryRateLimiter } from '../../src/services/rate-limiter.js';
import { ADMIN_TOKEN, createTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/db.js';
import { openCampaign, signature } from '../helpers/signing.js';
import { accountClient } from './accounts/account-client.js';

let db: ReturnType<typeof createTestDatabase>;
const limiter = (logger: Logger = silentLogger) => new DatabaseRateLimiter(db.database, { logger, failOpenBuckets: SUPPORTER_BUCKETS });
const T0 = Date.UTC(2027, 8, 22, 9, 0, 0);
const WINDOW = 300_000;

function recordingLogger() {
  const lines: { level: string; message: string; fields?: LogFields | undefined }[] = [];
  const at = (level: string) => (message: string, fields?: LogFields) => void lines.push({ level, message, fields });
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } satisfies Logger };
}

describe('DatabaseRateLimiter on SQLite', () => {
  beforeEach(() => {
    db = createTestDatabase();
  });
  afterEach(async () => {
    await db.cleanup();
  });

  it('two limiters over one database share the count: the (limit+1)-th hit across them is refused until the window ends', async () => {
    const [a, b] = [limiter(), limiter()];
    const verdicts = [];
    for (let i = 0; i < 5; i++) verdicts.push(await (i % 2 === 0 ? a : b).hit('sign:c1:hash', 5, WINDOW, T0 + i * 1000));
    expect(verdicts.every((verdict) => verdict.allowed)).toBe(true);
    // The window opened at the first hit (T0), so the refusal waits for T0 + WINDOW.
    expect(await b.hit('sign:c1:hash', 5, WINDOW, T0 + 10_000)).toEqual({ allowed: false, retryAfterMs: WINDOW - 10_000 });
    expect(await a.hit('sign:c1:hash', 5, WINDOW, T0 + 20_000)).toEqual({ allowed: false, retryAfterMs: WINDOW - 20_000 });
    // Another key has its own window.
    expect(await a.hit('sign:c1:other', 5, WINDOW, T0 + 20_000)).toEqual({ allowed: true, retryAfterMs: 0 });
  });

  it('a window rolls over at its end: the next hit opens a new one from that moment', async () => {
    const [a, b] = [limiter(), limiter()];
    for (let i = 0; i < 3; i++) expect((await a.hit('privacy:h', 3, WINDOW, T0 + i)).allowed).toBe(true);
    expect((await b.hit('privacy:h', 3, WINDOW, T0 + WINDOW - 1)).allowed).toBe(false);
    expect(await b.hit('privacy:h', 3, WINDOW, T0 + WINDOW)).toEqual({ allowed: true, retryAfterMs: 0 });
    for (let i = 1; i < 3; i++) expect((await a.hit('privacy:h', 3, WINDOW, T0 + WINDOW + i)).allowed).toBe(true);
    expect(await a.hit('privacy:h', 3, WINDOW, T0 + WINDOW + 100)).toEqual({ allowed: false, retryAfterMs: WINDOW - 100 });
  });

  it('answers as the memory limiter does, hit for hit', async () => {
    const memory = new MemoryRateLimiter();
    const [a, b] = [limiter(), limiter()];
    // A fixed pseudo-random walk over three keys and uneven gaps, crossing many window ends.
    let seed = 17;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31);
    let now = T0;
    const outcomes = new Set<boolean>();
    for (let i = 0; i < 400; i++) {
      now += next() % 12_000;
      const key = `admin-sign-in:${next() % 3}`;
      const expected = await memory.hit(key, 4, 60_000, now);
      expect(await (i % 2 === 0 ? a : b).hit(key, 4, 60_000, now), `hit ${i}`).toEqual(expected);
      outcomes.add(expected.allowed);
    }
    expect([...outcomes].sort()).toEqual([false, true]);
  });

  it('counts concurrent hits exactly', async () => {
    const limiters = [limiter(), limiter(), limiter()];
    const verdicts = await Promise.all(Array.from({ length: 30 }, (_, i) => limiters[i % 3]!.hit('sign:c1:burst', 10, WINDOW, T0)));
    expect(verdicts.filter((verdict) => verdict.allowed)).toHaveLength(10);
    const [row] = await db.database.db.select().from(rateLimitWindows);
    expect(row).toEqual({ key: 'sign:c1:burst', windowEndsAt: T0 + WINDOW, count: 30 });
  });

  it('once a key is refused, the same limiter answers it from memory until the window ends (no write per request)', async () => {
    const [a, b] = [limiter(), limiter()];
    for (let i = 0; i < 3; i++) await a.hit('sign:c1:flood', 2, WINDOW, T0);
    for (let i = 0; i < 50; i++) expect(await a.hit('sign:c1:flood', 2, WINDOW, T0 + 1000)).toEqual({ allowed: false, retryAfterMs: WINDOW - 1000 });
    expect((await db.database.db.select().from(rateLimitWindows))[0]!.count).toBe(3);
    // Another limiter asks the database, which still says no.
    expect((await b.hit('sign:c1:flood', 2, WINDOW, T0 + 1000)).allowed).toBe(false);
    expect((await db.database.db.select().from(rateLimitWindows))[0]!.count).toBe(4);
    // At the window's end the remembered refusal lapses.
    expect(await a.hit('sign:c1:flood', 2, WINDOW, T0 + WINDOW)).toEqual({ allowed: true, retryAfterMs: 0 });
  });

  it('purges the windows that have ended, and only those', async () => {
    const a = limiter();
    await a.hit('sign:c1:early', 5, 60_000, T0);
    await a.hit('admin-sign-in:late', 5, 900_000, T0);
    expect(await a.purgeEnded(T0 + 60_000)).toBe(1);
    expect((await db.database.db.select().from(rateLimitWindows)).map((row) => row.key)).toEqual(['admin-sign-in:late']);
  });

  it('when the database fails: supporters are let through, sign-ins refused for a minute, and one line is logged a minute with the bucket only', async () => {
    const log = recordingLogger();
    const a = limiter(log.logger);
    db.database.sqlite.exec('DROP TABLE rate_limit_windows');
    expect(await a.hit('sign:c1:hash', 1, WINDOW, T0)).toEqual({ allowed: true, retryAfterMs: 0 });
    expect(await a.hit('privacy:hash', 1, WINDOW, T0 + 1)).toEqual({ allowed: true, retryAfterMs: 0 });
    expect(await a.hit('admin-sign-in:hash', 10, WINDOW, T0 + 2)).toEqual({ allowed: false, retryAfterMs: 60_000 });
    expect(await a.hit('admin-link-request:hash', 10, WINDOW, T0 + 3)).toEqual({ allowed: false, retryAfterMs: 60_000 });
    expect(log.lines).toEqual([
      {
        level: 'error',
        message: "rate limiter unavailable: supporters' requests let through, the others refused",
        fields: { bucket: 'sign', outcome: 'allowed', failures: 1, error: expect.stringMatching(/no such table: rate_limit_windows/) as unknown },
      },
    ]);
    await a.hit('admin-sign-in:hash', 10, WINDOW, T0 + 60_000);
    expect(log.lines[1]!.fields).toMatchObject({ bucket: 'admin-sign-in', outcome: 'refused', failures: 4 });
    expect(JSON.stringify(log.lines)).not.toContain('hash');
  });
});

describe('the app with DatabaseRateLimiter', () => {
  const signRateLimit = { limit: 5, windowMs: WINDOW };
  let home: ReturnType<typeof createTestApp>;
  const apps: ReturnType<typeof createTestApp>[] = [];
  beforeEach(async () => {
    home = createTestApp({ signRateLimit });
    await openCampaign(home);
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.cleanup();
    await home.cleanup();
  });

  /** Another app over the same database and clock, with its own DatabaseRateLimiter: a second isolate on the same D1. */
  function isolate(logger: Logger = silentLogger) {
    const app = createTestApp({ database: home.database, clock: home.clock, logger, signRateLimit, rateLimiter: new DatabaseRateLimiter(home.database, { logger, failOpenBuckets: SUPPORTER_BUCKETS }) });
    apps.push(app);
    return app;
  }
  const signFrom = (app: ReturnType<typeof createTestApp>, email: string) =>
    app.request('POST', '/api/v1/campaigns/save-refugees/signatures', { token: null, body: signature(email), headers: { 'x-forwarded-for': '198.51.100.7' } });

  it('two app instances over one database share the sign limit: the sixth request across them is 429 with Retry-After', async () => {
    const [a, b] = [isolate(), isolate()];
    for (let i = 0; i < 5; i++) expect((await signFrom(i % 2 === 0 ? a : b, `s${i}@example.org`)).status).toBe(202);
    const refused = await signFrom(b, 's5@example.org');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe(String(WINDOW / 1000));
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED');
  });

  it('a failing counter never costs a supporter a 500: signing and privacy requests are answered, dashboard sign-ins get 429 with Retry-After', async () => {
    const log = recordingLogger();
    const app = isolate(log.logger);
    home.database.sqlite.exec('DROP TABLE rate_limit_windows');
    const signed = await signFrom(app, 'ada@example.org');
    expect(signed.status).toBe(202);
    expect(await signed.json()).toEqual({ status: 'pending' });
    const privacy = await app.request('POST', '/api/v1/privacy/requests', { token: null, body: { email: 'ada@example.org', kind: 'export' }, headers: { 'x-forwarded-for': '198.51.100.7' } });
    expect(privacy.status).toBe(202);
    const signIn = await accountClient(app).request('POST', '/admin/login', { token: ADMIN_TOKEN, next: '/admin/campaigns' });
    expect(signIn.status).toBe(429);
    expect(signIn.headers.get('retry-after')).toBe('60');
    expect(log.lines.filter((line) => line.message.startsWith('rate limiter unavailable'))).toHaveLength(1);
  });
});
