/**
 * Issue #20: the compiled server as a production install runs it — no development package,
 * behind Debian's Caddy with `tls internal` on 127.0.0.1, its logs free of personal data —
 * and the deploy files (systemd units, backup script) checked for real.
 */
import BetterSqlite3 from 'better-sqlite3';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpServer, type TestSmtpServer } from '../mail/helpers/smtp-server.js';
import { putTestOrganisation } from '../helpers/organisation.js';
import { ensureBuilt, productionPackages, productionTree, repoRoot, startListening, type RunningCommand } from '../helpers/production-tree.js';
import { waitFor } from '../helpers/wait.js';

const CADDY = '/usr/bin/caddy';
const adminToken = 'production-admin-token-0123456789abcdef';
const supporter = { name: 'Hyejin Production-Person', email: 'hyejin.private@example.org' };
const owner = { name: 'Akiko Owner-Person', email: 'akiko.owner@example.org', password: 'a long owner password for the test' };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describe('a lean production install (issue #20)', () => {
  it('holds at most 100 packages, none of them tsx, esbuild or @scalar', () => {
    const packages = productionPackages();
    expect(packages.length).toBeLessThanOrEqual(100);
    const names = packages.map((path) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
    expect(names.filter((name) => name === 'tsx' || name === 'esbuild' || name.startsWith('@scalar/') || name === 'worker-mailer' || name === 'typescript')).toEqual([]);
  });

  it('compiles to ASCII, so V8 holds the source of the server at one byte a character, not two', async () => {
    await ensureBuilt();
    // Every file esbuild wrote (cli.js and the chunks it loads on first use); the SQLite writer's 3 KB are copied as written.
    const files = readdirSync(join(repoRoot, 'dist/node')).filter((file) => /\.m?js$/.test(file) && file !== 'sqlite-writer.worker.mjs');
    expect(files).toContain('cli.js');
    for (const file of files) {
      const nonAscii = [...readFileSync(join(repoRoot, 'dist/node', file), 'latin1').matchAll(/.{0,40}[^\x00-\x7f]+.{0,20}/g)].map((match) => match[0]);
      expect({ file, nonAscii }).toEqual({ file, nonAscii: [] });
    }
  });

  it('starts without the PDF and card packages: pdfkit, fontkit and resvg load with the first letter, sheet or card', async () => {
    await ensureBuilt();
    // What loading cli.js loads: its static imports, and theirs, through the chunks beside it.
    const loaded = new Set<string>();
    const packages = new Set<string>();
    const visit = (file: string) => {
      if (loaded.has(file)) return;
      loaded.add(file);
      const source = readFileSync(join(repoRoot, 'dist/node', file), 'utf8');
      for (const [, specifier] of source.matchAll(/(?:^|[;}\s])import\s*(?:[\w$*{][^"';]*?from\s*)?["']([^"']+)["']/g)) {
        if (specifier!.startsWith('./')) visit(specifier!.slice(2));
        else if (!specifier!.startsWith('node:')) packages.add(specifier!);
      }
    };
    visit('cli.js');
    expect([...packages]).toEqual(['better-sqlite3']);
  });

  it('starts without ICU\'s locale data: no Intl formatter is made until a page, a letter or an export needs one', async () => {
    await ensureBuilt();
    const work = mkdtempSync(join(tmpdir(), 'signet-no-icu-'));
    // A preload that reports every Intl object and locale-aware call made while the server starts and answers /healthz
    // (each loads part of ICU's data: 5 MB of an idle server's memory on Node 24).
    const preload = join(work, 'report-intl.mjs');
    writeFileSync(
      preload,
      `const report = (what) => process.stderr.write('ICU ' + what + '\\n' + new Error().stack.split('\\n').slice(2, 4).join('\\n') + '\\n');
for (const name of ['DateTimeFormat', 'NumberFormat', 'Collator', 'DisplayNames', 'PluralRules', 'RelativeTimeFormat', 'ListFormat', 'Segmenter']) {
  const Original = Intl[name];
  Intl[name] = new Proxy(Original, { construct(target, args) { report(name); return new target(...args); } });
}
for (const [prototype, method] of [[Date.prototype, 'toLocaleString'], [Date.prototype, 'toLocaleDateString'], [Date.prototype, 'toLocaleTimeString'], [Number.prototype, 'toLocaleString'], [String.prototype, 'localeCompare']]) {
  const original = prototype[method];
  prototype[method] = function (...args) { report(method); return original.apply(this, args); };
}
`,
    );
    // The preload reports what it should.
    const probe = spawnSync(process.execPath, ['--import', preload, '-e', "new Intl.DisplayNames(['en'], { type: 'region' }); (1234).toLocaleString('ja')"], { encoding: 'utf8' });
    expect(probe.stderr).toMatch(/ICU DisplayNames[\s\S]*ICU toLocaleString/);
    const port = await freePort();
    const server = await startListening(process.execPath, ['--import', preload, 'bin/signet.js', 'serve'], repoRoot, {
      HOST: '127.0.0.1',
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DATA_DIR: join(work, 'data'),
      DATABASE_PATH: join(work, 'data', 'signet.db'),
      LOG_LEVEL: 'info',
    });
    try {
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      expect(server.stderr()).not.toContain('ICU ');
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
      rmSync(work, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!existsSync(CADDY))('the compiled server behind Caddy with tls internal (issue #20)', () => {
  let tree: ReturnType<typeof productionTree>;
  let smtp: TestSmtpServer;
  let server: RunningCommand;
  let caddy: ChildProcess;
  let caddyLog = '';
  let work: string;
  let origin: string;
  let ca: string;

  /** A request through Caddy over https, trusting only the test's own Caddy CA. */
  const viaCaddy = (method: string, path: string, options: { headers?: Record<string, string>; body?: string } = {}) =>
    new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }>((resolve, reject) => {
      const url = new URL(path, origin);
      const req = httpsRequest(url, { method, ca, headers: { ...(options.body ? { 'content-length': String(Buffer.byteLength(options.body)) } : {}), ...options.headers } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      req.end(options.body);
    });

  beforeAll(async () => {
    await ensureBuilt();
    tree = productionTree();
    work = mkdtempSync(join(tmpdir(), 'signet-caddy-'));
    smtp = await startSmtpServer();
    const [upstreamPort, httpPort, httpsPort] = [await freePort(), await freePort(), await freePort()];
    origin = `https://127.0.0.1:${httpsPort}`;
    server = await startListening(process.execPath, ['bin/signet.js', 'serve'], tree.dir, {
      HOST: '127.0.0.1',
      PORT: String(upstreamPort),
      PUBLIC_URL: origin,
      TRUST_PROXY: 'true',
      DATA_DIR: join(work, 'data'),
      DATABASE_PATH: join(work, 'data', 'signet.db'),
      SMTP_URL: smtp.url,
      ADMIN_TOKEN: adminToken,
      SIGN_RATE_LIMIT: '3/300s',
      CONFIRM_EMAILS_PER_MINUTE: 'off',
      LOG_LEVEL: 'debug',
    });
    // The shipped site file, imported as is; the test's global options keep Caddy on
    // 127.0.0.1 and free ports, with its own CA (tls internal) and storage in a temporary folder.
    const storage = join(work, 'caddy');
    mkdirSync(storage);
    writeFileSync(
      join(work, 'Caddyfile'),
      `{\n\tadmin off\n\tlocal_certs\n\tskip_install_trust\n\tstorage file_system ${storage}\n\thttp_port ${httpPort}\n\thttps_port ${httpsPort}\n\tdefault_bind 127.0.0.1\n}\n\nimport ${join(repoRoot, 'deploy/Caddyfile')}\n`,
    );
    caddy = spawn(CADDY, ['run', '--config', join(work, 'Caddyfile'), '--adapter', 'caddyfile'], {
      env: { PATH: process.env.PATH ?? '', HOME: work, XDG_DATA_HOME: join(work, 'xdg-data'), XDG_CONFIG_HOME: join(work, 'xdg-config'), SIGNET_DOMAIN: origin, SIGNET_UPSTREAM: `127.0.0.1:${upstreamPort}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    caddy.stdout!.on('data', (chunk: Buffer) => (caddyLog += chunk.toString()));
    caddy.stderr!.on('data', (chunk: Buffer) => (caddyLog += chunk.toString()));
    const rootCertificate = join(storage, 'pki/authorities/local/root.crt');
    await waitFor('the Caddy CA', () => (existsSync(rootCertificate) ? true : undefined), 20_000).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${caddyLog}`);
    });
    ca = readFileSync(rootCertificate, 'utf8');
    await waitFor('https through Caddy', async () => ((await viaCaddy('GET', '/healthz').catch(() => null))?.status === 200 ? true : undefined), 20_000);
    await putTestOrganisation(server.url, adminToken);
  }, 90_000);

  afterAll(async () => {
    caddy?.kill('SIGTERM');
    if (server) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    await smtp?.close();
    tree?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('serves https with HSTS, the signing page, the API reference built into dist/, and a letter rendered by the compiled render thread', async () => {
    const health = await viaCaddy('GET', '/healthz');
    expect(health.status).toBe(200);
    expect(health.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    // Caddy's own request id reached Signet, which kept it.
    expect(health.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);

    const organiser = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
    const missions = JSON.parse(readFileSync(join(repoRoot, 'letters/targets/china-missions-japan.json'), 'utf8')) as { targets: unknown[] };
    const imported = (await (await fetch(`${server.url}/api/v1/targets/import`, { method: 'POST', headers: organiser, body: JSON.stringify({ targets: missions.targets.slice(0, 1) }) })).json()) as { ids: string[] };
    const created = await viaCaddy('POST', '/api/v1/campaigns', { headers: organiser, body: JSON.stringify({ slug: 'behind-caddy', title: 'Stop the forced returns', locale: 'en', timeZone: 'Asia/Tokyo', targetIds: imported.ids }) });
    expect(created.status, created.text).toBe(201);
    expect((await viaCaddy('PATCH', '/api/v1/campaigns/behind-caddy', { headers: organiser, body: JSON.stringify({ status: 'open' }) })).status).toBe(200);

    const page = await viaCaddy('GET', '/c/behind-caddy');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Stop the forced returns');
    expect(page.text).toMatch(/<form[^>]+action="\/c\/behind-caddy\/sign"/);

    const docs = await viaCaddy('GET', '/docs');
    const script = /src="(\/docs\/assets\/api-reference-[^"]+\.js)"/.exec(docs.text)?.[1];
    expect(script).toBeDefined();
    const bundle = await viaCaddy('GET', script!);
    expect(bundle.status).toBe(200);
    expect(bundle.text).toBe(readFileSync(join(tree.dir, 'dist/node/api-reference/standalone.js'), 'utf8'));

    const preview = await fetch(`${server.url}/api/v1/campaigns/behind-caddy/letters/preview.pdf?target=${imported.ids[0]}`, { headers: organiser });
    expect(preview.status, preview.status === 200 ? '' : await preview.clone().text()).toBe(200);
    expect(Buffer.from(await preview.arrayBuffer()).subarray(0, 5).toString()).toBe('%PDF-');

    // The PDF and card code the server loads on first use (dist/node/*-<hash>.js) runs from the tree.
    const sheet = await fetch(`${server.url}/api/v1/campaigns/behind-caddy/signature-sheet.pdf?languages=en`, { headers: organiser });
    expect(sheet.status, sheet.status === 200 ? '' : await sheet.clone().text()).toBe(200);
    expect(Buffer.from(await sheet.arrayBuffer()).subarray(0, 5).toString()).toBe('%PDF-');
    const card = await viaCaddy('GET', '/c/behind-caddy/og.png?lang=en');
    expect(card.status).toBe(200);
    expect(card.headers['content-type']).toBe('image/png');
  });

  it('takes client addresses from Caddy: a forged X-Forwarded-For does not escape the signing rate limit', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const signed = await viaCaddy('POST', '/api/v1/campaigns/behind-caddy/signatures', {
        headers: { 'content-type': 'application/json', 'x-forwarded-for': `203.0.113.${10 + i}` },
        body: JSON.stringify({ name: `Rate Person ${i}`, email: `rate-${i}@example.org`, country: 'JP' }),
      });
      statuses.push(signed.status);
    }
    // SIGN_RATE_LIMIT=3/300s for the one real client, 127.0.0.1, whatever it claimed.
    expect(statuses).toEqual([202, 202, 202, 429]);
  });

  it('signs in to the dashboard over https with the __Secure- session cookie; sign, confirm and sign-in leave no address or name in the log', async () => {
    // The rate limit of the previous test counts this client: the signature comes from another
    // address, straight to the server (TRUST_PROXY: it believes the last X-Forwarded-For).
    const signed = await fetch(`${server.url}/api/v1/campaigns/behind-caddy/signatures`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.77' },
      body: JSON.stringify({ ...supporter, country: 'JP', consent: { nameOnLetter: 'full', showPublicly: false, updates: false } }),
    });
    expect(signed.status, await signed.clone().text()).toBe(202);
    const mail = await waitFor('the confirmation email', () => smtp.received.find((message) => message.rcptTo.includes(supporter.email)), 15_000);
    const token = /\/confirm\/([A-Za-z0-9_-]+)/.exec(mail.raw.replace(/=\r?\n/g, ''))?.[1];
    expect(token).toBeDefined();
    const confirmed = await viaCaddy('POST', '/api/v1/signatures/confirm', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
    expect(confirmed.status, confirmed.text).toBe(200);

    const setupPath = new URL(/https:\/\/\S+\/admin\/setup\/\S+/.exec(server.stderr())![0]).pathname;
    const form = (fields: Record<string, string>) => ({ headers: { 'content-type': 'application/x-www-form-urlencoded', origin }, body: new URLSearchParams(fields).toString() });
    const setup = await viaCaddy('POST', setupPath, form({ name: owner.name, email: owner.email, password: owner.password, locale: 'en' }));
    expect(setup.status, setup.text).toBe(303);
    const wrong = await viaCaddy('POST', '/admin/login', form({ email: owner.email, password: 'not the password at all' }));
    expect(wrong.status).toBe(401);
    const signedIn = await viaCaddy('POST', '/admin/login', form({ email: owner.email, password: owner.password }));
    expect(signedIn.status, signedIn.text).toBe(303);
    const session = [signedIn.headers['set-cookie'] ?? []].flat().find((cookie) => cookie.startsWith('__Secure-signet_session='));
    expect(session).toMatch(/; Secure/i);
    const dashboard = await viaCaddy('GET', '/admin/campaigns', { headers: { cookie: session!.split(';')[0]! } });
    expect(dashboard.status).toBe(200);
    expect(dashboard.text).toContain('Stop the forced returns');

    const lines = server.stdout().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const line of lines) expect(Object.keys(line).slice(0, 3)).toEqual(['time', 'level', 'event']);
    const requests = lines.filter((line) => line.event === 'request');
    expect(requests.length).toBeGreaterThan(10);
    for (const line of requests) expect(line.requestId).toEqual(expect.any(String));
    const everything = server.stdout() + server.stderr();
    for (const personal of [supporter.email, supporter.name, 'hyejin', 'Hyejin', owner.email, owner.name, 'akiko', 'Akiko', owner.password, '198.51.100.77', '203.0.113.']) {
      expect(everything).not.toContain(personal);
    }
  });
});

describe('the deploy files (issue #20)', () => {
  it('systemd-analyze verify finds nothing to say about the units, installed where the tree is', () => {
    const analyze = spawnSync('systemd-analyze', ['--version']);
    if (analyze.error) throw new Error('systemd-analyze is missing: .ci/run installs systemd');
    const units = mkdtempSync(join(tmpdir(), 'signet-units-'));
    try {
      for (const unit of ['signet.service', 'signet-backup.service', 'signet-backup.timer']) {
        writeFileSync(join(units, unit), readFileSync(join(repoRoot, 'deploy', unit), 'utf8').replaceAll('/opt/signet', repoRoot).replaceAll('/usr/bin/node', process.execPath));
      }
      const verified = spawnSync('systemd-analyze', ['verify', ...readdirSync(units).map((unit) => join(units, unit))], { encoding: 'utf8' });
      expect({ status: verified.status, output: (verified.stdout + verified.stderr).trim() }).toEqual({ status: 0, output: '' });
      const security = spawnSync('systemd-analyze', ['security', '--offline=yes', join(units, 'signet.service')], { encoding: 'utf8' });
      const exposure = Number(/Overall exposure level for signet\.service: ([\d.]+)/.exec(security.stdout)?.[1]);
      expect(exposure).toBeLessThanOrEqual(2);
    } finally {
      rmSync(units, { recursive: true, force: true });
    }
  });

  it('the backup script keeps the newest BACKUP_KEEP checked copies', async () => {
    await ensureBuilt();
    const tree = productionTree();
    const dir = mkdtempSync(join(tmpdir(), 'signet-backups-'));
    try {
      const env = { PATH: process.env.PATH ?? '', DATA_DIR: join(dir, 'data'), DATABASE_PATH: join(dir, 'data', 'signet.db'), BACKUP_DIR: join(dir, 'backups'), BACKUP_KEEP: '2', NODE: process.execPath };
      const migrated = spawnSync(process.execPath, ['bin/signet.js', 'migrate'], { cwd: tree.dir, env, encoding: 'utf8' });
      expect(migrated.status, migrated.stderr).toBe(0);
      for (let i = 0; i < 3; i++) {
        if (i > 0) await new Promise((resolve) => setTimeout(resolve, 1_100));
        const backup = spawnSync(join(tree.dir, 'deploy/signet-backup.sh'), [], { cwd: tree.dir, env, encoding: 'utf8' });
        expect(backup.status, backup.stderr).toBe(0);
      }
      const kept = readdirSync(join(dir, 'backups')).sort();
      expect(kept).toHaveLength(2);
      for (const file of kept) {
        const copy = new BetterSqlite3(join(dir, 'backups', file), { readonly: true });
        expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
        copy.close();
      }
    } finally {
      tree.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
