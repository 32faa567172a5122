import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, startServerWithSmtp, type ServerProcess, type ServerWithSmtp } from '../helpers/server-process.js';
import { waitFor } from '../helpers/wait.js';
import { PUBLIC_PAGE_FRESH_MS } from '../../src/web/public/page-cache.js';
import { parseMail } from '../mail/helpers/mime.js';
import type { TestSmtpServer } from '../mail/helpers/smtp-server.js';

const adminToken = 'e2e-admin-token-0123456789abcdef';
let dir: string;
let smtp: TestSmtpServer;
let server: ServerProcess;
let running: ServerWithSmtp | undefined;

beforeAll(async () => {
  running = await startServerWithSmtp('e2e', adminToken);
  ({ dir, smtp, server } = running);
});

afterAll(async () => {
  await running?.stop();
});

describe('end to end: the real server, a real SMTP server', () => {
  it('signs in Japanese, mails the confirmation over SMTP, confirms through the link, and the count rises', async () => {
    const api = `${server.url}/api/v1`;
    const organiser = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
    expect((await fetch(`${api}/campaigns`, { method: 'POST', headers: organiser, body: JSON.stringify({ slug: 'e2e-campaign', title: '北朝鮮難民を守れ', locale: 'ja', timeZone: 'Asia/Tokyo' }) })).status).toBe(201);
    expect((await fetch(`${api}/campaigns/e2e-campaign`, { method: 'PATCH', headers: organiser, body: JSON.stringify({ status: 'open' }) })).status).toBe(200);

    const signed = await fetch(`${api}/campaigns/e2e-campaign/signatures`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: '山田 花子', email: 'hanako@example.jp', country: 'JP', region: 'JP-13', locale: 'ja', consent: { nameOnLetter: 'full' } }),
    });
    expect(signed.status).toBe(202);
    expect(await signed.json()).toEqual({ status: 'pending' });

    const mail = await waitFor('the confirmation email', () => smtp.received.find((m) => m.rcptTo.includes('hanako@example.jp')));
    const parsed = parseMail(mail.raw);
    expect(parsed.header('message-id')).toMatch(/^<[^@>]+@signet\.example>$/);
    // Nothing the submitter typed is sent before the address is confirmed: no name in To or the body.
    expect(parsed.decodedHeader('to')).toBe('hanako@example.jp');
    const text = parsed.leaves.find((leaf) => leaf.contentType === 'text/plain')!.text;
    expect(text).not.toContain('山田');
    expect(parsed.leaves.some((leaf) => leaf.contentType === 'text/html')).toBe(true);
    expect(text).toContain('北朝鮮難民を守れ');
    const link = /http:\/\/signet\.example\/confirm\/([A-Za-z0-9_-]+)/.exec(text);
    expect(link).not.toBeNull();

    const before = await (await fetch(`${api}/campaigns/e2e-campaign`)).json();
    expect(before.signatureCount).toBe(0);
    const confirmed = await fetch(`${api}/signatures/confirm`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: link![1] }) });
    expect(confirmed.status).toBe(200);
    expect(await confirmed.json()).toEqual({ status: 'confirmed', campaign: 'e2e-campaign' });
    // The public campaign is built once and served for a few seconds (#22): the count rises within them.
    const startedWaiting = Date.now();
    await waitFor('the count to rise', async () => ((await (await fetch(`${api}/campaigns/e2e-campaign`)).json()).signatureCount === 1 ? true : undefined), PUBLIC_PAGE_FRESH_MS + 5_000, 250);
    expect(Date.now() - startedWaiting).toBeLessThan(PUBLIC_PAGE_FRESH_MS + 2_000);
  });

  it('serves the OpenAPI document and the docs page', async () => {
    const spec = await (await fetch(`${server.url}/api/v1/openapi.json`)).json();
    expect(spec.openapi).toBe('3.1.0');
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/api/v1/campaigns', '/api/v1/campaigns/{slug}/signatures', '/api/v1/signatures/confirm']));
    const docs = await fetch(`${server.url}/docs`);
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await docs.text();
    expect(html).toContain('/api/v1/openapi.json');
    // The reference's script comes from the installed package, through the Node entry's wiring.
    const script = /<script src="(\/docs\/assets\/api-reference-[\d.]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const bundle = await fetch(`${server.url}${script}`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await bundle.text()).toContain('createApiReference');
  });

  it('writes JSON logs with request ids and no personal data', () => {
    const lines = server.stdout().trim().split('\n').map((line) => JSON.parse(line));
    expect(lines.some((l) => l.event === 'request' && typeof l.requestId === 'string')).toBe(true);
    expect(server.stdout()).not.toContain('hanako');
    expect(server.stdout()).not.toContain('山田');
  });
});

describe('end to end: mail written to files without SMTP_URL', () => {
  it('writes the confirmation as an .eml file under DATA_DIR/mail and prints a bootstrap token once', async () => {
    const fileDir = mkdtempSync(join(tmpdir(), 'signet-e2e-files-'));
    const files = await startServerProcess({ DATABASE_PATH: join(fileDir, 'signet.db'), DATA_DIR: fileDir });
    try {
      const token = /(sgt_[A-Za-z0-9_-]{43})/.exec(await waitFor('the bootstrap token', () => (/sgt_/.test(files.stderr()) ? files.stderr() : undefined)))![1]!;
      expect(files.stdout()).not.toContain(token); // never in the JSON log
      const organiser = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const api = `${files.url}/api/v1`;
      expect((await fetch(`${api}/campaigns`, { method: 'POST', headers: organiser, body: JSON.stringify({ slug: 'file-mail', title: 'Files', locale: 'en' }) })).status).toBe(201);
      await fetch(`${api}/campaigns/file-mail`, { method: 'PATCH', headers: organiser, body: JSON.stringify({ status: 'open' }) });
      const signed = await fetch(`${api}/campaigns/file-mail/signatures`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Jo', email: 'jo@example.org', country: 'GB' }) });
      expect(signed.status).toBe(202);
      const mailDir = join(fileDir, 'mail');
      const file = await waitFor('an .eml file', () => {
        try {
          return readdirSync(mailDir).find((name) => name.endsWith('.eml'));
        } catch {
          return undefined;
        }
      });
      const raw = readFileSync(join(mailDir, file), 'utf8');
      expect(raw).toMatch(/^To: .*jo@example\.org/m);
      expect(raw).toContain('/confirm/');
    } finally {
      expect(await files.stop()).toBe(0);
      rmSync(fileDir, { recursive: true, force: true });
    }
  });
});
