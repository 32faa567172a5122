import BetterSqlite3 from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { makePrivateDirectorySync, preparePrivateFileSync, tightenFileSync } from '../node/private-files.js';
import { integrityProblems, migrationState, openExisting, OperationError, signatureFigures, sqliteCode, syncPath, type SignatureFigures } from './sqlite-file.js';

export type RestoreReport = SignatureFigures & {
  path: string;
  bytes: number;
  /** Migrations applied to the restored copy because the backup predates them. */
  migrated: string[];
  /** Where the database that was replaced was kept, if there was one. */
  replacedKeptAt: string | null;
};

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
 */
export async function restoreDatabase(options: { databasePath: string; source: string; migrationsFolder: string; now?: Date }): Promise<RestoreReport> {
  const databasePath = resolve(options.databasePath);
  const source = resolve(options.source);
  if (!existsSync(source)) throw new OperationError(`there is no file ${source}.`);
  if (existsSync(databasePath) && realpathSync(source) === realpathSync(databasePath)) throw new OperationError(`${source} is the database itself.`);

  const current = existsSync(databasePath);
  if (current) assertNotHeld(databasePath);

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
    let figures: SignatureFigures;
    try {
      copy.pragma('journal_mode = WAL');
      migrated = migrationState(copy, options.migrationsFolder).pending;
      migrate(drizzle(copy), { migrationsFolder: options.migrationsFolder });
      figures = signatureFigures(copy);
    } finally {
      copy.close();
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
    return { path: databasePath, bytes: statSync(databasePath).size, migrated, replacedKeptAt, ...figures };
  } finally {
    rmSync(staged, { force: true });
    rmSync(`${staged}-wal`, { force: true });
    rmSync(`${staged}-shm`, { force: true });
  }
}
