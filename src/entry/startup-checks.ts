import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, rmdirSync, statSync, unlinkSync, type Stats } from 'node:fs';
import type { Server } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import type { Settings } from '../config.js';

/**
 * A setting the process cannot start with, found at start: the message is
 * one line that names the setting and what to do, for a terminal, not a
 * stack trace.
 */
export class StartupError extends Error {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(message);
    this.name = 'StartupError';
  }
}

const errnoOf = (error: unknown): string => (error as NodeJS.ErrnoException).code ?? 'unknown error';

/** A path from a setting, as the messages name it. */
type SettingPath = { setting: 'DATA_DIR' | 'DATABASE_PATH'; value: string };

function unusable(place: SettingPath, problem: string): StartupError {
  const wanted = place.setting === 'DATA_DIR' ? 'a directory' : 'a file in a directory';
  return new StartupError(place.setting, `${place.setting} ${place.value} cannot be used: ${problem}; set ${place.setting} to ${wanted} Signet can write to`);
}

/**
 * Makes `directory` and its missing parents one level at a time, and answers
 * the ones it made, outermost first. Node's `mkdir(…, { recursive: true })`
 * never returns under /proc (it retries for ever at full CPU), so it is not
 * used for a path that comes from a setting.
 */
function makeDirectory(place: SettingPath, directory: string): string[] {
  const missing: string[] = [];
  let current = directory;
  for (;;) {
    let stats: Stats | undefined;
    try {
      stats = statSync(current);
    } catch (error) {
      // ENOTDIR: a file further up (e.g. /dev/null/x); the walk up finds and names it.
      if (!['ENOENT', 'ENOTDIR'].includes(errnoOf(error))) throw unusable(place, `${current} cannot be read (${errnoOf(error)})`);
    }
    if (stats?.isDirectory()) break;
    if (stats) throw unusable(place, `${current} is not a directory`);
    missing.unshift(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  const made: string[] = [];
  for (const path of missing) {
    try {
      mkdirSync(path, { mode: 0o700 });
    } catch (error) {
      removeDirectories(made);
      throw unusable(place, `${path} cannot be created (${errnoOf(error)})`);
    }
    made.push(path);
  }
  return made;
}

function removeDirectories(made: string[]) {
  for (const path of [...made].reverse()) {
    try {
      rmdirSync(path);
    } catch {
      // Something else put a file there meanwhile; it is not ours to delete.
    }
  }
}

/** Creates and removes a file, so a read-only or foreign directory is found now rather than at the first write. */
function assertWritable(place: SettingPath, directory: string) {
  const probe = join(directory, `.signet-write-check-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    closeSync(openSync(probe, 'wx', 0o600));
    unlinkSync(probe);
  } catch (error) {
    throw unusable(place, `${directory} is not writable (${errnoOf(error)})`);
  }
}

/**
 * DATA_DIR and the folder of DATABASE_PATH, made if missing and checked
 * writable, before anything is written in them: a bad path stops the start
 * with one line naming its setting, and the folders made on the way are
 * removed again, so a failed start leaves nothing behind.
 */
export function prepareDataPaths(settings: Pick<Settings, 'DATA_DIR' | 'DATABASE_PATH'>) {
  const dataDir: SettingPath = { setting: 'DATA_DIR', value: settings.DATA_DIR };
  const database: SettingPath = { setting: 'DATABASE_PATH', value: settings.DATABASE_PATH };
  const databasePath = resolve(settings.DATABASE_PATH);
  const made: string[] = [];
  try {
    made.push(...makeDirectory(dataDir, resolve(settings.DATA_DIR)));
    assertWritable(dataDir, resolve(settings.DATA_DIR));
    made.push(...makeDirectory(database, dirname(databasePath)));
    assertWritable(database, dirname(databasePath));
    let isFile = true;
    try {
      isFile = statSync(databasePath).isFile();
    } catch {
      // Not there yet: SQLite makes it.
    }
    if (!isFile) throw unusable(database, `${databasePath} is not a file`);
  } catch (error) {
    removeDirectories(made);
    throw error;
  }
}

/** One line for an error SQLite gave while opening or migrating the database file. */
export function databaseStartupError(error: unknown, databasePath: string): unknown {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return error;
  return new StartupError('DATABASE_PATH', `DATABASE_PATH ${resolve(databasePath)} cannot be used as the database (${code}: ${(error as Error).message})`);
}

function listenError(error: unknown, settings: Pick<Settings, 'PORT' | 'HOST'>): unknown {
  switch (errnoOf(error)) {
    case 'EADDRINUSE':
      return new StartupError('PORT', `PORT ${settings.PORT} is already in use (set PORT to a free port)`);
    case 'EACCES':
      return new StartupError('PORT', `PORT ${settings.PORT} needs privileges this user does not have (set PORT to 1024 or above)`);
    case 'EADDRNOTAVAIL':
      return new StartupError('HOST', `HOST ${settings.HOST} is not an address of this machine (set HOST to one, e.g. 127.0.0.1)`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new StartupError('HOST', `HOST ${settings.HOST} cannot be resolved (set HOST to an address of this machine, e.g. 127.0.0.1)`);
    default:
      return error;
  }
}

/**
 * Binds HOST:PORT, first of all, so a port in use stops the start before a
 * database, a key or a token is made.
 */
export function listenOn(server: Server, settings: Pick<Settings, 'PORT' | 'HOST'>): Promise<void> {
  return new Promise((ready, fail) => {
    const onError = (error: unknown) => fail(listenError(error, settings));
    server.once('error', onError);
    server.listen(settings.PORT, settings.HOST, () => {
      server.off('error', onError);
      ready();
    });
  });
}
