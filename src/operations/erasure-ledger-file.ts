import { existsSync, readFileSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Settings } from '../config.js';
import { type ErasureLedger, type ErasureLedgerEntry, formatLedgerLine, parseLedgerLine } from '../services/erasure-ledger.js';
import { syncPath } from './sqlite-file.js';

/**
 * The ledger file: DATA_DIR/erasures.ledger, beside the database and the key
 * file but never inside the database, so a restore (which replaces the
 * database) leaves it as it is.
 */
export function erasureLedgerPath(settings: Pick<Settings, 'DATA_DIR'>): string {
  return resolve(join(settings.DATA_DIR, 'erasures.ledger'));
}

/**
 * Appends to the ledger file: opened in append mode (each entry is one short
 * write, so processes appending at once never interleave within a line),
 * readable by its owner only whatever the umask, and fsync'd before the
 * erasure is committed. A new file's directory entry is synced too.
 */
export function createErasureLedgerFile(path: string): ErasureLedger {
  return {
    async append(entry) {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      const created = !existsSync(path);
      const handle = await open(path, 'a', 0o600);
      try {
        await handle.chmod(0o600);
        await handle.write(formatLedgerLine(entry));
        await handle.sync();
      } finally {
        await handle.close();
      }
      if (created) syncPath(dirname(path));
    },
  };
}

export type LedgerContents = {
  /** Whether the file exists at all. */
  exists: boolean;
  entries: ErasureLedgerEntry[];
  /** Lines that are not entries (cut short by a crash while written): skipped, and reported. */
  unreadable: number;
};

/** Reads the whole ledger (a restore needs every entry). */
export function readErasureLedger(path: string): LedgerContents {
  if (!existsSync(path)) return { exists: false, entries: [], unreadable: 0 };
  const entries: ErasureLedgerEntry[] = [];
  let unreadable = 0;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const entry = parseLedgerLine(line);
    if (entry) entries.push(entry);
    else unreadable++;
  }
  return { exists: true, entries, unreadable };
}
