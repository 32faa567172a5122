import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { runSignet } from '../helpers/cli.js';
import { startServerProcess, startServerWithSmtp, type ServerProcess, type ServerWithSmtp } from '../helpers/server-process.js';
import { waitFor } from '../helpers/wait.js';
import { parsePdfBytes } from '../letters/helpers.js';
import { parseMail } from '../mail/helpers/mime.js';

const ADMIN = 'ledger-test-admin-token-0123456789ab';
const supporter = { name: 'Quillon Farthingale', email: 'Quillon.Farthingale@example.net', city: 'Kagoshima' };
const other = { name: 'Aiko Tanaka', email: 'aiko.tanaka@example.org', city: 'Tokyo' };

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function mailText(raw: string): string {
  return parseMail(raw).leaves.find((leaf) => leaf.contentType === 'text/plain')!.text;
}

/**
 * fetch, sent once more when the server closed a kept-alive connection just as it was reused: the
 * test process sleeps in spawnSync through each CLI command, past the server's keep-alive timeout.
 */
async function send(url: string, init: RequestInit = {}): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    if ((error as { cause?: { code?: string } }).cause?.code !== 'UND_ERR_SOCKET') throw error;
    return fetch(url, init);
  }
}

async function api<T>(base: string, method: string, path: string, body?: unknown, status = 200): Promise<T> {
  const res = await send(`${base}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  expect(res.status, `${method} ${path}: ${text}`).toBe(status);
  return JSON.parse(text) as T;
}

async function signAndConfirm(running: ServerWithSmtp, person: { name: string; email: string; city: string }) {
  const base = running.server.url;
  const signed = await send(`${base}/api/v1/campaigns/free-them/signatures`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...person, country: 'JP', region: 'JP-46', consent: { nameOnLetter: 'full', showPublicly: false, updates: false } }),
  });
  expect(signed.status).toBe(202);
  const mail = await waitFor(`the confirmation email to ${person.email}`, () => running.smtp.received.find((m) => m.rcptTo.some((to) => to.toLowerCase() === person.email.toLowerCase())));
  const token = /\/confirm\/([A-Za-z0-9_-]+)\?lang=/.exec(mailText(mail.raw))![1]!;
  const confirmed = await send(`${base}/api/v1/signatures/confirm`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  expect(confirmed.status).toBe(200);
}

async function letterText(base: string, letterId: string): Promise<string> {
  const res = await send(`${base}/api/v1/letters/${letterId}.pdf`, { headers: { authorization: `Bearer ${ADMIN}` } });
  expect(res.status).toBe(200);
  return (await parsePdfBytes(Buffer.from(await res.arrayBuffer()))).pages.join('').replace(/\s+/g, '');
}

/** Which of the person's values a file holds, as bytes (any case). */
function traces(bytes: Buffer, needles: string[]): string[] {
  const text = bytes.toString('latin1').toLowerCase();
  return needles.filter((needle) => text.includes(needle.toLowerCase()));
}

describe('the erasure ledger: a restore erases again whoever was erased after the backup', () => {
  it('backup, erase, restore the backup: the person is erased again in the restored database and in every file left beside it, and restore says so', async () => {
    const running = await startServerWithSmtp('ledger', ADMIN, { SIGN_RATE_LIMIT: 'off' });
    cleanups.push(() => running.stop());
    const { dir } = running;
    const env = { DATABASE_PATH: join(dir, 'signet.db'), DATA_DIR: dir };
    const base = running.server.url;

    const target = await api<{ id: string }>(base, 'POST', '/targets', { name: 'Embassy of Testland', kind: 'embassy', postalAddress: { lines: ['1 Embassy Row'], city: 'Tokyo', country: 'JP' }, language: 'en' }, 201);
    await api(base, 'POST', '/campaigns', { slug: 'free-them', title: 'Free them', locale: 'en', targetIds: [target.id] }, 201);
    await api(base, 'PATCH', '/campaigns/free-them', { status: 'open' });
    await signAndConfirm(running, supporter);
    await signAndConfirm(running, other);
    const batch = await api<{ letters: { id: string }[] }>(base, 'POST', '/campaigns/free-them/letters', { mode: 'per_target' }, 201);
    const letterId = batch.letters[0]!.id;
    expect(await letterText(base, letterId)).toContain('QuillonFarthingale');

    // The backup holds the supporter.
    mkdirSync(join(dir, 'backups'));
    const backupFile = join(dir, 'backups', 'before-erasure.db');
    const backup = runSignet(['backup', backupFile], env);
    expect(backup.status, backup.stderr).toBe(0);
    expect(backup.stdout).toContain(`erases them again from ${join(dir, 'erasures.ledger')}`);

    // The organiser erases them (a request received by post); the server renders the stored letter again on its own.
    expect(await api(base, 'POST', '/privacy/erasures', { email: supporter.email })).toEqual({ erased: 1 });
    await waitFor('the stored letter rendered again without the erased supporter', async () => ((await letterText(base, letterId)).includes('Quillon') ? undefined : true), 30_000, 250);
    expect(await letterText(base, letterId)).toContain('AikoTanaka');

    // The ledger: beside the database, owner-only, one entry, no address.
    const ledgerPath = join(dir, 'erasures.ledger');
    expect(statSync(ledgerPath).mode & 0o777).toBe(0o600);
    const ledger = readFileSync(ledgerPath, 'utf8');
    expect(ledger.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(ledger)).toEqual({ v: 1, at: expect.any(Number), key: expect.stringMatching(/^[0-9a-f]{12}$/), subject: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(traces(Buffer.from(ledger), [supporter.email, 'quillon', 'farthingale'])).toEqual([]);

    expect(await running.server.stop()).toBe(0);

    const restored = runSignet(['restore', backupFile], env);
    expect(restored.status, restored.stderr).toBe(0);
    expect(restored.stdout).toContain(`Erasures applied again from ${ledgerPath}: 1 of the 1 recorded found the person in the backup and erased them again`);
    expect(restored.stdout).toMatch(/Applied to the kept copy too: .*signet\.db\.replaced-/);
    expect(restored.stdout).not.toContain('do again the erasures made since');

    // Not in the restored database, nor in any file left beside it (the backup itself, kept apart, still holds them).
    const needles = [supporter.email, supporter.name, 'Quillon', 'Farthingale', supporter.city];
    const beside = readdirSync(dir)
      .map((name) => join(dir, name))
      .filter((path) => statSync(path).isFile());
    const kept = beside.filter((path) => /signet\.db\.replaced-/.test(path));
    expect(kept).toHaveLength(1);
    for (const path of [join(dir, 'signet.db'), ...kept]) expect(statSync(path).mode & 0o777, path).toBe(0o600);
    for (const path of beside) expect(traces(readFileSync(path), needles), path).toEqual([]);
    expect(traces(readFileSync(backupFile), needles).length).toBeGreaterThan(0);

    const db = new BetterSqlite3(join(dir, 'signet.db'), { readonly: true });
    try {
      expect(db.prepare(`SELECT status, name, email FROM signatures ORDER BY created_at`).all()).toEqual([
        { status: 'erased', name: '', email: '' },
        { status: 'confirmed', name: other.name, email: other.email },
      ]);
      expect(db.prepare(`SELECT count(*) AS n FROM letter_redactions`).get()).toEqual({ n: 1 });
      const [event] = db.prepare(`SELECT actor_type AS actorType, details FROM audit_events WHERE action = 'privacy.erasures_reapplied'`).all() as { actorType: string; details: string }[];
      expect(event?.actorType).toBe('system');
      expect(JSON.parse(event!.details)).toEqual({ reapplied: 1, ledgerEntries: 1 });
    } finally {
      db.close();
    }

    // Restoring again changes nothing more; a server on the restored database renders the letter again from it.
    const again = runSignet(['restore', backupFile], env);
    expect(again.status, again.stderr).toBe(0);
    const server: ServerProcess = await startServerProcess({ ...env, SMTP_URL: running.smtp.url, ADMIN_TOKEN: ADMIN });
    cleanups.push(() => server.stop());
    await waitFor('the restored letter rendered again', async () => {
      const letter = await api<{ regeneratedAt: string | null }>(server.url, 'GET', `/letters/${letterId}`);
      return letter.regeneratedAt ? true : undefined;
    }, 30_000, 250);
    expect(await letterText(server.url, letterId)).not.toContain('Quillon');
    expect(existsSync(join(dir, 'signet.db'))).toBe(true);
  }, 120_000);

  it('refuses to restore when the ledger was written under a secret key that is not set, and changes nothing', async () => {
    const running = await startServerWithSmtp('ledger-key', ADMIN, { SIGN_RATE_LIMIT: 'off' });
    cleanups.push(() => running.stop());
    const { dir } = running;
    const env = { DATABASE_PATH: join(dir, 'signet.db'), DATA_DIR: dir };
    const backupFile = join(dir, 'backup.db');
    expect(runSignet(['backup', backupFile], env).status).toBe(0);
    expect(await api(running.server.url, 'POST', '/privacy/erasures', { email: supporter.email })).toEqual({ erased: 0 });
    expect(await running.server.stop()).toBe(0);
    const before = readFileSync(join(dir, 'signet.db'));

    const refused = runSignet(['restore', backupFile], { ...env, SECRET_KEY: 'another-root-secret-0123456789abcdef' });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('1 erasures in the ledger were recorded under another secret key');
    expect(readFileSync(join(dir, 'signet.db')).equals(before)).toBe(true);
    expect(readdirSync(dir).filter((name) => name.includes('.replaced-'))).toEqual([]);
  }, 60_000);
});
