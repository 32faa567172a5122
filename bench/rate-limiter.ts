/**
 * One rate-limit hit on Node: the memory limiter (what `signet serve` uses) against the
 * database limiter that Workers use (src/services/database-rate-limiter.ts), here on
 * better-sqlite3 as Node would run it (WAL, synchronous=FULL, the writer thread's group
 * commit), with the real migrations on a temporary file.
 *
 *   npx tsx bench/rate-limiter.ts [--hits 20000] [--concurrency 100]
 *
 * `concurrency` hits are in flight at once, as many as bench/sign.ts's connections; each
 * round uses distinct keys (every supporter a new client) and then one key (one busy client).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SqliteDatabase } from '../src/db/node/better-sqlite3.js';
import { silentLogger } from '../src/lib/logger.js';
import { DatabaseRateLimiter, SUPPORTER_BUCKETS } from '../src/services/database-rate-limiter.js';
import { MemoryRateLimiter, type RateLimiter } from '../src/services/rate-limiter.js';

const { values } = parseArgs({
  options: {
    hits: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '100' },
  },
});
const hits = Number(values.hits);
const concurrency = Number(values.concurrency);
const dir = mkdtempSync(join(tmpdir(), 'signet-bench-limiter-'));
const database = new SqliteDatabase({ path: join(dir, 'signet.db'), migrationsFolder: fileURLToPath(new URL('../migrations', import.meta.url)) });

async function measure(name: string, limiter: RateLimiter, keyOf: (hit: number) => string) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < hits) {
        const hit = next++;
        const at = performance.now();
        await limiter.hit(keyOf(hit), 1_000_000_000, 300_000, Date.now());
        latencies.push(performance.now() - at);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const percentile = (p: number) => Number(latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!.toFixed(3));
  return { name, hitsPerSecond: Math.round(hits / seconds), p50ms: percentile(50), p99ms: percentile(99) };
}

const run = Date.now();
const rows = [];
for (const [keys, keyOf] of [
  ['distinct keys', (hit: number) => `sign:bench:${run}-${hit}`],
  ['one key', () => `sign:bench:${run}-busy`],
] as const) {
  rows.push(await measure(`memory, ${keys}`, new MemoryRateLimiter(), keyOf));
  rows.push(await measure(`SQLite, ${keys}`, new DatabaseRateLimiter(database, { logger: silentLogger, failOpenBuckets: SUPPORTER_BUCKETS }), keyOf));
}
await database.close();
rmSync(dir, { recursive: true, force: true });
console.table(rows);
console.log(JSON.stringify({ hits, concurrency, rows, node: process.version }));
