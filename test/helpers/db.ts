import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteDatabase } from '../../src/db/better-sqlite3.js';

export const migrationsFolder = join(dirname(fileURLToPath(import.meta.url)), '../../migrations');

/** A fresh SQLite file with the real migrations applied, removed by `cleanup`. */
export function createTestDatabase(): { database: SqliteDatabase; dir: string; cleanup: () => Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), 'signet-test-'));
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
