import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runSignet } from '../helpers/cli.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { waitFor } from '../helpers/wait.js';
import { parseMail } from '../mail/helpers/mime.js';
import { putTestOrganisation } from '../helpers/organisation.js';

const ADMIN_TOKEN = 'modes-admin-token-0123456789abcdef';
/** The usual default umask: files 0644 and directories 0755 unless Signet sets their modes itself. */
const UMASK = 0o022;

let root: string | undefined;
let server: ServerProcess | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
  if (root) rmSync(root, { recursive: true, force: true });
  root = undefined;
});

/** Every entry under `dir` (itself included) whose mode is not 0600 for a file or 0700 for a directory, as `path mode`. */
function wrongModes(dir: string): string[] {
  const wrong: string[] = [];
  const visit = (path: string) => {
    const info = lstatSync(path);
    const mode = info.mode & 0o777;
    const want = info.isDirectory() ? 0o700 : 0o600;
    if (mode !== want) wrong.push(`${relative(dir, path) || '.'} ${mode.toString(8)}`);
    if (info.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  visit(dir);
  return wrong;
}

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}

describe('what Signet writes under DATA_DIR is its owner\'s only, whatever the umask (#17)', () => {
  it('the database and its log, mail files with working links, letter PDFs, reply scans, the key and backups: files 0600, directories 0700', async () => {
    root = mkdtempSync(join(tmpdir(), 'signet-modes-'));
    const dataDir = join(root, 'data');
    // An installation from before: its folders and a mail file as the umask left them.
    mkdirSync(join(dataDir, 'mail'), { recursive: true });
    chmodSync(dataDir, 0o755);
    chmodSync(join(dataDir, 'mail'), 0o755);
    writeFileSync(join(dataDir, 'mail', '2027-01-01T000000.000Z-old@signet.example.eml'), 'Subject: an old message\r\n\r\nkept from before\r\n');
    chmodSync(join(dataDir, 'mail', '2027-01-01T000000.000Z-old@signet.example.eml'), 0o644);

    const env = { DATABASE_PATH: join(dataDir, 'signet.db'), DATA_DIR: dataDir, ADMIN_TOKEN, PUBLIC_URL: 'http://signet.example', MAIL_FROM: 'Signet <no-reply@signet.example>' };
    // No SMTP_URL: mail is written as .eml files under DATA_DIR/mail.
    server = await startServerProcess(env, { umask: UMASK });
    // DATA_DIR at once, and what lies behind it in the background, with counts (no names) in the log.
    expect(server.stdout()).toContain('DATA_DIR was readable by other users; set to 0700');
    await waitFor('the modes under DATA_DIR', () => (server!.stdout().includes('"event":"modes under DATA_DIR set to 0600 (files) and 0700 (directories)","directories":1,"files":1') ? true : undefined));
    const api = `${server.url}/api/v1`;
    const organiser = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
    const call = async (method: string, path: string, body: unknown, status: number) => {
      const res = await fetch(`${api}${path}`, { method, headers: organiser, body: JSON.stringify(body) });
      expect(res.status, `${method} ${path}: ${await res.clone().text()}`).toBe(status);
      return res.json();
    };

    await putTestOrganisation(server.url, ADMIN_TOKEN);
    const target = await call('POST', '/targets', { name: 'Embassy of Example', kind: 'embassy', email: 'embassy@example.org', postalAddress: { lines: ['1 Embassy Row'], postalCode: '106-0046', city: 'Tokyo', country: 'JP' } }, 201);
    await call('POST', '/campaigns', { slug: 'modes-campaign', title: 'Free them', locale: 'en', targetIds: [target.id] }, 201);
    await call('PATCH', '/campaigns/modes-campaign', { status: 'open' }, 200);

    // A supporter signs; the confirmation email is a file holding a working link.
    const signed = await fetch(`${api}/campaigns/modes-campaign/signatures`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Hanako Yamada', email: 'hanako@example.jp', country: 'JP', region: 'JP-13', locale: 'en', consent: { nameOnLetter: 'full' } }),
    });
    expect(signed.status).toBe(202);
    const mailFile = await waitFor('the confirmation email file', () => filesUnder(join(dataDir, 'mail')).find((name) => name.endsWith('.eml') && !name.includes('old@')));
    const text = parseMail(readFileSync(join(dataDir, 'mail', mailFile), 'utf8')).leaves.find((leaf) => leaf.contentType === 'text/plain')!.text;
    const token = /http:\/\/signet\.example\/confirm\/([A-Za-z0-9_-]+)/.exec(text)![1]!;
    expect((await fetch(`${api}/signatures/confirm`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) })).status).toBe(200);

    // Letter PDFs (rendered on the server's worker threads), and a reply with its scan.
    const batch = await call('POST', '/campaigns/modes-campaign/letters', { mode: 'per_target' }, 201);
    expect(batch.letters).toHaveLength(1);
    const form = new FormData();
    form.set('campaign', 'modes-campaign');
    form.set('receivedAt', new Date().toISOString().slice(0, 10));
    form.set('channel', 'post');
    form.set('summary', 'The embassy answered.');
    form.set('file', new Blob([new TextEncoder().encode('%PDF-1.4\n%%EOF\n')], { type: 'application/pdf' }), 'reply.pdf');
    const reply = await fetch(`${api}/targets/${target.id}/replies`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: form });
    expect(reply.status, await reply.clone().text()).toBe(201);

    // A backup while the server runs, into a folder it makes under DATA_DIR.
    const backup = runSignet(['backup', join(dataDir, 'backups', 'signet-before.db')], env, 60_000, UMASK);
    expect(backup.status, backup.stderr).toBe(0);

    const written = filesUnder(dataDir);
    for (const expected of ['signet.db', 'signet.db-wal', 'signet.db-shm', 'secret.key', 'backups/signet-before.db']) expect(written).toContain(expected);
    expect(written.filter((name) => /^mail\/.*\.eml$/.test(name))).toHaveLength(2);
    expect(written.filter((name) => /^letters\/[0-9a-f-]{36}\/[0-9a-f-]{36}\.pdf$/.test(name))).toHaveLength(1);
    expect(written.filter((name) => /^replies\/[0-9a-f-]{36}\/[0-9a-f-]{36}\.pdf$/.test(name))).toHaveLength(1);
    expect(wrongModes(dataDir)).toEqual([]);

    // A restore of that backup once the server is gone: the restored database and the copy it replaced.
    expect(await server.stop()).toBe(0);
    server = undefined;
    const restore = runSignet(['restore', join(dataDir, 'backups', 'signet-before.db')], env, 60_000, UMASK);
    expect(restore.status, restore.stderr).toBe(0);
    expect(filesUnder(dataDir).some((name) => name.startsWith('signet.db.replaced-'))).toBe(true);
    expect(wrongModes(dataDir)).toEqual([]);
  }, 120_000);
});
