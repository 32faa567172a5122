import BetterSqlite3 from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, readdirSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Keyring } from '../lib/keyring.js';
import { makePrivateDirectorySync, preparePrivateFileSync, tightenFileSync } from '../lib/node/private-files.js';
import type { ErasureLedgerEntry } from '../services/erasure-ledger.js';
import { reapplyErasures } from './erasure-reapply.js';
import { integrityProblems, migrationState, openExisting, OperationError, signatureFigures, sqliteCode, syncPath, type SignatureFigures } from './sqlite-file.js';

export type RestoreReport = SignatureFigures & {
  path: string;
  bytes: number;
  /** Migrations applied to the restored copy because the backup predates them. */
  migrated: string[];
  /** Where the database that was replaced was kept, if there was one. */
  replacedKeptAt: string | null;
  /** The erasure ledger's part, when one was given. */
  erasures: {
    /** Entries in the ledger. */
    recorded: number;
    /** Entries that found the person in the backup, and erased them again. */
    reapplied: number;
    /** Kept copies of replaced databases (`<path>.replaced-*`) the ledger was applied to as well. */
    copies: string[];
    /** Kept copies it could not be applied to, and why: they may still hold erased people. */
    failedCopies: { path: string; reason: string }[];
  } | null;
};

/** The erasures a restore applies again: the ledger's entries and the keys that hashed them (src/operations/erasure-reapply.ts). */
export type RestoreErasures = { entries: readonly ErasureLedgerEntry[]; keys: Keyring | null };

/** Refuses a ledger with entries hashed under a root secret that is not set: they could not be matched, and those people would come back. */
async function assertLedgerKeys(erasures: RestoreErasures): Promise<void> {
  const keyrings = erasures.keys ? [erasures.keys, erasures.keys.previous] : [];
  const known = new Set(await Promise.all(keyrings.filter((keys): keys is Keyring => keys !== undefined).map((keys) => keys.erasureKeyId())));
  const unknown = erasures.entries.filter((entry) => !known.has(entry.key));
  if (unknown.length === 0) return;
  const keyIds = [...new Set(unknown.map((entry) => entry.key))].join(', ');
  throw new OperationError(
    `${unknown.length} erasures in the ledger were recorded under another secret key (key id ${keyIds}), so they cannot be applied to the backup and those people would come back. ` +
      'Set that key as SECRET_KEY_PREVIOUS (or put it in the key file\'s .previous) and restore again. Nothing was changed.',
  );
}

/** The copies earlier restores kept beside the database (`<path>.replaced-<time>`), without their -wal and -shm. */
function keptCopies(databasePath: string): string[] {
  const prefix = `${basename(databasePath)}.replaced-`;
  return readdirSync(dirname(databasePath))
    .filter((name) => name.startsWith(prefix) && !/-(wal|shm|journal)$/.test(name))
    .map((name) => join(dirname(databasePath), name))
    .sort();
}

/** The database is open in another process. */
export class DatabaseInUse extends OperationError {}

/**
 * Whether another process has the database open, asked of SQLite itself: a
 * connection in EXCLUSIVE locking mode must take an exclusive lock on the
 * file, and under WAL every open connection (a server, a worker, another
 * CLI command, the sqlite3 shell) holds a shared lock on it for as long as it
 * is open, busy or idle. Chosen over a pid file written by `serve` and
 * `worker` because it also sees any other holder, cannot go stale after a
 * crash (the system drops the locks of a dead process) and cannot be fooled
 * by a reused pid. Like SQLite's own locking it needs a local file system.
 *
 * A file that is not a database, or too damaged to lock, passes: nothing
 * can be using it as one, and replacing it is the point of a restore.
 */
function assertNotHeld(databasePath: string): void {
  let db: BetterSqlite3.Database | undefined;
  try {
    db = new BetterSqlite3(databasePath, { fileMustExist: true, timeout: 0 });
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('ROLLBACK');
  } catch (error) {
    const code = sqliteCode(error);
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
      throw new DatabaseInUse(`${databasePath} is in use by another process (a server, a worker or another command); stop it, then restore.`);
    }
    if (code !== 'SQLITE_NOTADB' && code !== 'SQLITE_CORRUPT') throw error;
  } finally {
    // Closing the last connection checkpoints the log into the file and removes it.
    db?.close();
  }
}

/**
 * Replaces the database with a backup: the backup is checked
 * (`integrity_check`, a Signet database from this or an earlier version),
 * copied beside the database, brought up to date with the migrations this
 * version ships, and renamed over the database in one step. The database
 * it replaces is kept (hard link) under `<path>.replaced-<time>`. Refuses
 * while any process has the database open, checked before the copy and
 * again right before the rename. A stale -wal or -shm (left by a crash) is
 * removed, as SQLite would otherwise replay that log into the restored file.
 *
 * With `erasures` (the erasure ledger, README: Backups), every erasure made
 * since the backup is applied again to the copy before it takes the
 * database's place, and to every kept `.replaced-*` copy beside it, so neither
 * brings an erased person back. A ledger entry made under a root secret that
 * is not set stops the restore before anything changes.
 */
export async function restoreDatabase(options: {
  databasePath: string;
  source: string;
  migrationsFolder: string;
  now?: Date;
  erasures?: RestoreErasures;
}): Promise<RestoreReport> {
  const databasePath = resolve(options.databasePath);
  const source = resolve(options.source);
  if (!existsSync(source)) throw new OperationError(`there is no file ${source}.`);
  if (existsSync(databasePath) && realpathSync(source) === realpathSync(databasePath)) throw new OperationError(`${source} is the database itself.`);

  const current = existsSync(databasePath);
  if (current) assertNotHeld(databasePath);
  if (options.erasures) await assertLedgerKeys(options.erasures);

  let backup: BetterSqlite3.Database;
  try {
    backup = openExisting(source, { readonly: true });
  } catch (error) {
    throw new OperationError(`${source} cannot be opened as a SQLite database (${(error as Error).message}).`);
  }
  try {
    const problems = integrityProblems(backup);
    if (problems.length > 0) throw new OperationError(`${source} failed PRAGMA integrity_check: ${problems.join('; ')}`);
    const state = migrationState(backup, options.migrationsFolder);
    if (state.unknown > 0) throw new OperationError(`${source} comes from a newer version of Signet (${state.unknown} migrations this version does not know); restore it with that version.`);
  } catch (error) {
    if (error instanceof OperationError) throw error.message.startsWith(source) ? error : new OperationError(`${source}: ${error.message}`);
    throw new OperationError(`${source} cannot be read as a SQLite database (${(error as Error).message}).`);
  } finally {
    backup.close();
  }

  makePrivateDirectorySync(dirname(databasePath));
  const staged = `${databasePath}.${process.pid}.${randomBytes(4).toString('hex')}.restoring`;
  try {
    // Made 0600 before SQLite copies into it, so the restored database (and its log) is its owner's only.
    preparePrivateFileSync(staged, 'wx');
    // A copy through the backup API (not a file copy), so a source in WAL mode comes with its log applied.
    const reader = openExisting(source, { readonly: true });
    try {
      await reader.backup(staged, { progress: () => 0x7fffffff });
    } finally {
      reader.close();
    }
    const copy = openExisting(staged);
    let migrated: string[];
    try {
      copy.pragma('journal_mode = WAL');
      migrated = migrationState(copy, options.migrationsFolder).pending;
      migrate(drizzle(copy), { migrationsFolder: options.migrationsFolder });
    } finally {
      copy.close();
    }
    const reapplied = options.erasures
      ? await reapplyErasures({ path: staged, migrationsFolder: options.migrationsFolder, entries: options.erasures.entries, keys: options.erasures.keys, audit: true })
      : null;
    const counted = openExisting(staged, { readonly: true });
    let figures: SignatureFigures;
    try {
      figures = signatureFigures(counted);
    } finally {
      counted.close();
    }
    syncPath(staged);

    let replacedKeptAt: string | null = null;
    if (existsSync(databasePath)) {
      assertNotHeld(databasePath);
      replacedKeptAt = `${databasePath}.replaced-${(options.now ?? new Date()).toISOString().replace(/[:.]/g, '-')}`;
      linkSync(databasePath, replacedKeptAt);
      // The replaced database as an earlier version may have left it: the copy kept is 0600 too.
      tightenFileSync(replacedKeptAt);
    } else if (current) {
      throw new OperationError(`${databasePath} disappeared during the restore; nothing was replaced.`);
    }
    rmSync(`${databasePath}-wal`, { force: true });
    rmSync(`${databasePath}-shm`, { force: true });
    rmSync(`${databasePath}-journal`, { force: true });
    renameSync(staged, databasePath);
    syncPath(dirname(databasePath));
    let erasures: RestoreReport['erasures'] = null;
    if (options.erasures && reapplied) {
      erasures = { recorded: options.erasures.entries.length, reapplied: reapplied.reapplied, copies: [], failedCopies: [] };
      // Only the name changed for the database just replaced, so its copy is written here, never the restored database.
      for (const kept of keptCopies(databasePath)) {
        try {
          await reapplyErasures({ path: kept, migrationsFolder: options.migrationsFolder, entries: options.erasures.entries, keys: options.erasures.keys, audit: false });
          erasures.copies.push(kept);
        } catch (error) {
          erasures.failedCopies.push({ path: kept, reason: (error as Error).message });
        }
      }
    }
    return { path: databasePath, bytes: statSync(databasePath).size, migrated, replacedKeptAt, erasures, ...figures };
  } finally {
    rmSync(staged, { force: true });
    rmSync(`${staged}-wal`, { force: true });
    rmSync(`${staged}-shm`, { force: true });
  }
}
