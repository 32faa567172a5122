import type BetterSqlite3 from 'better-sqlite3';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { loadSettings, SettingsError, type Settings } from '../config.js';
import { defaultKeyFilePath } from '../entry/secret-key.js';
import { loadOrganisation } from '../letters/node/template-files.js';
import type { Organisation } from '../letters/template/types.js';
import { ORGANISATION_PROFILE_ID } from '../db/schema.js';
import { seedIsShippedExample } from '../services/organisation.js';
import type { FaceWeight } from '../letters/pdf/face-files.js';
import { faceScripts } from '../letters/pdf/font-runs.js';
import { MIN_ROOT_SECRET_CHARS } from '../lib/keyring.js';
import { SmtpTransport } from '../mail/node/smtp-transport.js';
import { IppPrinter } from '../printing/node/ipp-printer.js';
import { formatBytes, integrityProblems, migrationState, openExisting, sqliteCode } from './sqlite-file.js';

export type CheckLevel = 'ok' | 'warn' | 'fail';

/** One line of `signet doctor`. */
export type CheckResult = { check: string; level: CheckLevel; message: string };

export type DoctorOptions = {
  env: Record<string, string | undefined>;
  migrationsFolder: string;
  /** The `letters/` directory, whose `organisation.json` seeds the organisation profile. */
  lettersDir: string;
  /** How long the SMTP server and the printer may take to answer. */
  timeoutMs?: number;
};

/** Below this much free space in DATA_DIR (or below the database's size: no room for a backup) the check fails. */
const DISK_FAIL_BYTES = 100 * 1024 * 1024;
/** Below this (or twice the database's size) it warns. */
const DISK_WARN_BYTES = 1024 * 1024 * 1024;

const ok = (check: string, message: string): CheckResult => ({ check, level: 'ok', message });
const warn = (check: string, message: string): CheckResult => ({ check, level: 'warn', message });
const fail = (check: string, message: string): CheckResult => ({ check, level: 'fail', message });

/**
 * Checks an installation as `signet serve` would find it, without changing
 * anything: no migration is applied, no key file made, no mail sent. Each
 * check gives one result; checks that need the settings are skipped when
 * they are invalid.
 */
export async function runDoctor(options: DoctorOptions): Promise<CheckResult[]> {
  let settings: Settings;
  try {
    settings = loadSettings(options.env);
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    return [fail('settings', error.problems.map((p) => `${p.setting}: ${p.message}`).join('; '))];
  }
  const results: CheckResult[] = [ok('settings', 'valid')];
  const timeoutMs = options.timeoutMs ?? 10_000;

  const database = openDatabase(settings);
  results.push(database.result);
  const db = database.db;
  try {
    results.push(db ? checkMigrations(db, options.migrationsFolder) : fail('migrations', 'not checked: the database cannot be read'));
    results.push(checkSecretKey(settings, db));
    results.push(db ? await checkOrganisation(db, options.lettersDir) : fail('organisation', 'not checked: the database cannot be read'));
  } finally {
    db?.close();
  }
  results.push(await checkSmtp(settings, timeoutMs));
  results.push(await checkFonts());
  results.push(await checkDisk(settings));
  if (settings.PRINTER_URL) results.push(await checkPrinter(settings.PRINTER_URL, timeoutMs));
  return results;
}

function openDatabase(settings: Settings): { result: CheckResult; db: BetterSqlite3.Database | null } {
  const path = resolve(settings.DATABASE_PATH);
  if (!existsSync(path)) return { result: fail('database', `no database at ${path} (DATABASE_PATH); it is made by the first \`signet serve\` or \`signet migrate\``), db: null };
  let db: BetterSqlite3.Database | null = null;
  try {
    db = openExisting(path);
    const problems = integrityProblems(db);
    if (problems.length > 0) {
      db.close();
      return { result: fail('database', `${path} failed PRAGMA integrity_check: ${problems.slice(0, 3).join('; ')}; restore the latest backup`), db: null };
    }
    const bytes = statSync(path).size + (existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0);
    return { result: ok('database', `${path} (${formatBytes(bytes)}), integrity_check ok`), db };
  } catch (error) {
    db?.close();
    return { result: fail('database', `${path} cannot be read: ${sqliteCode(error) ?? 'error'}: ${(error as Error).message}`), db: null };
  }
}

function checkMigrations(db: BetterSqlite3.Database, migrationsFolder: string): CheckResult {
  try {
    const state = migrationState(db, migrationsFolder);
    if (state.unknown > 0) return fail('migrations', `${state.unknown} applied migrations are unknown to this version: the database comes from a newer Signet`);
    if (state.pending.length > 0) return fail('migrations', `${state.pending.length} pending (${state.pending.join(', ')}); run \`signet migrate\` or start the server`);
    return ok('migrations', `${state.applied} applied, none pending`);
  } catch (error) {
    return fail('migrations', (error as Error).message);
  }
}

/** Whether the database holds anything a lost key would break: tokens, signatures or signing requests. */
function holdsData(db: BetterSqlite3.Database | null): boolean {
  if (!db) return false;
  try {
    return (db.prepare(`SELECT EXISTS (SELECT 1 FROM "signatures") OR EXISTS (SELECT 1 FROM "signature_submissions") OR EXISTS (SELECT 1 FROM "outbox" WHERE "status" = 'pending')`).pluck().get() as number) === 1;
  } catch {
    return false;
  }
}

/**
 * The root secret: present, readable by its owner only, long enough, and
 * not stored in the database (whose backups would then carry it).
 */
function checkSecretKey(settings: Settings, db: BetterSqlite3.Database | null): CheckResult {
  let secret: string;
  let where: string;
  if (settings.SECRET_KEY) {
    secret = settings.SECRET_KEY;
    where = 'SECRET_KEY';
  } else {
    const path = settings.SECRET_KEY_FILE ? resolve(settings.SECRET_KEY_FILE) : defaultKeyFilePath(settings);
    if (!existsSync(path)) {
      if (settings.SECRET_KEY_FILE) return fail('secret key', `SECRET_KEY_FILE names ${path}, which does not exist`);
      if (holdsData(db)) {
        return fail('secret key', `${path} is missing: the next start would make a new key and every confirmation and unsubscribe link already sent would stop working; put back the key from your backup of it`);
      }
      return warn('secret key', `${path} does not exist yet; it is made at first start (back it up then)`);
    }
    const mode = statSync(path).mode & 0o777;
    if (mode & 0o077) return fail('secret key', `${path} can be read by other users (mode ${mode.toString(8)}); run chmod 600 ${path}`);
    secret = readFileSync(path, 'utf8').trim();
    where = `${path} (mode 600)`;
    if (secret.length < MIN_ROOT_SECRET_CHARS) return fail('secret key', `${path} holds fewer than ${MIN_ROOT_SECRET_CHARS} characters`);
  }
  if (db) {
    try {
      const values = db.prepare(`SELECT "value" FROM "settings"`).pluck().all() as string[];
      if (values.some((value) => value.includes(secret))) return fail('secret key', `the secret key is stored in the database (settings table), so every backup carries it; rotate it (README: Privacy)`);
    } catch {
      // A database without the settings table fails the migrations check already.
    }
  }
  return ok('secret key', `from ${where}, not in the database`);
}

const setOrganisation =
  "set your organisation's name and address in the dashboard (Organisation, /admin/organisation) or with PUT /api/v1/organisation";

/**
 * The organisation profile letters, emails and the privacy notice speak for: saved, or about to
 * be seeded from an edited `letters/organisation.json`; failing while it is the shipped example
 * (letters, letters mailings and the signing pages refuse it then).
 */
async function checkOrganisation(db: BetterSqlite3.Database, lettersDir: string): Promise<CheckResult> {
  let row: { profile: string; is_example: number; updated_at: number } | undefined;
  try {
    row = db.prepare(`SELECT "profile", "is_example", "updated_at" FROM "organisation_profile" WHERE "id" = ?`).get(ORGANISATION_PROFILE_ID) as typeof row;
  } catch {
    return fail('organisation', 'not checked: the database has no organisation profile table (see migrations)');
  }
  if (row) {
    const name = (JSON.parse(row.profile) as { name: string }).name;
    if (row.is_example) return fail('organisation', `still the shipped example ("${name}"): letters, letters mailings and the signing pages are refused; ${setOrganisation}`);
    return ok('organisation', `"${name}", saved ${new Date(row.updated_at).toISOString()}`);
  }
  let seed: Organisation;
  try {
    seed = await loadOrganisation(lettersDir);
  } catch (error) {
    return fail('organisation', `none saved, and ${(error as Error).message.replace(/\.$/, '')}; ${setOrganisation}`);
  }
  if (seedIsShippedExample(seed)) return fail('organisation', `not set: letters/organisation.json is the shipped example ("${seed.name}"); ${setOrganisation}`);
  return ok('organisation', `none saved yet: letters/organisation.json ("${seed.name}") seeds it at first use`);
}

function smtpEndpoint(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}`;
}

async function checkSmtp(settings: Settings, timeoutMs: number): Promise<CheckResult> {
  if (!settings.SMTP_URL) return ok('smtp', `no SMTP_URL: mail is written as files under ${resolve(settings.DATA_DIR, 'mail')}`);
  const endpoint = smtpEndpoint(settings.SMTP_URL);
  let transport: SmtpTransport | undefined;
  try {
    transport = new SmtpTransport({ url: settings.SMTP_URL, maxConnections: 1, connectionTimeoutMs: timeoutMs, greetingTimeoutMs: timeoutMs, socketTimeoutMs: timeoutMs });
    await transport.verify();
    return ok('smtp', `${endpoint} answered EHLO${new URL(settings.SMTP_URL).username ? ' and accepted the credentials' : ''}`);
  } catch (error) {
    return fail('smtp', `cannot use ${endpoint}: ${(error as Error).message}`);
  } finally {
    await transport?.close();
  }
}

/** Every face the letter renderer may embed (src/letters/node/node-font-faces.ts) loads and maps a character of its script. */
async function checkFonts(): Promise<CheckResult> {
  // fontkit loads here, not with every command (the server's start among them).
  const { fontFace } = await import('../letters/node/node-font-faces.js');
  const probes: Record<(typeof faceScripts)[number], number> = { latin: 0x41, jp: 0x3042, sc: 0x4e2d, tc: 0x4e2d, kr: 0xac00 };
  const weights: FaceWeight[] = ['regular', 'bold'];
  const broken: string[] = [];
  for (const script of faceScripts) {
    for (const weight of weights) {
      try {
        if (!fontFace(script, weight).has(probes[script])) broken.push(`${script} ${weight}: no glyph for U+${probes[script].toString(16).toUpperCase()}`);
      } catch (error) {
        broken.push(`${script} ${weight}: ${(error as Error).message.split('\n')[0]}`);
      }
    }
  }
  const total = faceScripts.length * weights.length;
  if (broken.length > 0) return fail('fonts', `${broken.length} of ${total} letter faces cannot be used (${broken.join('; ')}); run npm install`);
  return ok('fonts', `${total} letter faces load (Noto Sans: ${faceScripts.join(', ')}; regular and bold)`);
}

/** The nearest existing directory: DATA_DIR may not exist before the first start. */
function existingAncestor(path: string): string {
  let current = resolve(path);
  while (!existsSync(current) && dirname(current) !== current) current = dirname(current);
  return current;
}

async function checkDisk(settings: Settings): Promise<CheckResult> {
  const directory = existingAncestor(settings.DATA_DIR);
  const stats = await statfs(directory);
  const free = stats.bavail * stats.bsize;
  const databasePath = resolve(settings.DATABASE_PATH);
  const databaseBytes = existsSync(databasePath) ? statSync(databasePath).size : 0;
  const text = `${formatBytes(free)} free in ${directory}`;
  if (free < Math.max(DISK_FAIL_BYTES, databaseBytes)) return fail('disk', `${text}: too little for the database to grow or for a backup (${formatBytes(databaseBytes)})`);
  if (free < Math.max(DISK_WARN_BYTES, 2 * databaseBytes)) return warn('disk', `${text}: running low (database ${formatBytes(databaseBytes)})`);
  return ok('disk', text);
}

async function checkPrinter(url: string, timeoutMs: number): Promise<CheckResult> {
  try {
    const status = await new IppPrinter({ url, timeoutMs }).status();
    const said = status.stateMessage ? ` (${status.stateMessage})` : '';
    if (status.acceptingJobs === false) return fail('printer', `the printer is not accepting jobs${said}`);
    if (status.state === 'stopped') return warn('printer', `the printer is stopped${said}; jobs wait until it resumes`);
    return ok('printer', `${status.state}, accepting jobs${said}`);
  } catch (error) {
    return fail('printer', (error as Error).message);
  }
}
