import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { makePrivateDirectorySync, preparePrivateFileSync } from '../lib/node/private-files.js';
import { integrityProblems, migrationState, openExisting, OperationError, signatureFigures, sqliteCode, syncPath, type SignatureFigures } from './sqlite-file.js';

export type BackupReport = SignatureFigures & {
  path: string;
  bytes: number;
  /** Migrations recorded in the copy. */
  migrations: number;
  milliseconds: number;
};

/** All remaining pages in one step (sqlite3_backup_step takes an int). */
const ALL_PAGES = 0x7fffffff;

/**
 * Copies the database to `target` with SQLite's online backup API while
 * servers and workers go on writing, then checks the copy
 * (`PRAGMA integrity_check`, Signet's migrations table) before it appears
 * under its name.
 *
 * The pages are copied in one step, inside one read transaction: under WAL
 * that is a consistent snapshot that never blocks a writer, whereas copying
 * in small steps starts over each time another connection commits, which on
 * a busy server can be forever. Every write committed (and so every request
 * answered) before the backup began is in the copy.
 *
 * The copy is written beside `target` under a temporary name and linked into
 * place, which fails if `target` exists: a backup never overwrites a file,
 * even one created meanwhile. It is switched to the rollback journal, so it
 * is one self-contained file with no -wal or -shm beside it, and made
 * readable by its owner only.
 */
export async function backupDatabase(options: { databasePath: string; target: string; migrationsFolder: string }): Promise<BackupReport> {
  const started = performance.now();
  const target = resolve(options.target);
  if (existsSync(target)) throw new OperationError(`${target} already exists; a backup never overwrites a file. Choose a new name.`);
  if (!existsSync(options.databasePath)) throw new OperationError(`there is no database at ${resolve(options.databasePath)} (DATABASE_PATH).`);
  makePrivateDirectorySync(dirname(target));
  const partial = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.partial`;
  try {
    // The copy holds supporters' personal data: readable by its owner only from its first byte,
    // whatever the umask (SQLite keeps the mode of the file it copies into, and of its journal).
    preparePrivateFileSync(partial, 'wx');
    const source = openExisting(options.databasePath);
    try {
      await source.backup(partial, { progress: () => ALL_PAGES });
    } catch (error) {
      throw new OperationError(`the backup of ${resolve(options.databasePath)} failed: ${(error as Error).message}`);
    } finally {
      source.close();
    }

    const copy = openExisting(partial);
    let figures: SignatureFigures;
    let migrations: number;
    try {
      copy.pragma('journal_mode = DELETE');
      const problems = integrityProblems(copy);
      if (problems.length > 0) throw new OperationError(`the copy failed PRAGMA integrity_check: ${problems.join('; ')}`);
      migrations = migrationState(copy, options.migrationsFolder).applied;
      figures = signatureFigures(copy);
    } catch (error) {
      if (error instanceof OperationError) throw error;
      throw new OperationError(`the copy cannot be read back (${sqliteCode(error) ?? ''} ${(error as Error).message}).`);
    } finally {
      copy.close();
    }

    syncPath(partial);
    try {
      linkSync(partial, target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new OperationError(`${target} appeared while the backup ran; it was left as it is.`);
      throw error;
    }
    syncPath(dirname(target));
    return { path: target, bytes: statSync(target).size, migrations, ...figures, milliseconds: Math.round(performance.now() - started) };
  } finally {
    rmSync(partial, { force: true });
    rmSync(`${partial}-journal`, { force: true });
  }
}
