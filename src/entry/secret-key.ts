import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Settings } from '../config.js';
import { MIN_ROOT_SECRET_CHARS } from '../lib/keyring.js';
import type { Logger } from '../lib/logger.js';
import { makePrivateDirectorySync, writeNewPrivateFileSync } from '../lib/node/private-files.js';

export class SecretKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretKeyError';
  }
}

export type RootSecret = {
  secret: string;
  /** The root secret before a rotation, if one is under way. */
  previous?: string;
  /** Where it came from, for the start-up log (never the secret itself). */
  source: 'SECRET_KEY' | 'SECRET_KEY_FILE' | 'key file' | 'new key file';
  path?: string;
};

/** The default key file: beside the data, never inside the database. */
export function defaultKeyFilePath(settings: Pick<Settings, 'DATA_DIR'>): string {
  return resolve(join(settings.DATA_DIR, 'secret.key'));
}

function readKeyFile(path: string, logger: Logger | undefined): string {
  const mode = statSync(path).mode & 0o777;
  // A key others on the machine can read protects nothing from them.
  if (mode & 0o077) logger?.warn('secret key file is readable by other users; run chmod 600 on it', { path, mode: mode.toString(8) });
  const secret = readFileSync(path, 'utf8').trim();
  if (secret.length < MIN_ROOT_SECRET_CHARS) throw new SecretKeyError(`SECRET_KEY_FILE: ${path} holds fewer than ${MIN_ROOT_SECRET_CHARS} characters.`);
  return secret;
}

/**
 * The root secret: SECRET_KEY, else the file SECRET_KEY_FILE names (which
 * must exist), else DATA_DIR/secret.key, made with mode 0600 at first start.
 * Two processes starting at once agree: each writes a private temporary
 * file and links it into place, which fails for all but one, and the others
 * read the winner's key (never a half-written file).
 */
export function loadRootSecret(settings: Pick<Settings, 'SECRET_KEY' | 'SECRET_KEY_FILE' | 'SECRET_KEY_PREVIOUS' | 'DATA_DIR'>, logger?: Logger): RootSecret {
  const current = loadCurrentSecret(settings, logger);
  const previous = settings.SECRET_KEY_PREVIOUS ?? readPreviousKeyFile(current.path, logger);
  return previous ? { ...current, previous } : current;
}

/** `<key file>.previous`, left there by the rotation procedure (README: Privacy). */
function readPreviousKeyFile(path: string | undefined, logger: Logger | undefined): string | undefined {
  if (!path) return undefined;
  try {
    return readKeyFile(`${path}.previous`, logger);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function loadCurrentSecret(settings: Pick<Settings, 'SECRET_KEY' | 'SECRET_KEY_FILE' | 'DATA_DIR'>, logger?: Logger): RootSecret {
  if (settings.SECRET_KEY) return { secret: settings.SECRET_KEY, source: 'SECRET_KEY' };
  if (settings.SECRET_KEY_FILE) {
    const path = resolve(settings.SECRET_KEY_FILE);
    try {
      return { secret: readKeyFile(path, logger), source: 'SECRET_KEY_FILE', path };
    } catch (error) {
      if (error instanceof SecretKeyError) throw error;
      throw new SecretKeyError(`SECRET_KEY_FILE: cannot read ${path} (${(error as Error).message}).`);
    }
  }
  const path = defaultKeyFilePath(settings);
  makePrivateDirectorySync(dirname(path));
  try {
    return { secret: readKeyFile(path, logger), source: 'key file', path };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secret = randomBytes(32).toString('base64url');
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeNewPrivateFileSync(temporary, `${secret}\n`);
    linkSync(temporary, path);
    return { secret, source: 'new key file', path };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return { secret: readKeyFile(path, logger), source: 'key file', path };
    throw new SecretKeyError(`Cannot create the secret key file ${path} (${(error as Error).message}); set SECRET_KEY or SECRET_KEY_FILE.`);
  } finally {
    rmSync(temporary, { force: true });
  }
}
