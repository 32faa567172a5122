import BetterSqlite3 from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What `signet backup`, `restore` and `doctor` need to know about a SQLite
 * file, read with a plain connection: these commands must not migrate,
 * start a writer thread or create a database where there was none, as
 * opening it through SqliteDatabase would.
 */

/** A failure an operator can act on; the CLI prints its message without a stack. */
export class OperationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OperationError';
  }
}

/** Opens an existing file only (never creates one); `readonly` for files that are not ours to change. */
export function openExisting(path: string, options: { readonly?: boolean; busyTimeoutMs?: number } = {}): BetterSqlite3.Database {
  const db = new BetterSqlite3(path, { fileMustExist: true, readonly: options.readonly ?? false, timeout: options.busyTimeoutMs ?? 5000 });
  return db;
}

/** `PRAGMA integrity_check`: an empty list when the file is sound, else SQLite's first findings. */
export function integrityProblems(db: BetterSqlite3.Database, limit = 10): string[] {
  const rows = db.prepare(`PRAGMA integrity_check(${limit})`).pluck().all() as string[];
  return rows.length === 1 && rows[0] === 'ok' ? [] : rows;
}

type JournalEntry = { tag: string; when: number };

/** The migrations this version of Signet ships, as drizzle's migrator identifies them (folder time and SHA-256 of the file). */
export function shippedMigrations(migrationsFolder: string): { tag: string; createdAt: number; hash: string }[] {
  const journal = JSON.parse(readFileSync(join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as { entries: JournalEntry[] };
  return journal.entries.map((entry) => ({
    tag: entry.tag,
    createdAt: entry.when,
    hash: createHash('sha256').update(readFileSync(join(migrationsFolder, `${entry.tag}.sql`), 'utf8')).digest('hex'),
  }));
}

export type MigrationState = {
  /** Migrations recorded in the file. */
  applied: number;
  /** Shipped migrations the file lacks (drizzle applies those newer than the last one recorded). */
  pending: string[];
  /** Recorded migrations this version does not ship: the file comes from a newer Signet. */
  unknown: number;
};

/**
 * Compares the file's `__drizzle_migrations` with the shipped migrations;
 * throws OperationError when the file has no such table or none of Signet's
 * tables, i.e. is not a Signet database.
 */
export function migrationState(db: BetterSqlite3.Database, migrationsFolder: string): MigrationState {
  const tables = new Set(db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all() as string[]);
  if (!tables.has('__drizzle_migrations') || !tables.has('campaigns') || !tables.has('signatures')) {
    throw new OperationError('it is not a Signet database (no migrations table or no campaigns and signatures tables)');
  }
  const recorded = db.prepare(`SELECT hash, created_at AS createdAt FROM "__drizzle_migrations"`).all() as { hash: string; createdAt: number }[];
  const shipped = shippedMigrations(migrationsFolder);
  const known = new Set(shipped.map((m) => m.hash));
  const last = recorded.reduce((max, row) => Math.max(max, Number(row.createdAt)), 0);
  return {
    applied: recorded.length,
    pending: shipped.filter((m) => m.createdAt > last).map((m) => m.tag),
    unknown: recorded.filter((row) => !known.has(row.hash)).length,
  };
}

export type SignatureFigures = {
  /** Rows of `signatures`, whatever their status. */
  signatures: number;
  confirmed: number;
  /** Signing requests not (yet) confirmed: rows of `signature_submissions` without confirmed_at. */
  unconfirmedRequests: number;
};

export function signatureFigures(db: BetterSqlite3.Database): SignatureFigures {
  const row = db
    .prepare(
      `SELECT (SELECT count(*) FROM "signatures") AS signatures,
              (SELECT count(*) FROM "signatures" WHERE "status" = 'confirmed') AS confirmed,
              (SELECT count(*) FROM "signature_submissions" WHERE "confirmed_at" IS NULL) AS unconfirmedRequests`,
    )
    .get() as SignatureFigures;
  return row;
}

/** Flushes a file (or a directory's entries) to disk, so a rename or link that follows survives a power cut. */
export function syncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** SQLite's error code (e.g. SQLITE_BUSY, SQLITE_NOTADB) of a better-sqlite3 error, if it is one. */
export function sqliteCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
