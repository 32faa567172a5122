/**
 * The supporters' pages over HTTP: the campaign page and the signing form
 * post, beside GET /healthz measured the same way in the same run.
 *
 *   npx tsx bench/pages.ts [--seconds 10] [--connections 50]
 *
 * The real `signet serve` runs in a child process on a temporary database
 * (rate limit and mail sender off) with a Japanese campaign: a Markdown body,
 * the seven Chinese missions as targets and ten recent public supporters, so
 * the page is as heavy as a real one. autocannon measures (a) GET /healthz,
 * (b) GET /c/:slug?lang=ja, (c) POST /c/:slug/sign, a form post with a
 * distinct email each (a form token taken from the page once; tokens live
 * four hours). Prints requests/s, latency and the page's weight (HTML, CSS,
 * scripts), and checks that every accepted form post stored its signing request.
 */
import autocannon from 'autocannon';
import BetterSqlite3 from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { saveBenchOrganisation, startBenchServer } from './server.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '50' } } });
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const adminToken = 'bench-admin-token-0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'signet-bench-pages-'));
const databasePath = join(dir, 'signet.db');

const server = await startBenchServer({ DATABASE_PATH: databasePath, DATA_DIR: dir, ADMIN_TOKEN: adminToken, SIGN_RATE_LIMIT: 'off', CONFIRM_EMAILS_PER_MINUTE: 'off', MAIL_SENDER: 'off' });
await saveBenchOrganisation(server.url, adminToken);
const api = `${server.url}/api/v1`;
const organiser = { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` };

const missions = JSON.parse(readFileSync('letters/targets/china-missions-japan.json', 'utf8')) as { targets: unknown[] };
const imported = (await (await fetch(`${api}/targets/import`, { method: 'POST', headers: organiser, body: JSON.stringify(missions) })).json()) as { ids: string[] };
const body = `## なぜ今なのか\n\n毎年**9月22日**の「世界北朝鮮難民救援の日」に、署名を添えた請願書を大使館と総領事館に届けます。\n\n- 強制送還の停止\n- 国連難民高等弁務官事務所への面会の許可\n\n詳しくは https://example.org/refugees をご覧ください。`;
await fetch(`${api}/campaigns`, {
  method: 'POST',
  headers: organiser,
  body: JSON.stringify({ slug: 'bench', title: '北朝鮮難民の強制送還をやめてください', summary: '中国で捕らえられた北朝鮮難民は、送還されると拷問や強制収容の危険にさらされます。', body, locale: 'ja', timeZone: 'Asia/Tokyo', goal: 10000, targetIds: imported.ids }),
});
await fetch(`${api}/campaigns/bench`, { method: 'PATCH', headers: organiser, body: JSON.stringify({ status: 'open' }) });
for (let i = 0; i < 10; i++) {
  await fetch(`${api}/campaigns/bench/signatures`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: `山田 花子${i}`, email: `public${i}@example.org`, country: 'JP', locale: 'ja', consent: { nameOnLetter: 'full', showPublicly: true, updates: false } }),
  });
}
// Confirming needs the mailed tokens; for the bench the recent list only needs confirmed rows.
const setup = new BetterSqlite3(databasePath);
setup.prepare("update signatures set status = 'confirmed', confirmed_at = ?").run(Date.now());
setup.close();

const page = await fetch(`${server.url}/c/bench?lang=ja`);
const html = await page.text();
const stylesheet = /<link rel="stylesheet" href="([^"]+)"/.exec(html)?.[1];
const css = stylesheet ? await (await fetch(`${server.url}${stylesheet}`)).text() : '';
const scripts = (html.match(/<script\b/g) ?? []).length;
const formToken = /name="_token" value="([^"]+)"/.exec(html)?.[1];
// The recent public supporters are on the page (East Asian names shortened to one character).
if (!page.ok || !formToken || !html.includes('山.')) throw new Error(`unexpected campaign page (${page.status})`);

function run(options: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => autocannon(options, (error, result) => (error ? reject(error) : resolve(result))));
}
const summarise = (name: string, result: autocannon.Result) => ({
  name,
  requestsPerSecond: Math.round(result['2xx'] / (result.duration || seconds)),
  p50ms: result.latency.p50,
  p99ms: result.latency.p99,
  answered: result['2xx'] + result.non2xx,
  non2xx: result.non2xx,
  errors: result.errors + result.timeouts,
});

const hello = await run({ url: `${server.url}/healthz`, connections, duration: seconds });
const campaign = await run({ url: `${server.url}/c/bench?lang=ja`, connections, duration: seconds });
let counter = 0;
// A 303 to the thanks page is success; autocannon counts 3xx as non-2xx, so they are counted by status.
let redirected = 0;
const sign = await run({
  url: `${server.url}/c/bench/sign`,
  connections,
  duration: seconds,
  requests: [
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server.url },
      setupRequest: (request) => {
        counter += 1;
        request.body = new URLSearchParams({
          _token: formToken,
          lang: 'ja',
          name: `支援者 ${counter}`,
          email: `supporter${counter}@example.org`,
          country: 'JP',
          region: '',
          city: '',
          postalCode: '',
          comment: '',
          nameOnLetter: 'initials',
          showPublicly: 'no',
          updates: 'yes',
          website: '',
        }).toString();
        return request;
      },
      onResponse: (status) => {
        if (status === 303) redirected++;
      },
    },
  ],
});
await server.stop();

const db = new BetterSqlite3(databasePath, { readonly: true });
const stored = (db.prepare("select count(*) as n from signature_submissions where email_normalized like 'supporter%'").get() as { n: number }).n;
db.close();
rmSync(dir, { recursive: true, force: true });

const rows = [
  summarise('GET /healthz', hello),
  summarise('GET /c/:slug?lang=ja', campaign),
  { ...summarise('POST /c/:slug/sign (303)', sign), requestsPerSecond: Math.round(redirected / (sign.duration || seconds)) },
];
console.table(rows);
const weight = { htmlBytes: Buffer.byteLength(html), cssBytes: Buffer.byteLength(css), scripts };
console.log(`Campaign page: ${weight.htmlBytes} bytes of HTML, ${weight.cssBytes} bytes of CSS (cached for a year), ${scripts} scripts`);
console.log(JSON.stringify({ seconds, connections, rows, weight, formPostsRedirected: redirected, signaturesStored: stored, node: process.version }));
// Posts still in flight when the clock stopped are stored but not counted as answered.
if (stored < redirected) {
  console.error(`Lost writes: ${redirected} form posts answered 303, ${stored} signing requests stored`);
  process.exit(1);
}
