import { resolve } from 'node:path';
import type { Settings } from '../config.js';
import { lettersDir, migrationsFolder } from '../entry/node.js';
import { defaultKeyFilePath, loadRootSecret } from '../entry/secret-key.js';
import { Keyring } from '../lib/keyring.js';
import { erasureLedgerPath, readErasureLedger } from './erasure-ledger-file.js';
import { backupDatabase } from './backup.js';
import { runDoctor, type CheckLevel } from './doctor.js';
import { restoreDatabase, type RestoreReport } from './restore.js';
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
        `but confirmation and unsubscribe links already sent stop working).\n` +
        `Supporters erased after this moment are still in the backup; \`signet restore\` erases them again from ${erasureLedgerPath(settings)},\n` +
        `which stays beside the database (never inside it): keep it with the key.\n`,
    );
  } catch (error) {
    failWith(error);
  }
}

/** What the restore says about the erasure ledger: how many erasures it applied again, and where. */
function erasureLines(report: RestoreReport, ledgerPath: string, unreadable: number): string {
  const erasures = report.erasures;
  if (!erasures) return '';
  if (erasures.recorded === 0) return `No erasure is recorded in ${ledgerPath}, so none was applied again.\n`;
  return (
    `Erasures applied again from ${ledgerPath}: ${erasures.reapplied} of the ${erasures.recorded} recorded found the person in the backup and erased them again ` +
    `(the others were erased in the backup already, or never signed in it).\n` +
    (unreadable > 0 ? `${unreadable} line(s) of the ledger are not entries (cut short while written) and were skipped.\n` : '') +
    (erasures.copies.length > 0 ? `Applied to the kept ${erasures.copies.length === 1 ? 'copy' : 'copies'} too: ${erasures.copies.join(', ')}.\n` : '') +
    erasures.failedCopies.map((copy) => `WARNING: ${copy.path} could not be opened to apply them (${copy.reason}); it may still hold erased people: delete it.\n`).join('')
  );
}

export async function restoreCommand(settings: Settings, source: string | undefined): Promise<void> {
  if (!source) failWith(new OperationError('usage: signet restore FILE'));
  try {
    const ledgerPath = erasureLedgerPath(settings);
    const ledger = readErasureLedger(ledgerPath);
    // The keys only where the ledger has something to match: a restore on a new machine without a key file makes none.
    const erasures = { entries: ledger.entries, keys: ledger.entries.length > 0 ? await ledgerKeys(settings) : null };
    const report = await restoreDatabase({ databasePath: settings.DATABASE_PATH, source, migrationsFolder, erasures });
    process.stdout.write(
      `Restored ${resolve(source)} to ${report.path} (${formatBytes(report.bytes)}): ${report.signatures} signatures (${report.confirmed} confirmed), ` +
        `${report.unconfirmedRequests} signing requests awaiting confirmation.\n` +
        erasureLines(report, ledgerPath, ledger.unreadable) +
        (report.migrated.length > 0 ? `Migrations applied: ${report.migrated.join(', ')}.\n` : '') +
        (report.replacedKeptAt ? `The database it replaced is kept as ${report.replacedKeptAt} (readable by its owner only); delete it once you have checked the restored data.\n` : '') +
        `Links in mail sent before the backup work only with the secret key of that time (${whereTheKeyIs(settings)}).\n` +
        `Anything else done after the backup was taken is gone (signatures, changes, letters generated since).\n`,
    );
  } catch (error) {
    failWith(error);
  }
}

/** The keys the ledger's hashes were made with: the root secret, and the previous one during a rotation. */
async function ledgerKeys(settings: Settings): Promise<Keyring> {
  const root = loadRootSecret(settings);
  return Keyring.create(root.secret, root.previous);
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
