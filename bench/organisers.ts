/**
 * The organisers' features of issue #12, measured on this machine:
 *
 *   npx tsx bench/organisers.ts                       # every part, about 3 minutes on 2 cores
 *   npx tsx bench/organisers.ts --part passwords      # one part: passwords | og | server | letters
 *   npx tsx bench/organisers.ts --supporters 10000 --renders 30 --requests 2000 --connections 20
 *
 * 1. Password hashing: the Node scrypt hasher (N=2^17, r=8, p=1) and the WebCrypto PBKDF2 one
 *    (100,000 iterations), one at a time and all at once, in a child process whose peak RSS
 *    (getrusage maxRSS) shows what the scrypts running together hold.
 * 2. Open Graph cards: the first render (resvg's wasm and the fonts loaded), then warm renders of
 *    an English and a Japanese title, in a child process; then `/c/:slug/og.png` over HTTP from
 *    the real `signet serve` on 127.0.0.1 (its cache), a bounded number of requests.
 * 3. Routing by jurisdiction: the seven Chinese missions and N confirmed supporters spread over the
 *    47 prefectures by population, seeded straight into the server's SQLite file; the routing
 *    preview over HTTP, then per_target letters routed `all` and `jurisdiction`, each generated in
 *    a fresh child process (wall time, pages, peak RSS).
 * 4. Campaign-limited tokens: the organiser list of signatures with a token for the whole
 *    organisation and one limited to the campaign, alternately, a bounded number of requests.
 */
import autocannon from 'autocannon';
import BetterSqlite3 from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { newId } from '../src/lib/ids.js';
import { saveBenchOrganisation, startBenchServer } from './server.js';

const { values } = parseArgs({
  options: {
    part: { type: 'string', multiple: true },
    child: { type: 'string' },
    routing: { type: 'string' },
    supporters: { type: 'string', default: '10000' },
    renders: { type: 'string', default: '30' },
    requests: { type: 'string', default: '2000' },
    connections: { type: 'string', default: '20' },
    database: { type: 'string' },
    data: { type: 'string' },
  },
});
const supporters = Number(values.supporters);
const renders = Number(values.renders);
const requests = Number(values.requests);
const connections = Number(values.connections);

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const stats = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return { n: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95), min: sorted[0]!, max: sorted[sorted.length - 1]! };
};
const ms = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(1));
const mb = (bytes: number) => bytes / 1024 / 1024;
const maxRssMb = () => process.resourceUsage().maxRSS / 1024;

async function timed<T>(task: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await task();
  return [result, performance.now() - started];
}

/* ---------------------------------------------------------------- children ---------------------------------------------------------------- */

/** Part 1, in a fresh process: one at a time (ms each), then a burst all at once (per second, and the peak memory it takes). */
async function passwordsChild(): Promise<void> {
  const { ScryptPasswordHasher } = await import('../src/entry/node-passwords.js');
  const { Pbkdf2PasswordHasher } = await import('../src/lib/passwords.js');
  const password = 'correct horse battery staple';
  const baseRssMb = mb(process.memoryUsage().rss);
  const result: Record<string, unknown> = { baseRssMb, threadpool: Number(process.env.UV_THREADPOOL_SIZE ?? 4) };
  for (const [name, hasher, sequential, burst] of [
    ['pbkdf2', new Pbkdf2PasswordHasher(), 10, 24],
    ['scrypt', new ScryptPasswordHasher(), 8, 16],
  ] as const) {
    const stored = await hasher.hash(password); // warm-up
    await hasher.verify(password, stored);
    const hashMs: number[] = [];
    const verifyMs: number[] = [];
    // CPU time of the whole process (the threadpool's threads included): what a hash costs whatever else the machine runs.
    const cpuBefore = process.cpuUsage();
    for (let i = 0; i < sequential; i++) hashMs.push((await timed(() => hasher.hash(password)))[1]);
    for (let i = 0; i < sequential; i++) {
      const [ok, took] = await timed(() => hasher.verify(password, stored));
      if (!ok) throw new Error(`${name}: the right password was refused`);
      verifyMs.push(took);
    }
    const cpu = process.cpuUsage(cpuBefore);
    const cpuMsEach = (cpu.user + cpu.system) / 1000 / (2 * sequential);
    const sequentialPeakMb = maxRssMb();
    // A burst of sign-ins: every verify started at once, as concurrent requests from as many clients would.
    const burstStarted = performance.now();
    const verifying = Promise.all(Array.from({ length: burst }, (_, i) => hasher.verify(i % 2 ? password : 'wrong password 123', stored, { source: `client ${i}`, trusted: false })));
    // Meanwhile, a small file read: node:fs, dns.lookup and WebCrypto share libuv's threadpool with the hashes.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const [, fileReadMs] = await timed(() => readFile(fileURLToPath(import.meta.url)));
    const outcomes = await verifying;
    const burstMs = performance.now() - burstStarted;
    if (outcomes.filter(Boolean).length !== burst / 2) throw new Error(`${name}: wrong verify outcomes in the burst`);
    result[name] = { stored: stored.slice(0, stored.lastIndexOf('$', stored.lastIndexOf('$') - 1)), hash: stats(hashMs), verify: stats(verifyMs), cpuMsEach, sequentialPeakMb, burst, burstMs, fileReadMs, perSecond: burst / (burstMs / 1000), burstPeakMb: maxRssMb() };
  }
  console.log(JSON.stringify(result));
}

/** Part 2a, in a fresh process: the first card (wasm, fonts), the first Japanese one (its Han face), then warm renders. */
async function ogChild(): Promise<void> {
  const { nodeOgImageRenderer } = await import('../src/entry/og-image-node.js');
  const renderer = nodeOgImageRenderer();
  const english = { language: 'en', title: 'Stop the forced repatriation of North Korean refugees', titleLanguage: 'en', countText: '12,345 of 20,000 signatures', progress: 0.617, organisation: 'Life Funds for North Korean Refugees' } as const;
  const japanese = { language: 'ja', title: '北朝鮮難民の強制送還をやめてください', titleLanguage: 'ja', countText: '目標20,000人のうち12,345人が署名', progress: 0.617, organisation: '北朝鮮難民救援基金' } as const;
  const [firstPng, coldEnglishMs] = await timed(() => renderer.render(english));
  const [, coldJapaneseMs] = await timed(() => renderer.render(japanese));
  const warm = async (card: typeof english | typeof japanese) => {
    const samples: number[] = [];
    let bytes = 0;
    for (let i = 0; i < renders; i++) {
      const [png, took] = await timed(() => renderer.render(card));
      samples.push(took);
      bytes = png.byteLength;
    }
    return { ...stats(samples), bytes };
  };
  const en = await warm(english);
  const ja = await warm(japanese);
  console.log(JSON.stringify({ coldEnglishMs, coldJapaneseMs, firstBytes: firstPng.byteLength, en, ja, peakRssMb: maxRssMb() }));
}

/** Part 3b, in a fresh process: one per_target batch of the campaign, as `signet letters generate` renders it. */
async function lettersChild(routing: 'all' | 'jurisdiction'): Promise<void> {
  const { loadSettings } = await import('../src/config.js');
  const { openServices, lettersDir } = await import('../src/entry/node.js');
  const { createLocalLetterPorts } = await import('../src/letters/node/letter-store.js');
  const { generateLetters } = await import('../src/services/letters.js');
  const { silentLogger } = await import('../src/lib/logger.js');
  const settings = loadSettings({ ...process.env, DATABASE_PATH: values.database, DATA_DIR: values.data });
  const { database, ctx } = await openServices(settings, silentLogger);
  const ports = createLocalLetterPorts({ lettersDir, dataDir: settings.DATA_DIR });
  try {
    const cpuBefore = process.cpuUsage();
    const [result, wallMs] = await timed(() => generateLetters(ctx, ports, 'routes', { mode: 'per_target', routing }));
    const cpu = process.cpuUsage(cpuBefore);
    const letters = result.letters.map((letter) => ({ signatureCount: letter.signatureCount, pages: letter.pages, bytes: letter.bytes }));
    console.log(JSON.stringify({ routing, wallMs, cpuMs: (cpu.user + cpu.system) / 1000, letters, skipped: result.skippedTargets.length, peakRssMb: maxRssMb() }));
  } finally {
    await database.close();
  }
}

/* ---------------------------------------------------------------- parent ---------------------------------------------------------------- */

const tsx = createRequire(import.meta.url).resolve('tsx/cli');

function child<T>(args: string[]): T {
  const run = spawnSync(process.execPath, [tsx, fileURLToPath(import.meta.url), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
  if (run.status !== 0) throw new Error(`child ${args.join(' ')} failed (exit ${run.status})`);
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as T;
}

type Stats = ReturnType<typeof stats>;
type PasswordFigures = { hash: Stats; verify: Stats; cpuMsEach: number; sequentialPeakMb: number; burst: number; burstMs: number; fileReadMs: number; perSecond: number; burstPeakMb: number; stored: string };

function passwordsPart(): string[] {
  const figures = child<{ baseRssMb: number; threadpool: number; pbkdf2: PasswordFigures; scrypt: PasswordFigures }>(['--child', 'passwords']);
  const lines = [
    `Password hashing (child process, libuv threadpool ${figures.threadpool}, RSS before hashing ${figures.baseRssMb.toFixed(0)} MB):`,
    '',
    '| hasher | hash p50 / p95 | verify p50 / p95 | CPU per hash | sign-ins/s on 2 cores (from CPU) | burst: verifies at once | sign-ins/s (burst) | a file read during the burst | peak RSS one at a time | peak RSS in the burst |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [name, f] of [['PBKDF2-SHA-256, WebCrypto', figures.pbkdf2], ['scrypt, node:crypto', figures.scrypt]] as const) {
    lines.push(
      `| ${name} (\`${f.stored}\`) | ${ms(f.hash.p50)} / ${ms(f.hash.p95)} ms | ${ms(f.verify.p50)} / ${ms(f.verify.p95)} ms | ${ms(f.cpuMsEach)} ms | ${(cpus().length * 1000 / f.cpuMsEach).toFixed(1)} | ${f.burst} in ${ms(f.burstMs)} ms | ${f.perSecond.toFixed(1)} | ${ms(f.fileReadMs)} ms | ${f.sequentialPeakMb.toFixed(0)} MB | ${f.burstPeakMb.toFixed(0)} MB |`,
    );
  }
  return lines;
}

function ogPart(): string[] {
  type Warm = Stats & { bytes: number };
  const f = child<{ coldEnglishMs: number; coldJapaneseMs: number; firstBytes: number; en: Warm; ja: Warm; peakRssMb: number }>(['--child', 'og']);
  return [
    `Open Graph card, in process (${renders} warm renders each, peak RSS ${f.peakRssMb.toFixed(0)} MB):`,
    '',
    '| card | first render | warm p50 | warm p95 | PNG |',
    '|---|---:|---:|---:|---:|',
    `| English title | ${ms(f.coldEnglishMs)} ms (wasm + Latin faces) | ${ms(f.en.p50)} ms | ${ms(f.en.p95)} ms | ${(f.en.bytes / 1024).toFixed(0)} KB |`,
    `| Japanese title | ${ms(f.coldJapaneseMs)} ms (its Han face) | ${ms(f.ja.p50)} ms | ${ms(f.ja.p95)} ms | ${(f.ja.bytes / 1024).toFixed(0)} KB |`,
  ];
}

/** Population of the 47 prefectures (millions, 2020 census, rounded): where supporters come from. */
const prefecturePopulation = [
  5.22, 1.24, 1.21, 2.3, 0.96, 1.07, 1.83, 2.87, 1.93, 1.94, 7.34, 6.28, 14.05, 9.24, 2.2, 1.03, 1.13, 0.77, 0.81, 2.05, 1.98, 3.63, 7.54, 1.77,
  1.41, 2.58, 8.84, 5.47, 1.32, 0.92, 0.55, 0.67, 1.89, 2.8, 1.34, 0.72, 0.95, 1.33, 0.69, 5.14, 0.81, 1.31, 1.74, 1.12, 1.07, 1.59, 1.47,
];

/** Confirmed supporters spread over the prefectures by population, inserted in one transaction (as bench/mixed-load.ts seeds). */
function seedSupporters(databasePath: string, campaignSlug: string, count: number): void {
  const db = new BetterSqlite3(databasePath);
  db.pragma('busy_timeout = 10000');
  const campaignId = (db.prepare('select id from campaigns where slug = ?').get(campaignSlug) as { id: string }).id;
  const insert = db.prepare(`insert into signatures (id, campaign_id, name, email, email_normalized, country, region, city, locale,
    name_on_letter, show_publicly, updates, status, created_at, confirmed_at) values (?, ?, ?, ?, ?, 'JP', ?, ?, 'ja', ?, 0, 0, 'confirmed', ?, ?)`);
  const families = ['佐藤', '鈴木', '高橋', '田中', '伊藤', '渡辺', '山本', '中村', '小林', '加藤'];
  const givens = ['太郎', '花子', 'さくら', '翔太', '陽菜', '健一', '美咲', 'ゆうき', '大輔', '結衣'];
  const total = prefecturePopulation.reduce((sum, p) => sum + p, 0);
  // Largest-remainder shares, so the counts add up to exactly `count`.
  const shares = prefecturePopulation.map((p) => Math.floor((p / total) * count));
  for (let i = 0; shares.reduce((sum, s) => sum + s, 0) < count; i++) shares[i % shares.length]!++;
  const now = Date.now() - 3_600_000;
  db.transaction(() => {
    let n = 0;
    shares.forEach((share, index) => {
      const region = `JP-${String(index + 1).padStart(2, '0')}`;
      for (let i = 0; i < share; i++, n++) {
        const email = `routed${n}@example.org`;
        insert.run(newId(now), campaignId, `${families[n % 10]} ${givens[(n * 7) % 10]}`, email, email, region, `市${index + 1}`, n % 3 === 0 ? 'full' : n % 3 === 1 ? 'initials' : 'none', now, now + n);
      }
    });
    db.prepare('update campaigns set signature_count = ? where id = ?').run(count, campaignId);
  })();
  db.close();
}

function run(options: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => autocannon(options, (error, result) => (error ? reject(error) : resolve(result))));
}

type Measured = { result: autocannon.Result; perSecond: number; statuses: Map<number, number> };

/**
 * A bounded run (`amount` requests) timed by its own clock, from the start to the last answer:
 * autocannon notices the end of an `amount` run on its one-second tick, so its duration (and
 * a rate from it) is rounded up to whole seconds.
 */
async function measure(url: string, amount: number, headers: Record<string, string> = {}): Promise<Measured> {
  const statuses = new Map<number, number>();
  const started = performance.now();
  let lastAnswer = started;
  const result = await run({
    url,
    connections,
    amount,
    headers,
    requests: [
      {
        onResponse: (status) => {
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          lastAnswer = performance.now();
        },
      },
    ],
  });
  const answered = [...statuses.values()].reduce((sum, n) => sum + n, 0);
  if (answered !== amount || result.errors + result.timeouts > 0) throw new Error(`${url}: ${answered} of ${amount} answered, ${result.errors} errors, ${result.timeouts} timeouts`);
  return { result, perSecond: Math.round(answered / ((lastAnswer - started) / 1000)), statuses };
}

async function sequentialLatency(url: string, headers: Record<string, string>, count: number): Promise<Stats> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const response = await fetch(url, { headers });
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`${url}: ${response.status}`);
    samples.push(performance.now() - started);
  }
  return stats(samples);
}

async function serverParts(dir: string, databasePath: string, wanted: Set<string>): Promise<string[]> {
  const adminToken = 'bench-admin-token-0123456789abcdef';
  const server = await startBenchServer({ DATABASE_PATH: databasePath, DATA_DIR: dir, ADMIN_TOKEN: adminToken, SIGN_RATE_LIMIT: 'off', CONFIRM_EMAILS_PER_MINUTE: 'off', MAIL_SENDER: 'off' });
  await saveBenchOrganisation(server.url, adminToken);
  const api = `${server.url}/api/v1`;
  const organiser = { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` };
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${api}${path}`, { method, headers: organiser, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as Record<string, unknown>;
  };
  const lines: string[] = [];
  try {
    const missions = JSON.parse(readFileSync('letters/targets/china-missions-japan.json', 'utf8')) as { targets: unknown[] };
    const imported = (await call('POST', '/targets/import', missions)) as { ids: string[] };
    await call('POST', '/campaigns', { slug: 'routes', title: '北朝鮮難民の強制送還をやめてください', summary: '中国で捕らえられた北朝鮮難民を送還しないでください。', locale: 'ja', timeZone: 'Asia/Tokyo', goal: 20000, targetIds: imported.ids });
    await call('PATCH', '/campaigns/routes', { status: 'open' });
    const [, seedMs] = await timed(async () => seedSupporters(databasePath, 'routes', supporters));
    console.error(`seeded ${supporters} supporters in ${ms(seedMs)} ms`);

    if (wanted.has('og')) {
      const url = `${server.url}/c/routes/og.png?lang=ja`;
      const [first, firstMs] = await timed(() => fetch(url));
      const png = await first.arrayBuffer();
      if (first.status !== 200 || first.headers.get('content-type') !== 'image/png') throw new Error(`og.png: ${first.status}`);
      await measure(url, 200); // warm-up
      const cached = await measure(url, requests);
      if (cached.statuses.get(200) !== requests) throw new Error(`og.png: ${cached.statuses.get(200)} of ${requests} answered 200`);
      // A crawler that kept the image asks again with its ETag and gets a 304 without the body.
      const revalidated = await measure(url, requests, { 'if-none-match': first.headers.get('etag')! });
      if (revalidated.statuses.get(304) !== requests) throw new Error(`og.png with If-None-Match: ${revalidated.statuses.get(304)} of ${requests} answered 304`);
      // The same server's floor and its campaign page, for scale.
      const healthz = await measure(`${server.url}/healthz`, requests);
      const page = await measure(`${server.url}/c/routes?lang=ja`, requests);
      const rate = (m: Measured) => `${m.perSecond.toLocaleString('en')}/s (p50 ${m.result.latency.p50} ms, p99 ${m.result.latency.p99} ms)`;
      const result = cached.result;
      lines.push(
        `\`GET /c/:slug/og.png?lang=ja\` over HTTP (${requests.toLocaleString('en')} requests, ${connections} connections, after 200 warm-up): first request ${ms(firstMs)} ms in a fresh server (${(png.byteLength / 1024).toFixed(0)} KB PNG), then from the cache ${rate(cached)}; revalidated (\`If-None-Match\`, 304) ${rate(revalidated)}. Same server, same load: \`GET /healthz\` ${rate(healthz)}, the campaign page \`GET /c/:slug?lang=ja\` ${rate(page)}.`,
        '',
      );
    }

    if (wanted.has('server')) {
      const preview = `${api}/campaigns/routes/routing-preview`;
      const body = (await (await fetch(preview, { headers: organiser })).json()) as { total: number; targets: { name: string; count: number }[]; unserved: { count: number } };
      if (body.total !== supporters) throw new Error(`routing preview counts ${body.total}, expected ${supporters}`);
      await sequentialLatency(preview, organiser, 10); // warm-up
      const latency = await sequentialLatency(preview, organiser, 50);
      lines.push(
        `Routing preview, \`GET /api/v1/campaigns/:slug/routing-preview\` with ${supporters.toLocaleString('en')} supporters (50 sequential requests after 10 warm-up): p50 ${ms(latency.p50)} ms, p95 ${ms(latency.p95)} ms. Per target: ${body.targets.map((t) => `${t.name} ${t.count.toLocaleString('en')}`).join(', ')}; unserved ${body.unserved.count}.`,
        '',
      );

      const unlimited = (await call('POST', '/tokens', { name: 'bench organisation', scopes: ['signatures:read'] })) as { token: string };
      const limited = (await call('POST', '/tokens', { name: 'bench campaign', scopes: ['signatures:read'], campaigns: ['routes'] })) as { token: string };
      const list = `${api}/campaigns/routes/signatures?limit=50`;
      const rounds: Record<'unlimited' | 'limited', Measured[]> = { unlimited: [], limited: [] };
      for (const token of [unlimited.token, limited.token]) await measure(list, 300, { authorization: `Bearer ${token}` }); // warm-up
      // Alternated, so a change in the machine's other load falls on both.
      for (let round = 0; round < 5; round++) {
        for (const [kind, token] of [['unlimited', unlimited.token], ['limited', limited.token]] as const) {
          const measured = await measure(list, requests, { authorization: `Bearer ${token}` });
          if (measured.statuses.get(200) !== requests) throw new Error(`${kind} list: ${measured.statuses.get(200)} of ${requests} answered 200`);
          rounds[kind].push(measured);
        }
      }
      const row = (kind: 'unlimited' | 'limited', label: string) => {
        const rates = rounds[kind].map((m) => m.perSecond);
        const median = [...rates].sort((a, b) => a - b)[Math.floor(rates.length / 2)]!;
        const p50 = rounds[kind].map((m) => m.result.latency.p50);
        const p99 = rounds[kind].map((m) => m.result.latency.p99);
        return `| ${label} | ${median.toLocaleString('en')} (${rates.map((r) => r.toLocaleString('en')).join(' / ')}) | ${p50.join(' / ')} ms | ${p99.join(' / ')} ms |`;
      };
      lines.push(
        `\`GET /api/v1/campaigns/:slug/signatures?limit=50\` (${requests.toLocaleString('en')} requests × 5 rounds each, alternated, ${connections} connections):`,
        '',
        '| token | requests/s median (rounds) | p50 | p99 |',
        '|---|---:|---:|---:|',
        row('unlimited', 'whole organisation'),
        row('limited', 'limited to the campaign'),
        '',
      );
    }
  } finally {
    await server.stop();
  }
  return lines;
}

function lettersPart(dir: string, databasePath: string): string[] {
  type Letters = { routing: string; wallMs: number; cpuMs: number; letters: { signatureCount: number; pages: number; bytes: number }[]; skipped: number; peakRssMb: number };
  const lines = [
    `per_target letters of the seven missions, ${supporters.toLocaleString('en')} confirmed supporters (each batch in a fresh process; two runs each, alternated):`,
    '',
    '| routing | wall time (runs) | CPU time (runs) | letters | supporters counted (sum over letters) | pages | PDF bytes | peak RSS |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const results: Record<string, Letters[]> = { all: [], jurisdiction: [] };
  for (let round = 0; round < 2; round++) {
    for (const routing of ['all', 'jurisdiction'] as const) {
      const result = child<Letters>(['--child', 'letters', '--routing', routing, '--database', databasePath, '--data', dir]);
      console.error(`letters ${routing}: ${ms(result.wallMs)} ms, ${result.letters.map((l) => `${l.signatureCount}/${l.pages}p`).join(' ')}`);
      results[routing]!.push(result);
    }
  }
  for (const routing of ['all', 'jurisdiction'] as const) {
    const runs = results[routing]!;
    const last = runs[runs.length - 1]!;
    const sum = (pick: (l: Letters['letters'][number]) => number) => last.letters.reduce((total, l) => total + pick(l), 0);
    lines.push(
      `| ${routing} | ${runs.map((r) => `${(r.wallMs / 1000).toFixed(2)} s`).join(' / ')} | ${runs.map((r) => `${(r.cpuMs / 1000).toFixed(2)} s`).join(' / ')} | ${last.letters.length} | ${sum((l) => l.signatureCount).toLocaleString('en')} | ${sum((l) => l.pages).toLocaleString('en')} (${last.letters.map((l) => l.pages).join(', ')}) | ${(sum((l) => l.bytes) / 1e6).toFixed(1)} MB | ${Math.max(...runs.map((r) => r.peakRssMb)).toFixed(0)} MB |`,
    );
  }
  return lines;
}

async function parent(): Promise<void> {
  const wanted = new Set(values.part ?? ['passwords', 'og', 'server', 'letters']);
  const started = performance.now();
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  const loadBefore = loadavg().map((l) => l.toFixed(2)).join(' ');
  const out: string[] = [];
  if (wanted.has('passwords')) out.push(...passwordsPart(), '');
  if (wanted.has('og')) out.push(...ogPart(), '');
  if (wanted.has('og') || wanted.has('server') || wanted.has('letters')) {
    const dir = mkdtempSync(join(tmpdir(), 'signet-bench-organisers-'));
    const databasePath = join(dir, 'signet.db');
    try {
      out.push(...(await serverParts(dir, databasePath, wanted)));
      if (wanted.has('letters')) out.push(...lettersPart(dir, databasePath), '');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const loadAfter = loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`${machine}; load average ${loadBefore} before, ${loadAfter} after; ${((performance.now() - started) / 1000).toFixed(0)} s in all.\n`);
  console.log(out.join('\n'));
}

if (values.child === 'passwords') await passwordsChild();
else if (values.child === 'og') await ogChild();
else if (values.child === 'letters') await lettersChild(values.routing === 'jurisdiction' ? 'jurisdiction' : 'all');
else await parent();
