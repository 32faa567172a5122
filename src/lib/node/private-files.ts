import { chmodSync, closeSync, fchmodSync, mkdirSync, openSync, statSync, writeSync } from 'node:fs';
import { chmod, lstat, mkdir, open, readdir, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

/**
 * What Signet writes on disk holds supporters' data or secrets: the database and its log, mail
 * files with working confirmation links, letters naming signatories, reply scans, backups, the
 * key. Files are 0600 and directories 0700, set explicitly rather than left to the umask: a mode
 * given at creation only loses bits to the umask (and says nothing of a file that already
 * existed), so every creation here is followed by a chmod to the exact mode.
 */
export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIRECTORY_MODE = 0o700;

/** The directories from `first` (the topmost one mkdir made, as it reports it) down to `target`. */
function directoriesMade(first: string | undefined, target: string): string[] {
  if (first === undefined) return [];
  const made: string[] = [];
  for (let directory = target; ; directory = dirname(directory)) {
    made.push(directory);
    if (directory === first || dirname(directory) === directory) return made;
  }
}

/**
 * `mkdir -p` whose new directories are 0700. Directories that already exist are left as they
 * are: this is also used for folders outside DATA_DIR (a backup's, the database's), which are
 * not Signet's to change.
 */
export async function makePrivateDirectory(path: string): Promise<void> {
  const target = resolve(path);
  const first = await mkdir(target, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  for (const directory of directoriesMade(first, target)) await chmod(directory, PRIVATE_DIRECTORY_MODE);
}

/** {@link makePrivateDirectory}, for start-up and the command line. */
export function makePrivateDirectorySync(path: string): void {
  const target = resolve(path);
  const first = mkdirSync(target, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  for (const directory of directoriesMade(first, target)) chmodSync(directory, PRIVATE_DIRECTORY_MODE);
}

/** Opens a file to write (`wx`: a new one only), created 0600 and set to 0600 if it was there before. */
export async function openPrivateFile(path: string, flags: 'w' | 'wx'): Promise<FileHandle> {
  const handle = await open(path, flags, PRIVATE_FILE_MODE);
  try {
    await handle.chmod(PRIVATE_FILE_MODE);
  } catch (error) {
    await handle.close();
    throw error;
  }
  return handle;
}

/** Writes a whole file, 0600. */
export async function writePrivateFile(path: string, bytes: Uint8Array | string, flags: 'w' | 'wx' = 'w'): Promise<void> {
  const handle = await openPrivateFile(path, flags);
  try {
    await handle.writeFile(bytes);
  } finally {
    await handle.close();
  }
}

/**
 * A file made 0600 before a library writes into it: SQLite keeps an existing file's mode (and
 * gives its -wal, -shm and -journal the database's), where a file it creates itself would be
 * 0644 under the usual umask. `a` leaves an existing file's content as it is; `wx` wants a new one.
 */
export function preparePrivateFileSync(path: string, flags: 'a' | 'wx'): void {
  const fd = openSync(path, flags, PRIVATE_FILE_MODE);
  try {
    fchmodSync(fd, PRIVATE_FILE_MODE);
  } finally {
    closeSync(fd);
  }
}

/** Writes a new file (it must not exist), 0600. */
export function writeNewPrivateFileSync(path: string, text: string): void {
  const fd = openSync(path, 'wx', PRIVATE_FILE_MODE);
  try {
    fchmodSync(fd, PRIVATE_FILE_MODE);
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

/** Sets an existing file to 0600 (one a library made, or an earlier version left); a missing one is fine. */
export function tightenFileSync(path: string): void {
  try {
    chmodSync(path, PRIVATE_FILE_MODE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** DATA_DIR made or tightened at start: `tightened` when its mode had to change, `left` (with why) when it is not Signet's to change. */
export type DataDirectoryState = { state: 'private' | 'tightened' } | { state: 'left'; mode: number; reason: string };

/**
 * Makes DATA_DIR (0700), or sets an existing one to 0700: once it is, nothing under it can be
 * reached by other users, whatever the modes inside. A directory owned by someone else, or a
 * shared one (sticky bit, like /tmp), is left as it is and reported.
 */
export function secureDataDirectory(dataDir: string): DataDirectoryState {
  makePrivateDirectorySync(dataDir);
  const info = statSync(dataDir);
  const mode = info.mode & 0o7777;
  if (mode === PRIVATE_DIRECTORY_MODE) return { state: 'private' };
  if (mode & 0o1000) return { state: 'left', mode, reason: 'it is a shared directory (sticky bit)' };
  if (process.getuid && info.uid !== process.getuid()) return { state: 'left', mode, reason: 'another user owns it' };
  chmodSync(dataDir, PRIVATE_DIRECTORY_MODE);
  return { state: 'tightened' };
}

/**
 * Signet's own folders under DATA_DIR (letters and their batches, reply scans, mail files). Only
 * these are walked: DATA_DIR pointed at a folder shared with other things loses none of their modes.
 */
const signetFolders = ['letters', 'replies', 'mail'];

/**
 * Sets what an earlier version left in Signet's folders under DATA_DIR to 0700 (directories) and
 * 0600 (files), and says how many it changed. Symbolic links are not followed; an entry removed
 * meanwhile (a letter batch deleted, a mail file cleaned) is skipped. Run in the background at
 * start: DATA_DIR itself is already 0700 by then, so this only tidies what lies behind it.
 */
export async function tightenDataDirectory(dataDir: string): Promise<{ directories: number; files: number }> {
  const changed = { directories: 0, files: 0 };
  const visit = async (path: string): Promise<void> => {
    let info;
    try {
      info = await lstat(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    if (!info.isDirectory() && !info.isFile()) return;
    const want = info.isDirectory() ? PRIVATE_DIRECTORY_MODE : PRIVATE_FILE_MODE;
    if ((info.mode & 0o7777) !== want) {
      try {
        await chmod(path, want);
        changed[info.isDirectory() ? 'directories' : 'files'] += 1;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    if (!info.isDirectory()) return;
    let names: string[];
    try {
      names = await readdir(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const name of names) await visit(join(path, name));
  };
  for (const folder of signetFolders) await visit(join(resolve(dataDir), folder));
  return changed;
}
