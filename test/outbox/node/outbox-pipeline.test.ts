import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { outbox } from '../../../src/db/schema.js';
import { ManualClock } from '../../../src/lib/clock.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { OutboxSender } from '../../../src/outbox/node/outbox-sender.js';
import { SmtpTransport } from '../../../src/mail/node/smtp-transport.js';
import type { MailTransport, OutgoingMail } from '../../../src/mail/transports/transport.js';
import { createTestDatabase } from '../../helpers/db.js';
import { insertOutboxRows, mailFrom, sampleMessage } from '../../mail/helpers/outbox.js';
import { startSmtpServer } from '../../mail/helpers/smtp-server.js';
import { testLinks } from '../../helpers/keys.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

async function setUp() {
  const testDb = createTestDatabase();
  closers.push(testDb.cleanup);
  const server = await startSmtpServer();
  closers.push(() => server.close());
  const transport = new SmtpTransport({ url: server.url });
  closers.push(() => transport.close());
  return { ...testDb, server, transport, clock: new ManualClock() };
}

describe('SqliteDatabase.writeReturning', () => {
  it('runs an UPDATE … RETURNING on the writer thread and hands back its rows once committed', async () => {
    const { database, clock } = await setUp();
    const ids = await insertOutboxRows(database, clock.now(), [sampleMessage(1), sampleMessage(2)]);
    const rows = await database.writeReturning({ sql: `UPDATE "outbox" SET "locked_by" = ? WHERE "id" = ? RETURNING "id", "locked_by"`, params: ['w', ids[0]!] });
    expect(rows).toEqual([[ids[0], 'w']]);
    const [row] = await database.db.select().from(outbox).where(eq(outbox.id, ids[0]!));
    expect(row!.lockedBy).toBe('w');
  });

  it('shares a group commit with other writes and still answers each on its own', async () => {
    const { database, clock } = await setUp();
    const ids = await insertOutboxRows(database, clock.now(), [sampleMessage(1), sampleMessage(2)]);
    const [returned, failed, written] = await Promise.allSettled([
      database.writeReturning({ sql: `UPDATE "outbox" SET "attempts" = 7 WHERE "id" = ? RETURNING "attempts"`, params: [ids[0]!] }),
      database.atomic([database.statement({ sql: 'INSERT INTO "no_such_table" VALUES (1)', params: [] })]),
      database.atomic([database.statement({ sql: `UPDATE "outbox" SET "attempts" = 3 WHERE "id" = ?`, params: [ids[1]!] })]),
    ]);
    expect(returned).toEqual({ status: 'fulfilled', value: [[7]] });
    expect(failed.status).toBe('rejected');
    expect(written.status).toBe('fulfilled');
  });
});

describe('OutboxSender: pipelined claims', () => {
  it('marks sent rows by primary key, not by walking every pending row', async () => {
    const { database } = await setUp();
    // The statement the sender uses (see markSentSql): without the unary +, SQLite picks outbox_due_idx.
    const plan = database.sqlite
      .prepare(
        `EXPLAIN QUERY PLAN UPDATE "outbox" SET "status" = 'sent' WHERE "id" IN (SELECT value FROM json_each(?)) AND +"locked_by" = ? AND +"status" = 'pending'`,
      )
      .all('["a"]', 'w') as { detail: string }[];
    expect(plan.map((step) => step.detail).join(' | ')).toMatch(/outbox USING INDEX sqlite_autoindex_outbox_1 \(id=\?\)/);
  });

  it('start() claims the next batch before the current one has settled, and sends every row once', async () => {
    const { database, server, transport, clock } = await setUp();
    await insertOutboxRows(database, clock.now(), Array.from({ length: 25 }, (_, i) => sampleMessage(i)));
    const concurrent: number[] = [];
    let inFlight = 0;
    const counting: MailTransport = {
      async send(message: OutgoingMail) {
        concurrent.push(++inFlight);
        try {
          await transport.send(message);
        } finally {
          inFlight--;
        }
      },
      close: () => transport.close(),
    };
    const sender = new OutboxSender({ links: testLinks, database, transport: counting, clock, logger: silentLogger, from: mailFrom, batchSize: 5, concurrency: 3 });
    sender.start();
    await vi.waitFor(() => expect(sender.stats().sent).toBe(25), { timeout: 10_000 });
    await sender.stop();
    expect(server.received).toHaveLength(25);
    expect(new Set(server.received.map((mail) => mail.rcptTo.join())).size).toBe(25);
    expect(Math.max(...concurrent)).toBeLessThanOrEqual(3);
    const rows = await database.db.select().from(outbox);
    expect(rows.every((row) => row.status === 'sent' && row.lockedBy === null)).toBe(true);
  });

  it('stop() hands back the rows of a batch claimed ahead and not started', async () => {
    const { database, transport, clock } = await setUp();
    await insertOutboxRows(database, clock.now(), Array.from({ length: 8 }, (_, i) => sampleMessage(i)));
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const started: OutgoingMail[] = [];
    const gated: MailTransport = {
      async send(message) {
        started.push(message);
        await gate;
        await transport.send(message);
      },
      close: () => transport.close(),
    };
    const sender = new OutboxSender({ links: testLinks, database, transport: gated, clock, logger: silentLogger, from: mailFrom, batchSize: 2, concurrency: 2, workerId: 'ahead' });
    sender.start();
    await vi.waitFor(() => expect(started).toHaveLength(2));
    // Both rows of the first batch are in flight, so the next batch is claimed meanwhile.
    await vi.waitFor(async () => expect((await database.db.select().from(outbox).where(eq(outbox.lockedBy, 'ahead'))).length).toBe(4));
    const stopping = sender.stop();
    open();
    await stopping;
    const rows = await database.db.select().from(outbox);
    expect(rows.filter((row) => row.status === 'sent')).toHaveLength(2);
    expect(rows.filter((row) => row.status === 'pending').every((row) => row.lockedBy === null && row.lockedUntil === null && row.attempts === 0)).toBe(true);
  });
});
