/**
 * The supporters' front door under a surge (issue #22): the campaign page and the public campaign
 * JSON, each while supporters sign through the page's form at the same time (one signature for
 * every ten views), beside a plain `node:http` hello-world measured the same way in the same run.
 *
 *   npx tsx bench/pages.ts [--seconds 15] [--connections 50] [--rounds 3]
 *
 * The real `signet serve` runs in a child process on a temporary SQLite file (durable commits,
 * rate limit and mail sender off) with a Japanese campaign as heavy as a real one: a Markdown
 * body, the seven Chinese missions as targets and ten recent public supporters. The hello-world
 * runs in another child process. autocannon measures, in --rounds slices taken in turn (hello,
 * page, hello, JSON, …, so that a neighbour's load on a shared machine weighs on all alike):
 * GET /c/:slug?lang=ja and GET /api/v1/campaigns/:slug. Meanwhile signers here post the signing
 * form on their own connections (a distinct email each, the form token taken from the page once:
 * every visitor of the hour shares it), one for every ten views answered. Prints views/s,
 * p50/p99 of the views, the ratios to the hello-world (issue #22: page ≥ 10 % with p99 < 50 ms,
 * JSON ≥ 20 %), the views per signature reached, and fails unless every form post answered 303
 * and was stored.
 */
import autocannon from 'autocannon';
import BetterSqlite3 from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startHelloWorld } from './children.js';
import { saveBenchOrganisation, startBenchServer } from './server.js';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '15' }, connections: { type: 'string', default: '50' }, rounds: { type: 'string', default: '3' } },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const rounds = Number(values.rounds);
const adminToken = 'bench-admin-token-0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'signet-bench-pages-'));
const databasePath = join(dir, 'signet.db');

const helloWorld = await startHelloWorld();
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
// The server reads the count and the recent list afresh within seconds (page-cache.ts).
await new Promise((resolve) => setTimeout(resolve, 5_500));

const pageUrl = `${server.url}/c/bench?lang=ja`;
const jsonUrl = `${api}/campaigns/bench`;
const page = await fetch(pageUrl);
const html = await page.text();
const stylesheet = /<link rel="stylesheet" href="([^"]+)"/.exec(html)?.[1];
const css = stylesheet ? await (await fetch(`${server.url}${stylesheet}`)).text() : '';
const scripts = (html.match(/<script\b/g) ?? []).length;
const formToken = /name="_token" value="([^"]+)"/.exec(html)?.[1];
// The recent public supporters are on the page (East Asian names shortened to one character).
if (!page.ok || !formToken || !html.includes('山.')) throw new Error(`unexpected campaign page (${page.status})`);
const headers = Object.fromEntries(['cache-control', 'etag', 'vary', 'set-cookie'].map((name) => [name, page.headers.get(name)]));

function run(options: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => autocannon(options, (error, result) => (error ? reject(error) : resolve(result))));
}

let signed = 0;
let redirected = 0;
let refused = 0;
const VIEWS_PER_SIGNATURE = 10;
/** Enough signers in flight that a slow commit never holds the ratio back. */
const SIGNERS = 32;

/**
 * The signers' HTTP client: node:http on kept-alive connections, as cheap as autocannon's own.
 * (fetch cost this process about a millisecond of CPU per post, on the core autocannon needs:
 * at 600 posts a second the load generator, not the server, set the pace.)
 */
const signerAgent = new Agent({ keepAlive: true, maxSockets: 32 });
const signUrl = new URL(`${server.url}/c/bench/sign`);

/** One supporter's form post, as the browser sends it from the page; its status. */
function postForm(body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { agent: signerAgent, host: signUrl.hostname, port: signUrl.port, path: signUrl.pathname, method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body), origin: server.url } },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

async function signOnce(): Promise<void> {
  signed += 1;
  const n = signed;
  const status = await postForm(
    new URLSearchParams({ _token: formToken!, lang: 'ja', name: `支援者 ${n}`, email: `supporter${n}@example.org`, country: 'JP', region: '', city: '', postalCode: '', comment: '', nameOnLetter: 'initials', showPublicly: 'no', updates: 'yes', website: '' }).toString(),
  );
  if (status === 303) redirected++;
  else refused++;
}

/**
 * `url` under autocannon while other supporters sign through the form: signers here post it
 * (on their own connections, as other people would) whenever fewer than one in ten of the views
 * answered so far has been matched by a signature.
 */
async function withSigning(url: string): Promise<{ result: autocannon.Result; views: number; signatures: number }> {
  let views = 0;
  let running = true;
  const signedBefore = signed;
  let wake: () => void = () => {};
  let viewed = new Promise<void>((resolve) => (wake = resolve));
  const signer = async () => {
    while (running) {
      if ((signed - signedBefore) * VIEWS_PER_SIGNATURE < views) await signOnce();
      else await viewed;
    }
  };
  const signers = Array.from({ length: SIGNERS }, signer);
  const result = await run({
    url,
    connections,
    duration: seconds / rounds,
    requests: [
      {
        method: 'GET',
        // As a browser asks: the built page is kept gzipped too (page-cache.ts).
        headers: { 'accept-encoding': 'gzip, deflate, br' },
        onResponse: (status) => {
          if (status !== 200) return;
          views++;
          if (views % VIEWS_PER_SIGNATURE !== 0) return;
          const woken = wake;
          viewed = new Promise<void>((resolve) => (wake = resolve));
          woken();
        },
      },
    ],
  });
  running = false;
  wake();
  await Promise.all(signers);
  return { result, views, signatures: signed - signedBefore };
}

type Measured = { name: string; requestsPerSecond: number; p50ms: number; p99ms: number; ok: number; non2xx: number; errors: number };

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

const hellos: autocannon.Result[] = [];
const pages: Awaited<ReturnType<typeof withSigning>>[] = [];
const jsons: Awaited<ReturnType<typeof withSigning>>[] = [];
for (let round = 0; round < rounds; round++) {
  hellos.push(await run({ url: helloWorld.url, connections, duration: seconds / rounds }));
  pages.push(await withSigning(pageUrl));
  hellos.push(await run({ url: helloWorld.url, connections, duration: seconds / rounds }));
  jsons.push(await withSigning(jsonUrl));
}
await server.stop();
helloWorld.stop();
signerAgent.destroy();

const db = new BetterSqlite3(databasePath, { readonly: true });
const stored = (db.prepare("select count(*) as n from signature_submissions where email_normalized like 'supporter%'").get() as { n: number }).n;
db.close();
rmSync(dir, { recursive: true, force: true });

// Each hello slice stands beside one page or JSON slice; the hello figure is over all of them.
const hello = { ...combine('node:http hello world', hellos), requestsPerSecond: Math.round(hellos.reduce((sum, r) => sum + r['2xx'], 0) / hellos.reduce((sum, r) => sum + (r.duration || seconds / rounds), 0)) };
const campaign = combine('GET /c/:slug?lang=ja (+ signing)', pages.map((slice) => slice.result));
const json = combine('GET /api/v1/campaigns/:slug (+ signing)', jsons.map((slice) => slice.result));
const percent = (measured: Measured) => Math.round((measured.requestsPerSecond / hello.requestsPerSecond) * 1000) / 10;
console.table([hello, campaign, json].map((row) => ({ ...row, ofHelloPercent: row === hello ? 100 : percent(row) })));
const weight = { htmlBytes: Buffer.byteLength(html), cssBytes: Buffer.byteLength(css), scripts };
console.log(`Campaign page: ${weight.htmlBytes} bytes of HTML, ${weight.cssBytes} bytes of CSS (cached for a year), ${scripts} scripts; headers ${JSON.stringify(headers)}`);
console.log(
  JSON.stringify({
    seconds,
    connections,
    rounds,
    hello,
    campaign: { ...campaign, ofHelloPercent: percent(campaign) },
    json: { ...json, ofHelloPercent: percent(json) },
    formPosts: signed,
    viewsPerSignature: {
      page: Math.round((pages.reduce((sum, slice) => sum + slice.views, 0) / Math.max(1, pages.reduce((sum, slice) => sum + slice.signatures, 0))) * 10) / 10,
      json: Math.round((jsons.reduce((sum, slice) => sum + slice.views, 0) / Math.max(1, jsons.reduce((sum, slice) => sum + slice.signatures, 0))) * 10) / 10,
    },
    formPostsRedirected: redirected,
    formPostsRefused: refused,
    signaturesStored: stored,
    weight,
    node: process.version,
  }),
);
const notViews = campaign.non2xx + json.non2xx;
if (refused > 0 || stored !== redirected || notViews > 0) {
  console.error(`Lost or refused: ${signed} form posts, ${redirected} answered 303, ${refused} refused, ${stored} signing requests stored; ${notViews} views not 200`);
  process.exit(1);
}
