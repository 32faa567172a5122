// Runs an OutboxSender with an SmtpTransport until the outbox has no pending
// row, then prints its totals as one JSON line. Started by the crash test as
// `node --import tsx outbox-sender-child.ts` with the settings in the environment
// (see crash.test.ts); the test may SIGKILL it at any moment.
import { SqliteDatabase } from '../../../src/db/node/better-sqlite3.js';
import { systemClock } from '../../../src/lib/clock.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { OutboxSender } from '../../../src/outbox/node/outbox-sender.js';
import { SmtpTransport } from '../../../src/mail/node/smtp-transport.js';
import { migrationsFolder } from '../../helpers/db.js';
import { mailFrom } from './outbox.js';
import { testLinks } from '../../helpers/keys.js';

function setting(name: string): string {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
}

const database = new SqliteDatabase({ path: setting('CHILD_DATABASE_PATH'), migrationsFolder });
const transport = new SmtpTransport({ url: setting('CHILD_SMTP_URL'), maxConnections: Number(setting('CHILD_MAX_CONNECTIONS')) });
const sender = new OutboxSender({ links: testLinks,
  database,
  transport,
  clock: systemClock,
  logger: silentLogger,
  from: mailFrom,
  workerId: setting('CHILD_WORKER_ID'),
  batchSize: Number(setting('CHILD_BATCH_SIZE')),
  concurrency: Number(setting('CHILD_CONCURRENCY')),
  leaseMs: Number(setting('CHILD_LEASE_MS')),
  // Rows leased by a killed sender come due when the lease runs out: look again soon.
  pollIntervalMs: 100,
});
const pending = database.sqlite.prepare("select count(*) as n from outbox where status = 'pending'");

sender.start();
for (;;) {
  await new Promise((resolve) => setTimeout(resolve, 100));
  if ((pending.get() as { n: number }).n === 0) break;
}
await sender.stop();
await transport.close();
await database.close();
process.stdout.write(`${JSON.stringify(sender.stats())}\n`);
