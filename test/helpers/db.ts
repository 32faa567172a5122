import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteDatabase } from '../../src/db/node/better-sqlite3.js';

export const migrationsFolder = join(dirname(fileURLToPath(import.meta.url)), '../../migrations');

/**
 * A fresh SQLite file with the real migrations applied, removed by `cleanup`; or, given a
 * directory holding a `signet.db` an earlier version made, that file brought up to date.
 */
export function createTestDatabase(dir = mkdtempSync(join(tmpdir(), 'signet-test-'))): { database: SqliteDatabase; dir: string; cleanup: () => Promise<void> } {
  const database = new SqliteDatabase({ path: join(dir, 'signet.db'), migrationsFolder });
  return {
    database,
    dir,
    cleanup: async () => {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
