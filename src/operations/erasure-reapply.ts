import { sql } from 'drizzle-orm';
import { SqliteDatabase } from '../db/node/better-sqlite3.js';
import { systemClock } from '../lib/clock.js';
import type { Keyring } from '../lib/keyring.js';
import { silentLogger } from '../lib/logger.js';
import { organisationAccess } from '../services/access.js';
import { flushErasedData, planAddressErasure } from '../services/anonymise.js';
import { systemAuditStatement } from '../services/audit.js';
import { defaultPrivacySettings, type ServiceContext } from '../services/context.js';
import type { ErasureLedgerEntry } from '../services/erasure-ledger.js';
import { openExisting } from './sqlite-file.js';

/** Every address a database holds personal data under, normalised (outbox rows keep the case it was typed in). */
const ADDRESSES = sql`SELECT "email_normalized" AS address FROM "signatures" WHERE "status" <> 'erased'
  UNION SELECT "email_normalized" FROM "signature_submissions"
  UNION SELECT "email_normalized" FROM "privacy_requests" WHERE "email_normalized" IS NOT NULL
  UNION SELECT "email_normalized" FROM "bounces"
  UNION SELECT "email_normalized" FROM "email_suppressions"
  UNION SELECT lower(trim("recipient")) FROM "outbox" WHERE "recipient" NOT LIKE 'erased:%'`;

/** Whether the address had anything, by `asOf`, that an erasure then would have removed. */
const heldBy = (address: string, asOf: number) => sql`SELECT EXISTS (SELECT 1 FROM "signatures" WHERE "email_normalized" = ${address} AND "created_at" <= ${asOf} AND "status" <> 'erased')
  OR EXISTS (SELECT 1 FROM "signature_submissions" WHERE "email_normalized" = ${address} AND "created_at" <= ${asOf})
  OR EXISTS (SELECT 1 FROM "privacy_requests" WHERE "email_normalized" = ${address} AND "created_at" <= ${asOf})
  OR EXISTS (SELECT 1 FROM "bounces" WHERE "email_normalized" = ${address} AND "created_at" <= ${asOf})
  OR EXISTS (SELECT 1 FROM "email_suppressions" WHERE "email_normalized" = ${address} AND "created_at" <= ${asOf}) AS held`;

export type ReapplyReport = {
  /** Ledger entries that found personal data to erase in the database (each erased again). */
  reapplied: number;
};

/**
 * Applies the ledger's erasures again to the Signet database at `path` (a
 * restored backup, or the copy a restore keeps of the database it replaced).
 * The ledger holds keyed hashes, not addresses, so every address the database
 * holds is hashed under the current root secret (and the previous one, during
 * a rotation) and looked up among the entries. A match is erased exactly as
 * the erasure did (src/services/anonymise.ts), limited to what the address had
 * at the erasure's time, so a signature given again after it stays; letters
 * that may name the person are queued to be rendered again at the next start.
 * Repeating it changes nothing more. Afterwards the file is vacuumed, so no
 * free page keeps what was erased.
 */
export async function reapplyErasures(options: {
  path: string;
  migrationsFolder: string;
  entries: readonly ErasureLedgerEntry[];
  /** Null only with no entries (nothing to hash). */
  keys: Keyring | null;
  /** Record `privacy.erasures_reapplied` in the database's audit log (the restored database; not a kept copy). */
  audit: boolean;
}): Promise<ReapplyReport> {
  const root = options.keys;
  if (options.entries.length === 0 || !root) return { reapplied: 0 };
  const keyrings = [root, root.previous].filter((keys): keys is Keyring => keys !== undefined);
  const byKey = new Map<string, Map<string, ErasureLedgerEntry[]>>();
  for (const entry of options.entries) {
    const subjects = byKey.get(entry.key) ?? new Map<string, ErasureLedgerEntry[]>();
    subjects.set(entry.subject, [...(subjects.get(entry.subject) ?? []), entry]);
    byKey.set(entry.key, subjects);
  }
  const database = new SqliteDatabase({ path: options.path, migrationsFolder: options.migrationsFolder });
  let reapplied = 0;
  try {
    const ctx: ServiceContext = {
      db: database,
      clock: systemClock,
      logger: silentLogger,
      publicUrl: '',
      mailFrom: '',
      confirmTokenTtlMs: 0,
      keys: root,
      privacy: defaultPrivacySettings,
      access: organisationAccess,
    };
    const hashers = (await Promise.all(keyrings.map(async (keys) => ({ keys, subjects: byKey.get(await keys.erasureKeyId()) })))).filter(
      (hasher): hasher is { keys: Keyring; subjects: Map<string, ErasureLedgerEntry[]> } => hasher.subjects !== undefined,
    );
    if (hashers.length === 0) return { reapplied: 0 };
    const addresses = (await database.db.all<{ address: string }>(ADDRESSES)).map((row) => row.address);
    for (const address of addresses) {
      for (const { keys, subjects } of hashers) {
        const matches = subjects.get(await keys.erasureSubject(address)) ?? [];
        for (const entry of [...matches].sort((a, b) => a.at - b.at)) {
          const [held] = await database.db.all<{ held: number }>(heldBy(address, entry.at));
          if (!held?.held) continue;
          const erasure = await planAddressErasure(ctx, address, { asOf: entry.at });
          await database.atomic(erasure.statements);
          reapplied++;
        }
      }
    }
    if (reapplied > 0 && options.audit) {
      await database.atomic([
        systemAuditStatement(database, systemClock.now(), {
          action: 'privacy.erasures_reapplied',
          job: 'restore',
          details: { reapplied, ledgerEntries: options.entries.length },
        }),
      ]);
    }
    await flushErasedData(ctx);
  } finally {
    await database.close();
  }
  if (reapplied > 0) {
    const db = openExisting(options.path);
    try {
      db.exec('VACUUM');
    } finally {
      db.close();
    }
  }
  return { reapplied };
}
