export type RateVerdict = { allowed: boolean; retryAfterMs: number };

/**
 * Decides whether one more hit under `key` fits in its window. Asynchronous
 * so that a limiter may keep its counters outside the process (on Workers,
 * where each isolate's memory is its own).
 */
export interface RateLimiter {
  hit(key: string, limit: number, windowMs: number, now: number): Promise<RateVerdict>;
}

/**
 * Fixed-window counters in memory, per process. Bounded: past `maxKeys` the
 * oldest windows are dropped, so a flood of distinct keys cannot grow memory
 * without limit (it can only forget old counters early).
 */
export class MemoryRateLimiter implements RateLimiter {
  private windows = new Map<string, { startedAt: number; count: number }>();

  constructor(private readonly maxKeys = 100_000) {}

  async hit(key: string, limit: number, windowMs: number, now: number): Promise<RateVerdict> {
    let window = this.windows.get(key);
    if (!window || now - window.startedAt >= windowMs) {
      this.windows.delete(key);
      window = { startedAt: now, count: 0 };
      this.windows.set(key, window);
      this.evictOverflow();
    }
    window.count += 1;
    if (window.count <= limit) return { allowed: true, retryAfterMs: 0 };
    return { allowed: false, retryAfterMs: window.startedAt + windowMs - now };
  }

  private evictOverflow() {
    for (const key of this.windows.keys()) {
      if (this.windows.size <= this.maxKeys) break;
      this.windows.delete(key);
    }
  }
}
