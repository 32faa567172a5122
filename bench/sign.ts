/**
 * Signature intake over HTTP with durable commits (WAL, synchronous=FULL),
 * beside GET /healthz measured the same way in the same run.
 *
 *   npx tsx bench/sign.ts [--seconds 15] [--connections 100]
 *
 * The server runs in a child process (the real `signet serve` on a temp
 * database, rate limit off, mail sender off so only intake is measured);
 * autocannon runs here. Everything stays on 127.0.0.1.
 */
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '15' }, connections: { type: 'string', default: '100' } },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const adminToken = 'bench-admin-token-0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'signet-bench-'));
const databasePath = join(dir, 'signet.db');

async function startServer(): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_PATH: databasePath,
      DATA_DIR: dir,
      ADMIN_TOKEN: adminToken,
      SIGN_RATE_LIMIT: 'off',
      MAIL_SENDER: 'off',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+)"/.exec(buffer);
      if (match) resolve(match[1]!);
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        child.on('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

function run(options: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

function summarise(name: string, result: autocannon.Result) {
  const ok = result['2xx'];
  return {
    name,
    requestsPerSecond: Math.round(ok / (result.duration || seconds)),
    p50ms: result.latency.p50,
    p99ms: result.latency.p99,
    ok,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

const server = await startServer();
const api = `${server.url}/api/v1`;
const headers = { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` };
await fetch(`${api}/campaigns`, { method: 'POST', headers, body: JSON.stringify({ slug: 'bench', title: 'Bench', locale: 'ja' }) });
await fetch(`${api}/campaigns/bench`, { method: 'PATCH', headers, body: JSON.stringify({ status: 'open' }) });

const hello = summarise('GET /healthz', await run({ url: `${server.url}/healthz`, connections, duration: seconds }));

let counter = 0;
const signResult = await run({
  url: `${api}/campaigns/bench/signatures`,
  connections,
  duration: seconds,
  requests: [
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      setupRequest: (request) => {
        counter += 1;
        request.body = JSON.stringify({
          name: `支援者 ${counter}`,
          email: `supporter${counter}@example.org`,
          country: 'JP',
          region: 'JP-13',
          city: 'Tokyo',
          consent: { nameOnLetter: 'initials', showPublicly: false, updates: true },
        });
        return request;
      },
    },
  ],
});
const sign = summarise('POST /campaigns/:slug/signatures', signResult);
await server.stop();

const db = new BetterSqlite3(databasePath, { readonly: true });
const stored = db.prepare('select count(*) as n from signatures').get() as { n: number };
const queued = db.prepare('select count(*) as n from outbox').get() as { n: number };
db.close();
rmSync(dir, { recursive: true, force: true });

console.table([hello, sign]);
console.log(JSON.stringify({ seconds, connections, hello, sign, signaturesStored: stored.n, emailsQueued: queued.n, node: process.version }));
if (stored.n !== sign.ok || queued.n !== sign.ok) {
  console.error(`Mismatch: ${sign.ok} accepted, ${stored.n} signatures and ${queued.n} emails stored`);
  process.exit(1);
}
