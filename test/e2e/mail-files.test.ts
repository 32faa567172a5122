import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { waitFor } from '../helpers/wait.js';
import { parseMail } from '../mail/helpers/mime.js';

// Issue #18: `npm start` writes mail as .eml files, and their confirmation links were base64 or
// quoted-printable (broken across lines, `=` as `=3D`), so grep found no working link. The
// README's `grep -o 'http[^ ]*/confirm/[^ ]*' data/mail/*.eml` must print one that works.

const adminToken = 'mail-files-admin-token-0123456789abcdef';
const publicUrl = 'http://signet.example';
let dir: string;
let server: ServerProcess;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'signet-mail-files-'));
  server = await startServerProcess({ DATABASE_PATH: join(dir, 'signet.db'), DATA_DIR: dir, ADMIN_TOKEN: adminToken, PUBLIC_URL: publicUrl });
}, 60_000);

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('mail files a person can read and grep', () => {
  it('writes the Japanese confirmation with its link whole, found by grep, and the link confirms the signature', async () => {
    const api = `${server.url}/api/v1`;
    const organiser = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
    expect((await fetch(`${api}/campaigns`, { method: 'POST', headers: organiser, body: JSON.stringify({ slug: 'grep-me', title: '北朝鮮難民の強制送還をやめてください', locale: 'ja', timeZone: 'Asia/Tokyo' }) })).status).toBe(201);
    expect((await fetch(`${api}/campaigns/grep-me`, { method: 'PATCH', headers: organiser, body: JSON.stringify({ status: 'open' }) })).status).toBe(200);
    const signed = await fetch(`${api}/campaigns/grep-me/signatures`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: '山田 花子', email: 'hanako@example.jp', country: 'JP', region: 'JP-13', locale: 'ja', consent: { nameOnLetter: 'full' } }),
    });
    expect(signed.status).toBe(202);

    const mailDir = join(dir, 'mail');
    const file = await waitFor('the .eml file', () => {
      try {
        return readdirSync(mailDir).find((name) => name.endsWith('.eml'));
      } catch {
        return undefined;
      }
    });
    const raw = readFileSync(join(mailDir, file), 'utf8');
    // Readable as it stands: the Japanese text is in the file, not encoded.
    expect(raw).toContain('北朝鮮難民の強制送還をやめてください');
    const mail = parseMail(raw);
    expect(mail.leaves.map((leaf) => leaf.contentType)).toEqual(['text/plain', 'text/html']);
    for (const line of raw.split('\n')) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(998);

    // The README's command, as a user types it.
    const found = execFileSync('grep', ['-o', 'http[^ ]*/confirm/[^ ]*', join(mailDir, file)], { encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(found).toHaveLength(1);
    const link = new URL(found[0]!);
    expect(`${link.origin}${link.pathname}`).toMatch(/^http:\/\/signet\.example\/confirm\/[A-Za-z0-9_-]{20,}$/);
    expect(link.search).toBe('?lang=ja');

    // The link opens the confirmation page; its button posts back to the same address.
    const page = await fetch(`${server.url}${link.pathname}${link.search}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    const formToken = /name="_token" value="([^"]+)"/.exec(html)?.[1];
    expect(formToken).toBeDefined();
    const confirmed = await fetch(`${server.url}${link.pathname}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: publicUrl },
      body: new URLSearchParams({ _token: formToken!, lang: 'ja' }).toString(),
    });
    expect(confirmed.status).toBe(200);
    await waitFor('the confirmed count', async () => ((await (await fetch(`${api}/campaigns/grep-me`)).json()).signatureCount === 1 ? true : undefined));
  }, 60_000);
});
