import BetterSqlite3 from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../helpers/db.js';
import { startCountingSmtpServer, type CountingSmtpServer } from '../../mail/helpers/counting-smtp-server.js';
import { insertOutboxRows, sampleMessage } from '../../mail/helpers/outbox.js';

const childScript = join(dirname(fileURLToPath(import.meta.url)), '../../mail/helpers/outbox-sender-child.ts');

const rowCount = 20_000;
/** The first sender is killed when the server has accepted this many. */
const killAfter = 5_000;
const concurrency = 50;
const batchSize = 200;
/** Short, so the second sender can take over the dead one's claims within seconds. */
const leaseMs = 2_000;

const children: ChildProcess[] = [];
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  while (cleanups.length > 0) await cleanups.pop()!();
});

type Exit = { code: number | null; signal: NodeJS.Signals | null; stdout: string };

function startSender(databasePath: string, server: CountingSmtpServer, workerId: string): { child: ChildProcess; exited: Promise<Exit> } {
  const child = spawn(process.execPath, ['--import', 'tsx', childScript], {
    env: {
      ...process.env,
      CHILD_DATABASE_PATH: databasePath,
      CHILD_SMTP_URL: server.url,
      CHILD_MAX_CONNECTIONS: '5',
      CHILD_WORKER_ID: workerId,
      CHILD_BATCH_SIZE: String(batchSize),
      CHILD_CONCURRENCY: String(concurrency),
      CHILD_LEASE_MS: String(leaseMs),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stdout })));
  return { child, exited };
}

describe('OutboxSender: kill -9 mid-way', () => {
  // A message is in flight from the moment the sender hands it to the
  // transport until its row is durably marked sent, and each of the
  // `concurrency` workers holds at most one such message (rows claimed but
  // not yet started are not sent; a lease only lets them be claimed again).
  // So after a SIGKILL at most `concurrency` messages can go out twice.
  it(`delivers all ${rowCount} messages after a SIGKILL, with at most ${concurrency} (the concurrency) sent twice`, async () => {
    const started = performance.now();
    const { database, dir } = createTestDatabase();
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const databasePath = join(dir, 'signet.db');
    const now = Date.now();
    for (let offset = 0; offset < rowCount; offset += 1000) {
      await insertOutboxRows(
        database,
        now,
        Array.from({ length: 1000 }, (_, i) => sampleMessage(offset + i)),
      );
    }
    await database.close();

    let first: ReturnType<typeof startSender> | undefined;
    let killedAtMs = 0;
    const server = await startCountingSmtpServer((total) => {
      if (total === killAfter) {
        first?.child.kill('SIGKILL');
        killedAtMs = performance.now() - started;
      }
    });
    cleanups.push(() => server.close());

    first = startSender(databasePath, server, 'first');
    const firstExit = await first.exited;
    expect(firstExit.signal).toBe('SIGKILL');
    const acceptedFromFirst = server.accepted();

    const second = startSender(databasePath, server, 'second');
    const secondExit = await second.exited;
    expect(secondExit.code).toBe(0);
    const secondStats = JSON.parse(secondExit.stdout.trim()) as { sent: number; failed: number; retried: number };

    const missing: string[] = [];
    let duplicates = 0;
    for (let i = 0; i < rowCount; i++) {
      const received = server.perRecipient.get(sampleMessage(i).to.address) ?? 0;
      if (received === 0) missing.push(sampleMessage(i).to.address);
      duplicates += Math.max(0, received - 1);
    }
    const sqlite = new BetterSqlite3(databasePath, { readonly: true });
    const statuses = sqlite.prepare('select status, count(*) as n from outbox group by status').all() as { status: string; n: number }[];
    sqlite.close();

    const elapsedMs = Math.round(performance.now() - started);
    console.log(
      JSON.stringify({ rows: rowCount, killedAtMs: Math.round(killedAtMs), acceptedFromFirst, secondSent: secondStats.sent, received: server.accepted(), duplicates, inFlightBound: concurrency, elapsedMs }),
    );
    expect(missing).toEqual([]);
    expect(server.perRecipient.size).toBe(rowCount);
    expect(duplicates).toBeLessThanOrEqual(concurrency);
    expect(server.accepted()).toBe(rowCount + duplicates);
    expect(statuses).toEqual([{ status: 'sent', n: rowCount }]);
    expect(secondStats).toMatchObject({ failed: 0, retried: 0 });
  }, 180_000);
});
