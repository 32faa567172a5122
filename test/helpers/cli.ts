import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteDatabase } from '../../src/db/node/better-sqlite3.js';
import { migrationsFolder } from './db.js';
import { withUmask } from './server-process.js';

export const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '../..');

/** The arguments that run the `signet` CLI from source, as `npx signet` does. */
export const signetCommand = (args: string[]) => ['--import', 'tsx', join(projectRoot, 'src/cli.ts'), ...args];

/** Runs `signet …` to completion with only the given environment (plus PATH), under `umask` if given. */
export function runSignet(args: string[], env: Record<string, string>, timeoutMs = 60_000, umask?: number) {
  const [command, commandArgs] = withUmask(signetCommand(args), umask);
  const result = spawnSync(command, commandArgs, {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Opens the CLI's database file for the duration of `task` (to set up or inspect it). */
export async function withDatabase<T>(path: string, task: (database: SqliteDatabase) => Promise<T>): Promise<T> {
  const database = new SqliteDatabase({ path, migrationsFolder });
  try {
    return await task(database);
  } finally {
    await database.close();
  }
}
