/**
 * Signature intake over HTTP with durable commits (WAL, synchronous=FULL)
 * and the confirmation sender running, beside a plain node:http hello-world
 * measured the same way in the same run (PRODUCT.md §7: intake ≥ 12 % of it,
 * p99 < 50 ms, every 202 held).
 *
 *   npx tsx bench/sign.ts [--seconds 15] [--connections 100] [--rounds 5] [--tool autocannon|wrk] [--confirm-emails-per-minute off|N]
 *
 * The server runs in a child process (the real `signet serve` on a temp
 * database, rate limit off, its mail sender on and sending to an SMTP server
 * in another child process); the hello-world runs in a third. autocannon runs
 * here, in --rounds slices of each taken in turn (hello, sign, hello, …), or wrk (Debian package `wrk`, lighter on the shared CPU) with --tool
 * wrk. `--confirm-emails-per-minute` is the server's CONFIRM_EMAILS_PER_MINUTE
 * (default `off`, so the sender sends every confirmation while intake is
 * measured: the heaviest case). Everything stays on 127.0.0.1.
 */
import autocannon from 'autocannon';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { startHelloWorld, startSmtpChild } from './children.js';
import { signingRequests, startBenchServer } from './server.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    connections: { type: 'string', default: '100' },
    tool: { type: 'string', default: 'autocannon' },
    'confirm-emails-per-minute': { type: 'string', default: 'off' },
    rounds: { type: 'string', default: '5' },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const rounds = Number(values.rounds);
const adminToken = 'bench-admin-token-0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'signet-bench-'));
const databasePath = join(dir, 'signet.db');

const smtp = await startSmtpChild();
const helloWorld = await startHelloWorld();

function startServer() {
  return startBenchServer({
    DATABASE_PATH: databasePath,
    DATA_DIR: dir,
    ADMIN_TOKEN: adminToken,
    SIGN_RATE_LIMIT: 'off',
    CONFIRM_EMAILS_PER_MINUTE: values['confirm-emails-per-minute'],
    SMTP_URL: smtp.url,
  });
}

type Measured = { name: string; requestsPerSecond: number; p50ms: number; p99ms: number; ok: number; non2xx: number; errors: number };

const signBodyLua = `'{"name":"Supporter %d","email":"s%d-%d@example.org","country":"JP","region":"JP-13","city":"Tokyo","consent":{"nameOnLetter":"initials","updates":true}}'`;

/** Runs wrk and reads its summary; 2xx counts come from a Lua done() hook. */
function runWrk(name: string, url: string, script: string | null): Measured {
  const luaPath = join(dir, 'bench.lua');
  writeFileSync(
    luaPath,
    `${script ?? ''}
local ok, bad = 0, 0
response = function(status) if status >= 200 and status < 300 then ok = ok + 1 else bad = bad + 1 end end
done = function(summary, latency)
  io.write(string.format("RESULT %d %d %d %.3f %.3f %d\\n", summary.requests, summary.duration, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status))
end
`,
  );
  // response() runs per thread, so use one thread; the server is the bottleneck, not wrk.
  const out = execFileSync('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '-s', luaPath, url], { encoding: 'utf8' });
  const match = /RESULT (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+) (\d+)/.exec(out);
  if (!match) throw new Error(`unexpected wrk output:\n${out}`);
  const [, requests, durationUs, errors, p50, p99, non2xx] = match.map(Number) as number[];
  return { name, requestsPerSecond: Math.round((requests! - non2xx!) / (durationUs! / 1e6)), p50ms: p50!, p99ms: p99!, ok: requests! - non2xx!, non2xx: non2xx!, errors: errors! - non2xx! };
}

function run(options: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

/** Slices of one measurement as one: requests over the summed time, the median slice's p50 and the worst slice's p99. */
function combine(name: string, results: autocannon.Result[]): Measured {
  const ok = results.reduce((sum, result) => sum + result['2xx'], 0);
  const duration = results.reduce((sum, result) => sum + (result.duration || seconds / rounds), 0);
  const p50s = results.map((result) => result.latency.p50).sort((a, b) => a - b);
  return {
    name,
    requestsPerSecond: Math.round(ok / duration),
    p50ms: p50s[Math.floor(p50s.length / 2)]!,
    p99ms: Math.max(...results.map((result) => result.latency.p99)),
    ok,
    non2xx: results.reduce((sum, result) => sum + result.non2xx, 0),
    errors: results.reduce((sum, result) => sum + result.errors + result.timeouts, 0),
  };
}

const server = await startServer();
const api = `${server.url}/api/v1`;
const headers = { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` };
await fetch(`${api}/campaigns`, { method: 'POST', headers, body: JSON.stringify({ slug: 'bench', title: 'Bench', locale: 'ja' }) });
await fetch(`${api}/campaigns/bench`, { method: 'PATCH', headers, body: JSON.stringify({ status: 'open' }) });

let hello: Measured;
let sign: Measured;
if (values.tool === 'wrk') {
  hello = runWrk('node:http hello world', helloWorld.url, null);
  sign = runWrk(
    'POST /campaigns/:slug/signatures',
    `${api}/campaigns/bench/signatures`,
    `counter = 0
request = function()
  counter = counter + 1
  local body = string.format(${signBodyLua}, counter, counter, math.random(1, 1000000000))
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end`,
  );
} else {
  // Slices taken in turn, so that a neighbour's load on this shared machine weighs on both alike.
  const slice = seconds / rounds;
  const hellos: autocannon.Result[] = [];
  const signs: autocannon.Result[] = [];
  for (let round = 0; round < rounds; round++) {
    hellos.push(await run({ url: helloWorld.url, connections, duration: slice }));
    signs.push(await run({ url: `${api}/campaigns/bench/signatures`, connections, duration: slice, requests: signingRequests() }));
  }
  hello = combine('node:http hello world', hellos);
  sign = combine('POST /campaigns/:slug/signatures', signs);
}
await server.stop();
helloWorld.stop();
const mailed = await smtp.report();
smtp.stop();

const db = new BetterSqlite3(databasePath, { readonly: true });
// A signature is held as a signing request until its link is used; every accepted one must be there with its email.
const stored = db.prepare('select count(*) as n from signature_submissions').get() as { n: number };
const queued = db.prepare('select count(*) as n from outbox').get() as { n: number };
db.close();
rmSync(dir, { recursive: true, force: true });

const ratio = Math.round((sign.requestsPerSecond / hello.requestsPerSecond) * 1000) / 10;
console.table([hello, sign]);
console.log(
  JSON.stringify({
    tool: values.tool,
    seconds,
    connections,
    confirmEmailsPerMinute: values['confirm-emails-per-minute'],
    hello,
    sign,
    ratioPercent: ratio,
    signaturesStored: stored.n,
    emailsQueued: queued.n,
    emailsSentWhileMeasured: mailed.accepted,
    duplicates: mailed.duplicates,
    node: process.version,
  }),
);
// Requests still in flight when the clock stopped are stored but not counted as answered.
if (stored.n < sign.ok || queued.n !== stored.n) {
  console.error(`Lost writes: ${sign.ok} accepted, ${stored.n} signing requests and ${queued.n} emails stored`);
  process.exit(1);
}
