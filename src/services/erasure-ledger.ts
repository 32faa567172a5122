import type { Keyring } from '../lib/keyring.js';

/**
 * The erasure ledger (README: Backups): one line per erasure, kept outside the
 * database, so that restoring a backup taken before an erasure erases the same
 * person again (src/operations/restore.ts). A line holds when the erasure was
 * made, which key made its hash, and the keyed hash of the normalised address:
 * never the address itself.
 */
export type ErasureLedgerEntry = {
  /** When the erasure was made (ms since the epoch): a restore erases only what the address had by then. */
  at: number;
  /** `Keyring.erasureKeyId()` of the root secret that hashed `subject`. */
  key: string;
  /** `Keyring.erasureSubject(address)`. */
  subject: string;
};

/** Where erasures are recorded (Node: an append-only file beside the database, src/operations/erasure-ledger-file.ts). */
export interface ErasureLedger {
  /** Appends one entry and resolves once it is durable (fsync'd); rejects when it could not be written. */
  append(entry: ErasureLedgerEntry): Promise<void>;
}

/** The ledger entry for erasing an address now. */
export async function erasureEntry(keys: Keyring, emailNormalized: string, at: number): Promise<ErasureLedgerEntry> {
  const [key, subject] = await Promise.all([keys.erasureKeyId(), keys.erasureSubject(emailNormalized)]);
  return { at, key, subject };
}

const KEY_ID = /^[0-9a-f]{12}$/;
const SUBJECT = /^[0-9a-f]{32}$/;

/** One entry as a line of the ledger (JSON, newline-terminated). */
export function formatLedgerLine(entry: ErasureLedgerEntry): string {
  return `${JSON.stringify({ v: 1, at: entry.at, key: entry.key, subject: entry.subject })}\n`;
}

/** A line of the ledger, or null for one that is not an entry (a line cut short by a crash while it was written). */
export function parseLedgerLine(line: string): ErasureLedgerEntry | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { v, at, key, subject } = value as Record<string, unknown>;
  if (v !== 1 || typeof at !== 'number' || !Number.isSafeInteger(at) || typeof key !== 'string' || !KEY_ID.test(key) || typeof subject !== 'string' || !SUBJECT.test(subject)) {
    return null;
  }
  return { at, key, subject };
}
