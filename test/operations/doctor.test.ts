import { chmodSync, closeSync, cpSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTemplateFiles } from '../../src/letters/node/template-files.js';
import { silentLogger } from '../../src/lib/logger.js';
import { systemClock } from '../../src/lib/clock.js';
import { organisationAccess } from '../../src/services/access.js';
import type { ServiceContext } from '../../src/services/context.js';
import { readOrganisation } from '../../src/services/organisation.js';
import type { SqliteDatabase } from '../../src/db/node/better-sqlite3.js';
import { repoLettersDir } from '../helpers/app.js';
import { runSignet, withDatabase } from '../helpers/cli.js';
import { testKeys, testPrivacy } from '../helpers/keys.js';
import { storeTestOrganisation } from '../helpers/organisation.js';
import { startSmtpServer, type TestSmtpServer } from '../mail/helpers/smtp-server.js';
import { cupsUnavailable, QUEUE, startCups } from '../printing/node/cups-server.js';
import { runSignetAsync } from './helpers/run-signet-async.js';

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const serviceContext = (database: SqliteDatabase): ServiceContext => ({
  db: database,
  clock: systemClock,
  logger: silentLogger,
  publicUrl: 'http://localhost:3000',
  mailFrom: 'Signet <no-reply@localhost>',
  confirmTokenTtlMs: 1,
  keys: testKeys,
  privacy: testPrivacy,
  access: organisationAccess,
});

/** The doctor's lines as `{ check: level }`, e.g. `{ smtp: 'FAIL' }`. */
function levels(stdout: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const match = /^(ok|warn|FAIL)\s+(\S+(?: key)?)\s{2,}/.exec(line);
    if (match) result[match[2]!] = match[1]!;
  }
  return result;
}

let dir: string;
let env: Record<string, string>;
let smtp: TestSmtpServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'signet-doctor-'));
  env = { DATABASE_PATH: join(dir, 'signet.db'), DATA_DIR: dir };
  // A real installation: migrated, with its key file made at first start, and its organisation saved.
  const migrated = runSignet(['migrate'], env);
  expect(migrated.status, migrated.stderr).toBe(0);
  await withDatabase(join(dir, 'signet.db'), async (database) => storeTestOrganisation(database));
  smtp = await startSmtpServer();
});

afterAll(async () => {
  await smtp?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('signet doctor', () => {
  it('passes on a healthy installation, one line per check', async () => {
    const result = await runSignetAsync(['doctor'], { ...env, SMTP_URL: smtp.url });
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(levels(result.stdout)).toEqual({ settings: 'ok', database: 'ok', migrations: 'ok', 'secret key': 'ok', organisation: 'ok', smtp: 'ok', fonts: 'ok', disk: 'ok' });
    expect(result.stdout).toMatch(/^ok {4}organisation {2}"Refugee Rights Network Tokyo", saved 2027-08-01T00:00:00.000Z$/m);
    expect(result.stdout).toContain(`ok    smtp          ${smtp.url} answered EHLO`);
    expect(result.stdout).toMatch(/ok {4}migrations {4}\d+ applied, none pending/);
    expect(result.stdout).toContain(`ok    secret key    from ${join(dir, 'secret.key')} (mode 600), not in the database`);
    expect(result.stdout).toContain('ok    fonts         10 letter faces load');
    expect(result.stderr).toBe('');
  });

  it('fails naming SMTP when the SMTP server does not answer', async () => {
    const port = await closedPort();
    const result = runSignet(['doctor'], { ...env, SMTP_URL: `smtp://127.0.0.1:${port}` });
    expect(result.status).toBe(1);
    expect(levels(result.stdout)).toMatchObject({ database: 'ok', smtp: 'FAIL', fonts: 'ok' });
    expect(result.stdout).toMatch(new RegExp(`FAIL  smtp          cannot use smtp://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    expect(result.stderr).toBe('signet doctor: FAIL: smtp\n');
  });

  it('fails naming the database when the file is corrupt', () => {
    const copy = mkdtempSync(join(tmpdir(), 'signet-doctor-corrupt-'));
    try {
      cpSync(join(dir, 'signet.db'), join(copy, 'signet.db'));
      cpSync(join(dir, 'secret.key'), join(copy, 'secret.key'));
      // Garbage over the b-tree pages past the schema page, as a failing disk would leave them.
      const size = statSync(join(copy, 'signet.db')).size;
      const fd = openSync(join(copy, 'signet.db'), 'r+');
      for (let page = 2; page * 4096 < size; page += 3) writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, page * 4096);
      closeSync(fd);
      const result = runSignet(['doctor'], { DATABASE_PATH: join(copy, 'signet.db'), DATA_DIR: copy });
      expect(result.status).toBe(1);
      expect(levels(result.stdout).database).toBe('FAIL');
      expect(result.stdout).toMatch(/FAIL {2}database {6}.*signet\.db (failed PRAGMA integrity_check|cannot be read)/);
      expect(result.stderr).toMatch(/^signet doctor: FAIL: database/);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('fails naming the secret key when others can read it, and the settings when one is invalid', () => {
    chmodSync(join(dir, 'secret.key'), 0o644);
    try {
      const result = runSignet(['doctor'], env);
      expect(result.status).toBe(1);
      expect(result.stdout).toContain(`FAIL  secret key    ${join(dir, 'secret.key')} can be read by other users (mode 644); run chmod 600`);
      expect(result.stderr).toBe('signet doctor: FAIL: secret key\n');
    } finally {
      chmodSync(join(dir, 'secret.key'), 0o600);
    }
    const invalid = runSignet(['doctor'], { ...env, METRICS_TOKEN: 'short' });
    expect(invalid.status).toBe(1);
    expect(invalid.stdout).toContain('FAIL  settings  METRICS_TOKEN: must be at least 24 characters');
    expect(invalid.stderr).toBe('signet doctor: FAIL: settings\n');
  });

  it('fails naming the organisation while it is the shipped example, and says where to set it', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'signet-doctor-fresh-'));
    try {
      const freshEnv = { DATABASE_PATH: join(fresh, 'signet.db'), DATA_DIR: fresh };
      expect(runSignet(['migrate'], freshEnv).status).toBe(0);
      const notSeeded = runSignet(['doctor'], freshEnv);
      expect(notSeeded.status).toBe(1);
      expect(notSeeded.stdout).toMatch(
        /^FAIL {2}organisation {2}not set: letters\/organisation\.json is the shipped example \("Example Human Rights Network Japan"\); set your organisation's name and address in the dashboard \(Organisation, \/admin\/organisation\) or with PUT \/api\/v1\/organisation$/m,
      );
      expect(notSeeded.stderr).toBe('signet doctor: FAIL: organisation\n');

      // Seeded by the first read, as the running server does: still the example.
      await withDatabase(join(fresh, 'signet.db'), async (database) => {
        const view = await readOrganisation(serviceContext(database), createTemplateFiles(repoLettersDir));
        expect(view.isExample).toBe(true);
      });
      const seeded = runSignet(['doctor'], freshEnv);
      expect(seeded.status).toBe(1);
      expect(seeded.stdout).toMatch(/^FAIL {2}organisation {2}still the shipped example \("Example Human Rights Network Japan"\): letters, letters mailings and the signing pages are refused; set your organisation's name/m);

      await withDatabase(join(fresh, 'signet.db'), async (database) => storeTestOrganisation(database));
      const saved = runSignet(['doctor'], freshEnv);
      expect(levels(saved.stdout).organisation).toBe('ok');
      expect(saved.stderr).not.toContain('organisation');
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it('fails naming the printer when PRINTER_URL does not answer', async () => {
    const port = await closedPort();
    const result = runSignet(['doctor'], { ...env, PRINTER_URL: `ipp://127.0.0.1:${port}/printers/Letters` });
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/FAIL {2}printer {7}Cannot reach the printer at ipp:\/\/127\.0\.0\.1:\d+\/printers\/Letters for Get-Printer-Attributes \(ECONNREFUSED\)/);
    expect(result.stderr).toBe('signet doctor: FAIL: printer\n');
  });
});

describe.skipIf(cupsUnavailable() !== null)('signet doctor with a real CUPS printer', () => {
  it('passes while the queue takes jobs, warns when it is stopped and fails when it refuses jobs', async () => {
    const cups = await startCups();
    try {
      const printerEnv = { ...env, PRINTER_URL: cups.printerUrl };
      const healthy = await runSignetAsync(['doctor'], printerEnv);
      expect(healthy.status, healthy.stdout + healthy.stderr).toBe(0);
      expect(healthy.stdout).toMatch(/^ok {4}printer {7}idle, accepting jobs/m);

      await cups.command('cupsdisable', QUEUE);
      const stopped = await runSignetAsync(['doctor'], printerEnv);
      expect(stopped.status, stopped.stdout).toBe(0);
      expect(stopped.stdout).toMatch(/^warn {2}printer {7}the printer is stopped/m);

      await cups.command('cupsenable', QUEUE);
      await cups.command('cupsreject', QUEUE);
      const refusing = await runSignetAsync(['doctor'], printerEnv);
      expect(refusing.status).toBe(1);
      expect(refusing.stdout).toMatch(/^FAIL {2}printer {7}the printer is not accepting jobs/m);
      expect(refusing.stderr).toBe('signet doctor: FAIL: printer\n');
    } finally {
      await cups.stop();
    }
  }, 120_000);
});
