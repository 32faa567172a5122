import BetterSqlite3 from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { migrationsFolder } from '../../helpers/db.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Inserts a row, giving every required column without a default a placeholder of its type. */
function insert(db: BetterSqlite3.Database, table: string, values: Record<string, string | number | null>) {
  const columns = db.prepare(`PRAGMA table_info("${table}")`).all() as { name: string; type: string; notnull: number; dflt_value: unknown; pk: number }[];
  const row: Record<string, string | number | null> = {};
  for (const column of columns) if (column.notnull && column.dflt_value === null) row[column.name] = /int/i.test(column.type) ? 0 : 'x';
  Object.assign(row, values);
  const names = Object.keys(row);
  db.prepare(`INSERT INTO "${table}" (${names.map((n) => `"${n}"`).join(', ')}) VALUES (${names.map(() => '?').join(', ')})`).run(...names.map((n) => row[n]));
}

describe('upgrading to the erasure ledger (migration 0012)', () => {
  it('queues the stored letter batches that may still name a supporter erased before the upgrade, and only those', () => {
    const dir = mkdtempSync(join(tmpdir(), 'signet-migration-0012-'));
    dirs.push(dir);
    const older = join(dir, 'migrations');
    cpSync(migrationsFolder, older, { recursive: true });
    const journalPath = join(older, 'meta', '_journal.json');
    const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { tag: string }[] };
    writeFileSync(journalPath, JSON.stringify({ ...journal, entries: journal.entries.filter((entry) => entry.tag < '0012') }));

    const db = new BetterSqlite3(join(dir, 'signet.db'));
    try {
      migrate(drizzle(db), { migrationsFolder: older });
      insert(db, 'campaigns', { id: 'c1', slug: 'c-one' });
      insert(db, 'targets', { id: 't1', postal_address: '{"lines":[],"country":"JP"}' });
      // Erased after confirming at 1000: named by the batch cut at 2000, not by the one cut at 500.
      insert(db, 'signatures', { id: 's1', campaign_id: 'c1', email_normalized: 'erased:s1', status: 'erased', confirmed_at: 1000, created_at: 900, locale: 'en' });
      insert(db, 'letter_batches', { id: 'b-after', campaign_id: 'c1', mode: 'per_target', cutoff_at: 2000 });
      insert(db, 'letter_batches', { id: 'b-before', campaign_id: 'c1', mode: 'per_target', cutoff_at: 500 });
      insert(db, 'campaigns', { id: 'c2', slug: 'c-two' });
      insert(db, 'letter_batches', { id: 'b-other', campaign_id: 'c2', mode: 'per_target', cutoff_at: 2000 });

      migrate(drizzle(db), { migrationsFolder });
      expect(db.prepare(`SELECT batch_id AS batchId, next_attempt_at AS nextAttemptAt FROM letter_redactions`).all()).toEqual([{ batchId: 'b-after', nextAttemptAt: 0 }]);
    } finally {
      db.close();
    }
  });
});
