import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqliteDatabase } from '../../../src/db/node/better-sqlite3.js';
import { campaigns, mailings, signatures } from '../../../src/db/schema.js';
import { newId } from '../../../src/lib/ids.js';
import { projectRoot, runSignet, signetCommand, withDatabase as withDatabaseAt } from '../../helpers/cli.js';

let dir: string;

const env = () => ({ PATH: process.env.PATH ?? '', DATABASE_PATH: join(dir, 'signet.db'), DATA_DIR: dir, MAIL_SENDER: 'off', LOG_LEVEL: 'warn' });

const signet = (args: string[]) => runSignet(args, env());

const withDatabase = <T>(task: (database: SqliteDatabase) => Promise<T>) => withDatabaseAt(join(dir, 'signet.db'), task);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'signet-mailing-cli-'));
  const now = Date.now();
  await withDatabase(async (database) => {
    const campaignId = newId(now);
    await database.atomic([
      database.db.insert(campaigns).values({ id: campaignId, slug: 'free-them-2027', title: 'Free them', locale: 'en', status: 'open', timeZone: 'Asia/Tokyo', createdAt: now, updatedAt: now }),
      database.db.insert(signatures).values(
        ['a@example.org', 'b@example.org', 'c@example.org'].map((email) => ({
          id: newId(now),
          campaignId,
          name: email,
          email,
          emailNormalized: email,
          country: 'JP',
          locale: 'en' as const,
          updates: true,
          status: 'confirmed' as const,
          createdAt: now,
          confirmedAt: now,
        })),
      ),
    ]);
  });
  writeFileSync(join(dir, 'update.md'), '# Thank you\n\nThe letters are on their way.\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('signet mailing', () => {
  it('schedules through the same verb as the API and prints status', async () => {
    const scheduled = signet([
      'mailing', 'schedule', '--campaign', 'free-them-2027', '--kind', 'update', '--send-at', '2099-09-22T09:00', '--time-zone', 'Asia/Tokyo',
      '--subject', 'Thank you', '--body-file', join(dir, 'update.md'), '--rate', '120', '--cutoff', '2099-09-22T08:00:00+09:00',
    ]);
    expect(scheduled.stderr).toBe('');
    expect(scheduled.status).toBe(0);
    const match = /^Mailing ([0-9a-f-]{36}) scheduled: update for free-them-2027 at 2099-09-22T09:00 Asia\/Tokyo \(2099-09-22T00:00:00\.000Z\)\n$/.exec(scheduled.stdout);
    expect(match, scheduled.stdout).not.toBeNull();
    const id = match![1]!;
    const [row] = await withDatabase((database) => database.db.select().from(mailings).where(eq(mailings.id, id)));
    expect(row).toMatchObject({ ratePerMinute: 120, subject: 'Thank you', body: '# Thank you\n\nThe letters are on their way.\n', cutoffAt: Date.UTC(2099, 8, 21, 23, 0) });

    const status = signet(['mailing', 'status', id]);
    expect(status.status).toBe(0);
    expect(status.stdout).toBe(`Mailing ${id} (update, free-them-2027) at 2099-09-22T09:00 Asia/Tokyo\nscheduled: sent 0, failed 0 of 0 (skipped 0)\n`);

    const invalid = signet(['mailing', 'schedule', '--campaign', 'free-them-2027', '--kind', 'update', '--send-at', '2099-09-22T09:00', '--time-zone', 'Asia/Tokyo']);
    expect(invalid.status).toBe(1);
    expect(invalid.stderr).toContain('VALIDATION_FAILED');
    expect(invalid.stderr).toContain('subject');
  }, 60_000);

  it('signet worker runs a due mailing and `status --watch` follows it to the end; SIGTERM stops the worker cleanly', async () => {
    const scheduled = signet([
      'mailing', 'schedule', '--campaign', 'free-them-2027', '--kind', 'update', '--send-at', '2099-01-01T00:00', '--time-zone', 'UTC',
      '--subject', 'Thank you', '--body-file', join(dir, 'update.md'), '--dry-run',
    ]);
    expect(scheduled.status, scheduled.stderr).toBe(0);
    const id = /Mailing ([0-9a-f-]{36})/.exec(scheduled.stdout)![1]!;
    // Due now (scheduling refuses a past time, and a child process may start slowly).
    await withDatabase((database) => database.atomic([database.db.update(mailings).set({ sendAt: Date.now() }).where(eq(mailings.id, id))]));

    const worker = spawn(process.execPath, signetCommand(['worker']), { cwd: projectRoot, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let workerErr = '';
    worker.stderr.on('data', (chunk: Buffer) => (workerErr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => worker.on('exit', (code) => resolve(code)));
    try {
      const watcher = spawn(process.execPath, signetCommand(['mailing', 'status', id, '--watch']), { cwd: projectRoot, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      watcher.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const watched = await new Promise<number | null>((resolve) => watcher.on('exit', (code) => resolve(code)));
      expect(watched, workerErr).toBe(0);
      const lines = out.trim().split('\n');
      expect(lines[0]).toBe(`Mailing ${id} (update, free-them-2027) at 2099-01-01T00:00 UTC`);
      // Under load the worker may finish before the watcher's first read, so the first status may already be final.
      expect(lines[1]).toMatch(/^(scheduled|running|finished): /);
      expect(lines.at(-1)).toBe('finished: sent 0, failed 0 of 3 (skipped 0) [dry run]');
    } finally {
      worker.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 60_000);
});
