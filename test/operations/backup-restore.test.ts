import BetterSqlite3 from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { restoreDatabase } from '../../src/operations/restore.js';
import { migrationState } from '../../src/operations/sqlite-file.js';
import { projectRoot, runSignet, withDatabase } from '../helpers/cli.js';
import { migrationsFolder } from '../helpers/db.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { waitFor } from '../helpers/wait.js';

const ADMIN = 'backup-test-admin-token-0123456789';

type Ack = { email: string; ackAt: number };

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `signet-${name}-`));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function startServer(dir: string): Promise<ServerProcess> {
  const server = await startServerProcess({
    DATABASE_PATH: join(dir, 'signet.db'),
    DATA_DIR: dir,
    ADMIN_TOKEN: ADMIN,
    SIGN_RATE_LIMIT: 'off',
    CONFIRM_EMAILS_PER_MINUTE: 'off',
  });
  cleanups.push(async () => void (await server.stop()));
  return server;
}

async function openCampaign(url: string, slug: string): Promise<void> {
  const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
  const created = await fetch(`${url}/api/v1/campaigns`, { method: 'POST', headers, body: JSON.stringify({ slug, title: 'Free the detained journalists', locale: 'en', timeZone: 'Asia/Tokyo' }) });
  expect(created.status, await created.text()).toBe(201);
  const opened = await fetch(`${url}/api/v1/campaigns/${slug}`, { method: 'PATCH', headers, body: JSON.stringify({ status: 'open' }) });
  expect(opened.status, await opened.text()).toBe(200);
}

function readAcks(file: string): Ack[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Ack);
}

/** The signer child process (test/operations/helpers/signer-child.ts), stopped with SIGTERM. */
function startSigner(url: string, slug: string, ackFile: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, 'test/operations/helpers/signer-child.ts'), url, slug, ackFile, '4'], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  cleanups.push(() => void child.kill('SIGKILL'));
  return {
    stop: async () => {
      child.kill('SIGTERM');
      const code = await exited;
      return { code, summary: out.trim() ? (JSON.parse(out.trim()) as { signed: number; failures: number }) : null, stderr: err };
    },
  };
}

function emailsIn(path: string): { integrity: string; emails: Set<string> } {
  const db = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
  try {
    const integrity = db.prepare('PRAGMA integrity_check').pluck().get() as string;
    const emails = new Set(db.prepare('SELECT email_normalized FROM signature_submissions').pluck().all() as string[]);
    return { integrity, emails };
  } finally {
    db.close();
  }
}

describe('signet backup and restore', () => {
  it('a backup taken while another process signs holds every signature acknowledged before it began, and restores once the server stops', async () => {
    const dir = tempDir('backup');
    const env = { DATABASE_PATH: join(dir, 'signet.db'), DATA_DIR: dir };
    const server = await startServer(dir);
    await openCampaign(server.url, 'free-journalists');

    const ackFile = join(dir, 'acks.jsonl');
    const signer = startSigner(server.url, 'free-journalists', ackFile);
    await waitFor('the signer to be acknowledged 300 times', () => (readAcks(ackFile).length >= 300 ? true : undefined), 30_000);

    const backupFile = join(dir, 'backups', 'signet-backup.db');
    const backupStartedAt = Date.now();
    const backup = runSignet(['backup', backupFile], env);
    const backupEndedAt = Date.now();
    expect(backup.status, backup.stderr).toBe(0);
    expect(backup.stdout).toMatch(/Backup written to .*signet-backup\.db: [\d.]+ (KiB|MiB) \(\d+ bytes\) in \d+ ms, integrity_check ok\./);
    expect(backup.stdout).toMatch(/It holds 0 signatures \(0 confirmed\) and \d+ signing requests awaiting confirmation\./);
    expect(backup.stdout).toContain(`The secret key is NOT in the backup: keep a copy of ${join(dir, 'secret.key')}`);
    // Signing went on after the backup (so the server was writing throughout).
    await waitFor('acknowledgements after the backup', () => (readAcks(ackFile).some((ack) => ack.ackAt > backupEndedAt) ? true : undefined), 15_000);

    // While the server runs, a restore is refused and the live database is untouched.
    const refused = runSignet(['restore', backupFile], env);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('is in use by another process (a server, a worker or another command); stop it, then restore.');

    const stopped = await signer.stop();
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.summary?.failures).toBe(0);
    expect(await server.stop()).toBe(0);

    const acks = readAcks(ackFile);
    const before = acks.filter((ack) => ack.ackAt < backupStartedAt);
    const during = acks.filter((ack) => ack.ackAt >= backupStartedAt && ack.ackAt <= backupEndedAt);
    const live = emailsIn(join(dir, 'signet.db'));
    expect(live.emails.size).toBe(acks.length);
    expect(before.length).toBeGreaterThanOrEqual(300);
    expect(during.length).toBeGreaterThan(0);

    // The backup file: checked, readable by its owner only, every request acknowledged before it began.
    expect(statSync(backupFile).mode & 0o777).toBe(0o600);
    const inBackup = emailsIn(backupFile);
    expect(inBackup.integrity).toBe('ok');
    expect(before.filter((ack) => !inBackup.emails.has(ack.email))).toEqual([]);

    const restored = runSignet(['restore', backupFile], env);
    expect(restored.status, restored.stderr).toBe(0);
    expect(restored.stdout).toContain(`Restored ${backupFile} to ${join(dir, 'signet.db')}`);
    expect(restored.stdout).toMatch(/The database it replaced is kept as .*signet\.db\.replaced-/);
    expect(existsSync(join(dir, 'signet.db-wal'))).toBe(false);

    const after = emailsIn(join(dir, 'signet.db'));
    expect(after.integrity).toBe('ok');
    expect(before.filter((ack) => !after.emails.has(ack.email))).toEqual([]);
    // It is the backup's content, not the live database's: what was signed after the backup is gone.
    expect(after.emails.size).toBe(inBackup.emails.size);
    expect(after.emails.size).toBeLessThan(acks.length);

    // The restored database serves: a server starts on it and counts what the backup held.
    const again = await startServer(dir);
    const campaign = await fetch(`${again.url}/api/v1/campaigns/free-journalists`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(campaign.status).toBe(200);
    const stats = await fetch(`${again.url}/api/v1/campaigns/free-journalists/stats`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(stats.status).toBe(200);
    expect((await stats.json()).byStatus.pending).toBe(inBackup.emails.size);
  }, 120_000);

  it('refuses to overwrite an existing file', () => {
    const dir = tempDir('backup-exists');
    const env = { DATABASE_PATH: join(dir, 'signet.db'), DATA_DIR: dir };
    expect(runSignet(['migrate'], env).status).toBe(0);
    const target = join(dir, 'taken.db');
    writeFileSync(target, 'not to be lost');
    const result = runSignet(['backup', target], env);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${target} already exists; a backup never overwrites a file.`);
    expect(readFileSync(target, 'utf8')).toBe('not to be lost');
  });

  it('refuses to restore while any process has the database open, even idle', async () => {
    const dir = tempDir('restore-held');
    const env = { DATABASE_PATH: join(dir, 'signet.db'), DATA_DIR: dir };
    expect(runSignet(['migrate'], env).status).toBe(0);
    const backupFile = join(dir, 'backup.db');
    expect(runSignet(['backup', backupFile], env).status).toBe(0);
    await withDatabase(join(dir, 'signet.db'), async () => {
      const refused = runSignet(['restore', backupFile], env);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain('is in use by another process');
    });
    const done = runSignet(['restore', backupFile], env);
    expect(done.status, done.stderr).toBe(0);
  });

  it('refuses a file that is not a sound Signet database, leaving the database as it was', () => {
    const dir = tempDir('restore-bad');
    const env = { DATABASE_PATH: join(dir, 'signet.db'), DATA_DIR: dir };
    expect(runSignet(['migrate'], env).status).toBe(0);
    const before = readFileSync(join(dir, 'signet.db'));

    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'x'.repeat(8192));
    const notDb = runSignet(['restore', text], env);
    expect(notDb.status).toBe(1);
    expect(notDb.stderr).toMatch(/notes\.txt cannot be (opened|read) as a SQLite database/);

    const foreign = join(dir, 'foreign.db');
    const db = new BetterSqlite3(foreign);
    db.exec('CREATE TABLE notes (body TEXT)');
    db.close();
    const notSignet = runSignet(['restore', foreign], env);
    expect(notSignet.status).toBe(1);
    expect(notSignet.stderr).toContain('it is not a Signet database');

    expect(readFileSync(join(dir, 'signet.db')).equals(before)).toBe(true);
  });

  it('applies the migrations a backup from an earlier version lacks', async () => {
    const dir = tempDir('restore-migrate');
    // An earlier version: the same migrations folder, cut after the first three.
    const older = join(dir, 'older-migrations');
    cpSync(migrationsFolder, older, { recursive: true });
    const journalPath = join(older, 'meta', '_journal.json');
    const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { tag: string }[] };
    const later = journal.entries.slice(3).map((entry) => entry.tag);
    writeFileSync(journalPath, JSON.stringify({ ...journal, entries: journal.entries.slice(0, 3) }));
    const oldBackup = join(dir, 'old.db');
    const db = new BetterSqlite3(oldBackup);
    const { drizzle } = await import('drizzle-orm/better-sqlite3');
    const { migrate } = await import('drizzle-orm/better-sqlite3/migrator');
    migrate(drizzle(db), { migrationsFolder: older });
    db.close();

    mkdirSync(join(dir, 'data'));
    const report = await restoreDatabase({ databasePath: join(dir, 'data', 'signet.db'), source: oldBackup, migrationsFolder });
    expect(report.migrated).toEqual(later);
    expect(report.replacedKeptAt).toBeNull();
    const restored = new BetterSqlite3(join(dir, 'data', 'signet.db'), { readonly: true });
    try {
      expect(migrationState(restored, migrationsFolder)).toEqual({ applied: journal.entries.length, pending: [], unknown: 0 });
    } finally {
      restored.close();
    }
  });
});
