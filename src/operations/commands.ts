import { resolve } from 'node:path';
import type { Settings } from '../config.js';
import { lettersDir, migrationsFolder } from '../entry/node.js';
import { defaultKeyFilePath } from '../entry/secret-key.js';
import { backupDatabase } from './backup.js';
import { runDoctor, type CheckLevel } from './doctor.js';
import { restoreDatabase } from './restore.js';
import { formatBytes, OperationError } from './sqlite-file.js';

/** `signet backup`, `restore` and `doctor`: what the CLI prints around src/operations. */

function failWith(error: unknown): never {
  if (error instanceof OperationError) {
    process.stderr.write(`signet: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

function whereTheKeyIs(settings: Settings): string {
  if (settings.SECRET_KEY) return 'the SECRET_KEY setting';
  return settings.SECRET_KEY_FILE ? resolve(settings.SECRET_KEY_FILE) : defaultKeyFilePath(settings);
}

export async function backupCommand(settings: Settings, target: string | undefined): Promise<void> {
  if (!target) failWith(new OperationError('usage: signet backup FILE'));
  try {
    const report = await backupDatabase({ databasePath: settings.DATABASE_PATH, target, migrationsFolder });
    process.stdout.write(
      `Backup written to ${report.path}: ${formatBytes(report.bytes)} (${report.bytes} bytes) in ${report.milliseconds} ms, integrity_check ok.\n` +
        `It holds ${report.signatures} signatures (${report.confirmed} confirmed) and ${report.unconfirmedRequests} signing requests awaiting confirmation.\n` +
        `The secret key is NOT in the backup: keep a copy of ${whereTheKeyIs(settings)} apart from it (a restore works without it,\n` +
        `but confirmation and unsubscribe links already sent stop working).\n`,
    );
  } catch (error) {
    failWith(error);
  }
}

export async function restoreCommand(settings: Settings, source: string | undefined): Promise<void> {
  if (!source) failWith(new OperationError('usage: signet restore FILE'));
  try {
    const report = await restoreDatabase({ databasePath: settings.DATABASE_PATH, source, migrationsFolder });
    process.stdout.write(
      `Restored ${resolve(source)} to ${report.path} (${formatBytes(report.bytes)}): ${report.signatures} signatures (${report.confirmed} confirmed), ` +
        `${report.unconfirmedRequests} signing requests awaiting confirmation.\n` +
        (report.migrated.length > 0 ? `Migrations applied: ${report.migrated.join(', ')}.\n` : '') +
        (report.replacedKeptAt ? `The database it replaced is kept as ${report.replacedKeptAt}; delete it once you have checked the restored data.\n` : '') +
        `Links in mail sent before the backup work only with the secret key of that time (${whereTheKeyIs(settings)}).\n` +
        `Anything done after the backup was taken is gone, erasures included: do again the erasures made since.\n`,
    );
  } catch (error) {
    failWith(error);
  }
}

const labels: Record<CheckLevel, string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' };

/** Prints one line per check; exits 1 naming the checks that failed. */
export async function doctorCommand(env: Record<string, string | undefined>): Promise<void> {
  const results = await runDoctor({ env, migrationsFolder, lettersDir });
  const width = Math.max(...results.map((r) => r.check.length));
  for (const result of results) process.stdout.write(`${labels[result.level]}  ${result.check.padEnd(width)}  ${result.message}\n`);
  const failed = results.filter((r) => r.level === 'fail').map((r) => r.check);
  if (failed.length > 0) {
    process.stderr.write(`signet doctor: FAIL: ${failed.join(', ')}\n`);
    process.exitCode = 1;
  }
}
