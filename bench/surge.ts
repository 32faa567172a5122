/**
 * A surge (PRODUCT.md §7, issue #17): 1,500 distinct supporters (distinct
 * addresses and client addresses, through TRUST_PROXY) sign within a minute,
 * with the default limits (CONFIRM_EMAILS_PER_MINUTE 600, CONFIRM_EMAIL_LIMIT
 * 3/3600s, SIGN_RATE_LIMIT 5/300s). The real `signet serve` runs in a child
 * process with its mail sender on, an SMTP server on 127.0.0.1 in another.
 *
 *   npx tsx bench/surge.ts [--supporters 1500] [--concurrency 20] [--timeout 300]
 *
 * Fails unless every request was answered 202 and held, every supporter was
 * emailed, and nobody twice. Prints the time until the last email and the
 * emails per minute.
 */
import BetterSqlite3 from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startSmtpChild } from './children.js';
import { startBenchServer } from './server.js';

const { values } = parseArgs({
  options: {
    supporters: { type: 'string', default: '1500' },
    concurrency: { type: 'string', default: '20' },
    timeout: { type: 'string', default: '300' },
  },
});
const total = Number(values.supporters);
const concurrency = Number(values.concurrency);
const timeoutMs = Number(values.timeout) * 1000;
const adminToken = 'bench-admin-token-0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'signet-surge-'));
const databasePath = join(dir, 'signet.db');

const smtp = await startSmtpChild();
const server = await startBenchServer({ DATABASE_PATH: databasePath, DATA_DIR: dir, ADMIN_TOKEN: adminToken, SMTP_URL: smtp.url, TRUST_PROXY: 'true' });
const api = `${server.url}/api/v1`;
const headers = { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` };
await fetch(`${api}/campaigns`, { method: 'POST', headers, body: JSON.stringify({ slug: 'surge', title: 'Surge', locale: 'en' }) });
await fetch(`${api}/campaigns/surge`, { method: 'PATCH', headers, body: JSON.stringify({ status: 'open' }) });

const addresses = Array.from({ length: total }, (_, i) => `supporter${i}@surge.example`);
const clientIp = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const answers = new Map<number, number>();
const start = Date.now();
let next = 0;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < total) {
      const i = next++;
      const response = await fetch(`${api}/campaigns/surge/signatures`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': clientIp(i + 1) },
        body: JSON.stringify({ name: `Supporter ${i}`, email: addresses[i], country: 'JP', region: 'JP-13', consent: { nameOnLetter: 'initials' } }),
      });
      await response.arrayBuffer();
      answers.set(response.status, (answers.get(response.status) ?? 0) + 1);
    }
  }),
);
const signedMs = Date.now() - start;

let report = await smtp.report(addresses);
while (report.firstArrival.some((at) => at === null) && Date.now() - start < timeoutMs) {
  await new Promise((resolve) => setTimeout(resolve, 1000));
  report = await smtp.report(addresses);
}
// A little longer, so a duplicate sent late would be seen.
await new Promise((resolve) => setTimeout(resolve, 3000));
report = await smtp.report(addresses);
await server.stop();
smtp.stop();

const db = new BetterSqlite3(databasePath, { readonly: true });
const held = (db.prepare('select count(*) as n from signature_submissions').get() as { n: number }).n;
const queued = (db.prepare('select count(*) as n from outbox').get() as { n: number }).n;
db.close();
rmSync(dir, { recursive: true, force: true });

const arrivals = report.firstArrival.filter((at): at is number => at !== null).map((at) => at - start);
const perMinute: number[] = [];
for (const at of arrivals) perMinute[Math.floor(at / 60_000)] = (perMinute[Math.floor(at / 60_000)] ?? 0) + 1;
const result = {
  supporters: total,
  answered: Object.fromEntries(answers),
  signedWithinMs: signedMs,
  held,
  queued,
  emailed: arrivals.length,
  duplicates: report.duplicates,
  lastEmailAfterMs: arrivals.length ? Math.max(...arrivals) : null,
  emailsPerMinute: Array.from(perMinute, (n) => n ?? 0),
  node: process.version,
};
console.log(JSON.stringify(result));
if (answers.get(202) !== total || held !== total || arrivals.length !== total || report.duplicates !== 0) {
  console.error('surge: not every supporter was held and emailed exactly once');
  process.exit(1);
}
