/**
 * A flood (issue #17): 200 IPv6 /64s send junk signing requests at the per-IP
 * limit while 50 real supporters sign, each from their own address. The
 * real `signet serve` runs in a child process with its mail sender on
 * (TRUST_PROXY, CONFIRM_EMAILS_PER_MINUTE 600, CONFIRM_EMAIL_LIMIT 3/3600s),
 * an SMTP server on 127.0.0.1 in another. SIGN_RATE_LIMIT is 5/60s, so that
 * the junk allowed through (1,000 a minute) is more than the minute's 600
 * emails, for the whole run: the confirmation lane has a backlog throughout.
 *
 *   npx tsx bench/flood.ts [--sources 200] [--real 50] [--minutes 3]
 *
 * Each /64 sends its 5 requests at the start of every minute (and one more,
 * refused with 429); the real supporters sign one every 3 s from the start.
 * Prints p50/p99/max of the real supporters' wait (from their 202 to their
 * email reaching the SMTP server) and fails unless every real supporter was
 * emailed within 2 minutes, every 202 was held, and nobody got an email twice.
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
    sources: { type: 'string', default: '200' },
    real: { type: 'string', default: '50' },
    minutes: { type: 'string', default: '3' },
  },
});
const sources = Number(values.sources);
const realCount = Number(values.real);
const minutes = Number(values.minutes);
const PER_SOURCE = 5;
const adminToken = 'bench-admin-token-0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'signet-flood-'));
const databasePath = join(dir, 'signet.db');

const smtp = await startSmtpChild();
const server = await startBenchServer({ DATABASE_PATH: databasePath, DATA_DIR: dir, ADMIN_TOKEN: adminToken, SMTP_URL: smtp.url, TRUST_PROXY: 'true', SIGN_RATE_LIMIT: `${PER_SOURCE}/60s` });
const api = `${server.url}/api/v1`;
const headers = { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` };
await fetch(`${api}/campaigns`, { method: 'POST', headers, body: JSON.stringify({ slug: 'flood', title: 'Flood', locale: 'en' }) });
await fetch(`${api}/campaigns/flood`, { method: 'PATCH', headers, body: JSON.stringify({ status: 'open' }) });

const answers = new Map<number, number>();
async function sign(email: string, ip: string): Promise<number> {
  const response = await fetch(`${api}/campaigns/flood/signatures`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
    body: JSON.stringify({ name: 'Someone', email, country: 'JP', consent: { nameOnLetter: 'none' } }),
  });
  await response.arrayBuffer();
  answers.set(response.status, (answers.get(response.status) ?? 0) + 1);
  return response.status;
}

/** One minute's junk: every /64 at its limit, and one over it; 20 at a time. */
async function junkMinute(minute: number) {
  const requests: [string, string][] = [];
  for (let source = 1; source <= sources; source++) {
    // Addresses within one /64: one client for the rate limit and the lane.
    for (let n = 0; n <= PER_SOURCE; n++) requests.push([`junk-${minute}-${source}-${n}@flood.example`, `2001:db8:${source.toString(16)}::${n + 1}`]);
  }
  let next = 0;
  await Promise.all(Array.from({ length: 20 }, async () => {
    while (next < requests.length) {
      const [email, ip] = requests[next++]!;
      await sign(email, ip);
    }
  }));
}

const start = Date.now();
const signedAt = new Map<string, number>();
const flood = (async () => {
  for (let minute = 0; minute < minutes; minute++) {
    const due = start + minute * 60_000;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
    await junkMinute(minute);
  }
})();
const real = (async () => {
  for (let i = 0; i < realCount; i++) {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, start + 1_000 + i * 3_000 - Date.now())));
    const email = `real${i}@people.example`;
    const status = await sign(email, `198.51.${100 + (i >> 8)}.${i & 255}`);
    if (status !== 202) throw new Error(`a real supporter was answered ${status}`);
    signedAt.set(email, Date.now());
  }
})();
await Promise.all([flood, real]);

const realAddresses = [...signedAt.keys()];
const deadline = Math.max(...signedAt.values()) + 120_000;
let report = await smtp.report(realAddresses);
while (report.firstArrival.some((at) => at === null) && Date.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 1000));
  report = await smtp.report(realAddresses);
}
await server.stop();
report = await smtp.report(realAddresses);
smtp.stop();

const db = new BetterSqlite3(databasePath, { readonly: true });
const held = (db.prepare('select count(*) as n from signature_submissions').get() as { n: number }).n;
const waiting = (db.prepare(`select count(*) as n from outbox where status = 'pending'`).get() as { n: number }).n;
db.close();
rmSync(dir, { recursive: true, force: true });

const waits = realAddresses.map((email, i) => (report.firstArrival[i] === null ? Infinity : report.firstArrival[i]! - signedAt.get(email)!)).sort((a, b) => a - b);
const percentile = (p: number) => waits[Math.min(waits.length - 1, Math.ceil((p / 100) * waits.length) - 1)]!;
const result = {
  sources,
  realSupporters: realCount,
  minutes,
  answered: Object.fromEntries(answers),
  held,
  emailsSent: report.accepted,
  stillWaitingAtStop: waiting,
  duplicates: report.duplicates,
  realWaitMs: { p50: percentile(50), p99: percentile(99), max: waits[waits.length - 1] },
  node: process.version,
};
console.log(JSON.stringify(result));
if (held !== answers.get(202) || waits.some((wait) => wait > 120_000) || report.duplicates !== 0) {
  console.error('flood: a real supporter waited more than 2 minutes, a 202 was not held, or an email went twice');
  process.exit(1);
}
