/**
 * Signature intake against the Worker in workerd (`npm run worker:dev`:
 * wrangler dev --local, Miniflare's D1 and queues), beside GET /healthz
 * measured the same way in the same run. The Node figure comes from
 * bench/sign.ts.
 *
 *   npx tsx bench/worker-sign.ts [--seconds 15] [--connections 50] [--sign-rate-limit off|N/Ss]
 *
 * Unlike bench/sign.ts the outbox is live: each accepted signature's
 * confirmation is dispatched to the queue after the response and sent by the
 * queue consumer to an SMTP server on 127.0.0.1, as in production. At the end
 * the local D1 is read with `wrangler d1 execute` to check that every
 * accepted signature was stored with its email. Everything stays on 127.0.0.1.
 *
 * `--sign-rate-limit` (SIGN_RATE_LIMIT, default off) measures the per-client
 * limit's cost: with a limit no run reaches (e.g. 100000000/300s) every
 * request counts one hit in D1, on one key (every request comes from
 * 127.0.0.1), the busiest a counter can be.
 */
import autocannon from 'autocannon';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startSmtpServer } from '../test/mail/helpers/smtp-server.js';
import { startWorkerDevProcess } from '../test/helpers/worker-dev-process.js';
import { wranglerBin, wranglerEnv } from '../test/helpers/wrangler-dev.js';
import { signingRequests } from './server.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    connections: { type: 'string', default: '50' },
    'sign-rate-limit': { type: 'string', default: 'off' },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const adminToken = 'bench-admin-token-0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'signet-bench-worker-'));
const persistTo = join(dir, 'state');

function run(options: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

function summarise(name: string, result: autocannon.Result) {
  const ok = result['2xx'];
  return { name, requestsPerSecond: Math.round(ok / (result.duration || seconds)), p50ms: result.latency.p50, p99ms: result.latency.p99, ok, non2xx: result.non2xx, errors: result.errors + result.timeouts };
}

function countRows(table: string): number {
  const out = execFileSync(wranglerBin, ['d1', 'execute', 'DB', '--local', '--persist-to', persistTo, '--json', '--command', `select count(*) as n from ${table}`], {
    encoding: 'utf8',
    env: wranglerEnv(dir),
  });
  return (JSON.parse(out) as { results: { n: number }[] }[])[0]!.results[0]!.n;
}

const smtp = await startSmtpServer();
const worker = await startWorkerDevProcess({
  ADMIN_TOKEN: adminToken,
  SMTP_URL: smtp.url,
  SIGN_RATE_LIMIT: values['sign-rate-limit'],
  CONFIRM_EMAILS_PER_MINUTE: 'off',
  LOG_LEVEL: 'warn',
  WRANGLER_PERSIST_TO: persistTo,
});
const api = `${worker.url}/api/v1`;
const headers = { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` };
await fetch(`${api}/campaigns`, { method: 'POST', headers, body: JSON.stringify({ slug: 'bench', title: 'Bench', locale: 'ja' }) });
await fetch(`${api}/campaigns/bench`, { method: 'PATCH', headers, body: JSON.stringify({ status: 'open' }) });

const hello = summarise('GET /healthz', await run({ url: `${worker.url}/healthz`, connections, duration: seconds }));
const sign = summarise(
  'POST /campaigns/:slug/signatures',
  await run({
    url: `${api}/campaigns/bench/signatures`,
    connections,
    duration: seconds,
    requests: signingRequests(),
  }),
);
// Let the queue drain a little, then stop the Worker so local D1 is quiet before it is read.
const drainStarted = Date.now();
while (smtp.received.length < sign.ok && Date.now() - drainStarted < 60_000) {
  await worker.tick();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
}
const drainSeconds = (Date.now() - drainStarted) / 1000;
await worker.stop().catch(() => {});
// worker.stop removes its own temp dir, but the state is under ours.
const stored = countRows('signature_submissions');
const queued = countRows('outbox');
await smtp.close();
rmSync(dir, { recursive: true, force: true });

console.table([hello, sign]);
console.log(JSON.stringify({ runtime: 'workerd (wrangler dev --local)', seconds, connections, signRateLimit: values['sign-rate-limit'], hello, sign, signaturesStored: stored, emailsQueued: queued, emailsDelivered: smtp.received.length, drainSeconds, node: process.version }));
if (stored < sign.ok || queued !== stored) {
  console.error(`Lost writes: ${sign.ok} accepted, ${stored} signing requests and ${queued} emails stored`);
  process.exit(1);
}
