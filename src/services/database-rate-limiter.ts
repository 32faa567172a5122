import type { Database } from '../db/database.js';
import type { Logger } from '../lib/logger.js';
import type { RateLimiter, RateVerdict } from './rate-limiter.js';

/**
 * One hit as one statement, so concurrent hits from any number of isolates
 * are counted exactly (the database serialises them): a new key opens its
 * window at 1, a key whose window has ended opens a new one, any other adds
 * 1. SQLite evaluates every SET expression against the row as it was, so
 * both CASEs see the old window. Parameters: key, the new window's end, now,
 * now.
 */
const HIT_SQL = `INSERT INTO "rate_limit_windows" ("key", "window_ends_at", "count") VALUES (?, ?, 1)
ON CONFLICT ("key") DO UPDATE SET
  "count" = CASE WHEN "window_ends_at" <= ? THEN 1 ELSE "count" + 1 END,
  "window_ends_at" = CASE WHEN "window_ends_at" <= ? THEN excluded."window_ends_at" ELSE "window_ends_at" END
RETURNING "window_ends_at", "count"`;

const PURGE_SQL = `DELETE FROM "rate_limit_windows" WHERE "window_ends_at" <= ? RETURNING 1`;

/**
 * The buckets (a key up to its first `:`) whose requests go through when the
 * counters cannot be reached: a supporter's signature or privacy request is
 * held, and limited per address, in the same database, and must never fail
 * for a limiter's hiccup. Every other bucket (the dashboard's sign-in and
 * mailed-link requests) is refused for a while instead, so a failing counter
 * never opens unlimited password guessing.
 */
export const SUPPORTER_BUCKETS: readonly string[] = ['sign', 'privacy'];

/** How long a refused hit is told to wait while the counters cannot be reached. */
const UNAVAILABLE_RETRY_MS = 60_000;
/** At most one log line per this long while the counters cannot be reached, with the failures since the last. */
const UNAVAILABLE_LOG_EVERY_MS = 60_000;
/** Keys this instance remembers as refused; past it the oldest is forgotten (and asks the database again). */
const MAX_REFUSED_KEYS = 10_000;

export type DatabaseRateLimiterOptions = {
  logger: Logger;
  /** Buckets that are allowed when the database fails (SUPPORTER_BUCKETS); all others are refused. */
  failOpenBuckets: readonly string[];
};

/**
 * Fixed-window counters in the database, shared by every process or isolate
 * that uses it: on Workers each isolate's memory is its own, so the memory
 * limiter would count per isolate. Windows behave as MemoryRateLimiter's (a
 * key's window opens at its first hit and lasts `windowMs`). Keys are stored
 * as the callers make them: a bucket and keyed hashes, never an address.
 *
 * Once a key is refused, this instance answers it from memory until its
 * window ends (the database could only say the same), so a flood from one
 * client costs one write per isolate and window beyond the limit, not one per
 * request.
 */
export class DatabaseRateLimiter implements RateLimiter {
  private readonly refusedUntil = new Map<string, number>();
  private readonly failOpen: ReadonlySet<string>;
  private unloggedFailures = 0;
  private lastFailureLoggedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly database: Database,
    private readonly options: DatabaseRateLimiterOptions,
  ) {
    this.failOpen = new Set(options.failOpenBuckets);
  }

  async hit(key: string, limit: number, windowMs: number, now: number): Promise<RateVerdict> {
    const refusedUntil = this.refusedUntil.get(key);
    if (refusedUntil !== undefined) {
      if (now < refusedUntil) return { allowed: false, retryAfterMs: refusedUntil - now };
      this.refusedUntil.delete(key);
    }
    let row: unknown[] | undefined;
    try {
      [row] = await this.database.writeReturning({ sql: HIT_SQL, params: [key, now + windowMs, now, now] });
      if (!row) throw new Error('the counter returned no row');
    } catch (error) {
      return this.unavailable(key, now, error);
    }
    const windowEndsAt = Number(row[0]);
    if (Number(row[1]) <= limit) return { allowed: true, retryAfterMs: 0 };
    this.rememberRefused(key, windowEndsAt);
    return { allowed: false, retryAfterMs: windowEndsAt - now };
  }

  /** Deletes the windows that have ended (the cron calls it), so the table holds live counters only; resolves to how many. */
  async purgeEnded(now: number): Promise<number> {
    return (await this.database.writeReturning({ sql: PURGE_SQL, params: [now] })).length;
  }

  private rememberRefused(key: string, until: number) {
    this.refusedUntil.delete(key);
    if (this.refusedUntil.size >= MAX_REFUSED_KEYS) this.refusedUntil.delete(this.refusedUntil.keys().next().value!);
    this.refusedUntil.set(key, until);
  }

  private unavailable(key: string, now: number, error: unknown): RateVerdict {
    const colon = key.indexOf(':');
    const bucket = colon === -1 ? key : key.slice(0, colon);
    const allowed = this.failOpen.has(bucket);
    this.unloggedFailures += 1;
    if (now - this.lastFailureLoggedAt >= UNAVAILABLE_LOG_EVERY_MS) {
      // The bucket and the database's message only: the key carries a client's hash.
      this.options.logger.error("rate limiter unavailable: supporters' requests let through, the others refused", {
        bucket,
        outcome: allowed ? 'allowed' : 'refused',
        failures: this.unloggedFailures,
        error: error instanceof Error ? error.message : String(error),
      });
      this.unloggedFailures = 0;
      this.lastFailureLoggedAt = now;
    }
    return allowed ? { allowed: true, retryAfterMs: 0 } : { allowed: false, retryAfterMs: UNAVAILABLE_RETRY_MS };
  }
}
