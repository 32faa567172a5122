import { eq } from 'drizzle-orm';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SqliteDatabase } from '../../../src/db/node/better-sqlite3.js';
import { outbox } from '../../../src/db/schema.js';
import { ManualClock } from '../../../src/lib/clock.js';
import { silentLogger, type Logger } from '../../../src/lib/logger.js';
import { OutboxSender, type OutboxSenderOptions } from '../../../src/outbox/node/outbox-sender.js';
import { SmtpTransport } from '../../../src/mail/node/smtp-transport.js';
import { MailSendError, type MailTransport, type OutgoingMail } from '../../../src/mail/transports/transport.js';
import { createTestDatabase, migrationsFolder } from '../../helpers/db.js';
import { parseMail } from '../../mail/helpers/mime.js';
import { insertOutboxRows, mailFrom, sampleMessage } from '../../mail/helpers/outbox.js';
import { startSmtpServer, type TestSmtpServerOptions } from '../../mail/helpers/smtp-server.js';
import { testLinks } from '../../helpers/keys.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

async function setUp(serverOptions: TestSmtpServerOptions = {}) {
  const testDb = createTestDatabase();
  closers.push(testDb.cleanup);
  const server = await startSmtpServer(serverOptions);
  closers.push(() => server.close());
  const transport = new SmtpTransport({ url: server.url });
  closers.push(() => transport.close());
  const clock = new ManualClock();
  const newSender = (options: Partial<OutboxSenderOptions> = {}) =>
    new OutboxSender({ links: testLinks,
      database: testDb.database,
      transport,
      clock,
      logger: silentLogger,
      from: mailFrom,
      backoff: { baseMs: 1000, maxMs: 8000 },
      random: () => 0,
      ...options,
    });
  return { ...testDb, server, transport, clock, newSender };
}

async function rowById(database: SqliteDatabase, id: string) {
  const [row] = await database.db.select().from(outbox).where(eq(outbox.id, id));
  if (!row) throw new Error(`no outbox row ${id}`);
  return row;
}

/** A transport the test releases by hand, to hold sends in flight. */
function gatedTransport(inner: MailTransport) {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const started: OutgoingMail[] = [];
  const transport: MailTransport = {
    async send(message) {
      started.push(message);
      await gate;
      await inner.send(message);
    },
    close: () => inner.close(),
  };
  return { transport, started, open };
}

describe('OutboxSender: happy path', () => {
  it('sends due rows, marks them sent and erases their body', async () => {
    const { database, server, clock, newSender } = await setUp();
    const ids = await insertOutboxRows(database, clock.now(), [sampleMessage(1), sampleMessage(2), sampleMessage(3)]);
    clock.advance(1000);

    expect(await newSender().drainOnce()).toEqual({ sent: 3, failed: 0, retried: 0 });

    expect(server.received).toHaveLength(3);
    for (const id of ids) {
      const row = await rowById(database, id);
      expect(row).toMatchObject({ status: 'sent', sentAt: clock.now(), message: null, attempts: 1, lockedBy: null, lockedUntil: null, lastError: null });
      const delivered = server.received.filter((mail) => parseMail(mail.raw).header('Message-ID') === row.messageId);
      expect(delivered).toHaveLength(1);
    }
    expect(await newSender().drainOnce()).toEqual({ sent: 0, failed: 0, retried: 0 });
    expect(server.received).toHaveLength(3);
  });

  it('leaves rows that are not due yet', async () => {
    const { database, server, clock, newSender } = await setUp();
    const [id] = await insertOutboxRows(database, clock.now(), [sampleMessage(1)], { nextAttemptAt: clock.now() + 60_000 });
    expect(await newSender().drainOnce()).toEqual({ sent: 0, failed: 0, retried: 0 });
    expect(server.received).toHaveLength(0);
    expect((await rowById(database, id!)).status).toBe('pending');
  });

  it('sends in batches of batchSize', async () => {
    const { database, server, clock, newSender } = await setUp();
    await insertOutboxRows(database, clock.now(), Array.from({ length: 5 }, (_, i) => sampleMessage(i)));
    const sender = newSender({ batchSize: 2 });
    expect((await sender.drainOnce()).sent).toBe(2);
    expect((await sender.drainOnce()).sent).toBe(2);
    expect((await sender.drainOnce()).sent).toBe(1);
    expect(server.received).toHaveLength(5);
    expect(sender.stats()).toMatchObject({ sent: 5, failed: 0, retried: 0, inFlight: 0 });
  });
});

describe('OutboxSender: failures', () => {
  it('retries a 451 after a backoff and delivers the message once', async () => {
    const { database, server, clock, newSender } = await setUp({
      replyToData: (index) => (index === 0 ? { code: 451, message: '4.3.0 Try again later' } : undefined),
    });
    const [id] = await insertOutboxRows(database, clock.now(), [sampleMessage(1)]);
    const sender = newSender();

    expect(await sender.drainOnce()).toEqual({ sent: 0, failed: 0, retried: 1 });
    let row = await rowById(database, id!);
    // random() = 0 gives the floor of equal jitter: half of baseMs.
    expect(row).toMatchObject({ status: 'pending', attempts: 1, nextAttemptAt: clock.now() + 500, lockedBy: null, lockedUntil: null });
    expect(row.lastError).toContain('451');
    expect(row.message).not.toBeNull();

    expect(await sender.drainOnce()).toEqual({ sent: 0, failed: 0, retried: 0 });
    clock.advance(500);
    expect(await sender.drainOnce()).toEqual({ sent: 1, failed: 0, retried: 0 });

    row = await rowById(database, id!);
    expect(row).toMatchObject({ status: 'sent', attempts: 2, message: null, lastError: null });
    expect(server.dataCount()).toBe(2);
    expect(server.received).toHaveLength(1);
  });

  it('marks a 550 failed at once with one attempt', async () => {
    const { database, server, clock, newSender } = await setUp({
      replyToRecipient: (address) => ({ code: 550, message: `5.1.1 <${address}>: User unknown` }),
    });
    const [id] = await insertOutboxRows(database, clock.now(), [sampleMessage(1)]);
    expect(await newSender().drainOnce()).toEqual({ sent: 0, failed: 1, retried: 0 });
    const row = await rowById(database, id!);
    expect(row).toMatchObject({ status: 'failed', attempts: 1, lockedBy: null, lockedUntil: null });
    expect(row.lastError).toContain('550');
    expect(row.lastError).not.toContain('supporter1@example.com');
    clock.advance(60 * 60_000);
    expect(await newSender().drainOnce()).toEqual({ sent: 0, failed: 0, retried: 0 });
    expect(server.received).toHaveLength(0);
  });

  it('gives up after maxAttempts temporary failures, doubling the wait each time', async () => {
    const { database, clock, newSender } = await setUp({ replyToData: () => ({ code: 421, message: '4.7.0 Busy' }) });
    const [id] = await insertOutboxRows(database, clock.now(), [sampleMessage(1)]);
    const sender = newSender({ maxAttempts: 3 });
    const waits: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const before = clock.now();
      const result = await sender.drainOnce();
      const row = await rowById(database, id!);
      expect(row.attempts).toBe(attempt);
      if (attempt < 3) {
        expect(result).toEqual({ sent: 0, failed: 0, retried: 1 });
        waits.push(row.nextAttemptAt - before);
        clock.set(row.nextAttemptAt);
      } else {
        expect(result).toEqual({ sent: 0, failed: 1, retried: 0 });
        expect(row.status).toBe('failed');
      }
    }
    expect(waits).toEqual([500, 1000]);
  });

  it('caps the backoff and spreads it with jitter', async () => {
    const { database, clock, newSender } = await setUp({ replyToData: () => ({ code: 451, message: 'later' }) });
    const [id] = await insertOutboxRows(database, clock.now(), [sampleMessage(1)], { attempts: 6 });
    await newSender({ random: () => 0.999999 }).drainOnce();
    // attempt 7 would wait 64 s uncapped; the cap is 8 s, and jitter adds up to half of it.
    expect((await rowById(database, id!)).nextAttemptAt - clock.now()).toBe(8000);
  });

  it('records a transport bug as a temporary failure, not a crash', async () => {
    const testDb = createTestDatabase();
    closers.push(testDb.cleanup);
    const clock = new ManualClock();
    const [id] = await insertOutboxRows(testDb.database, clock.now(), [sampleMessage(1)]);
    const broken: MailTransport = {
      send: async () => {
        throw new TypeError('supporter1@example.com broke it');
      },
      close: async () => {},
    };
    const sender = new OutboxSender({ links: testLinks, database: testDb.database, transport: broken, clock, logger: silentLogger, from: mailFrom });
    expect(await sender.drainOnce()).toEqual({ sent: 0, failed: 0, retried: 1 });
    const row = await rowById(testDb.database, id!);
    expect(row.lastError).toBe('Unexpected TypeError from the transport');
  });
});

describe('OutboxSender: leases and concurrency', () => {
  it('two senders on two connections to one database send each of 200 messages exactly once', async () => {
    const { database, dir, server, clock, newSender } = await setUp();
    const second = new SqliteDatabase({ path: join(dir, 'signet.db'), migrationsFolder });
    closers.push(() => second.close());
    const secondTransport = new SmtpTransport({ url: server.url });
    closers.push(() => secondTransport.close());
    await insertOutboxRows(database, clock.now(), Array.from({ length: 200 }, (_, i) => sampleMessage(i)));

    const a = newSender({ workerId: 'worker-a', batchSize: 20, concurrency: 5 });
    const b = newSender({ workerId: 'worker-b', batchSize: 20, concurrency: 5, database: second, transport: secondTransport });
    const drainAll = async (sender: OutboxSender) => {
      for (;;) {
        const result = await sender.drainOnce();
        if (result.sent + result.failed + result.retried === 0) return;
      }
    };
    await Promise.all([drainAll(a), drainAll(b)]);

    expect(a.stats().sent + b.stats().sent).toBe(200);
    expect(a.stats().sent).toBeGreaterThan(0);
    expect(b.stats().sent).toBeGreaterThan(0);
    const receivedIds = server.received.map((mail) => parseMail(mail.raw).header('Message-ID'));
    expect(receivedIds).toHaveLength(200);
    expect(new Set(receivedIds).size).toBe(200);
    const rows = await database.db.select().from(outbox);
    expect(rows.every((row) => row.status === 'sent' && row.attempts === 1 && row.message === null)).toBe(true);
    expect(new Set(rows.map((row) => row.messageId))).toEqual(new Set(receivedIds));
  });

  it('reclaims a row whose lease a crashed sender left behind, but not a live lease', async () => {
    const { database, server, clock, newSender } = await setUp();
    const [crashed] = await insertOutboxRows(database, clock.now(), [sampleMessage(1)], {
      lockedBy: 'crashed-worker',
      lockedUntil: clock.now() - 1,
    });
    const [live] = await insertOutboxRows(database, clock.now(), [sampleMessage(2)], {
      lockedBy: 'live-worker',
      lockedUntil: clock.now() + 60_000,
    });
    expect(await newSender({ workerId: 'me' }).drainOnce()).toEqual({ sent: 1, failed: 0, retried: 0 });
    expect(await rowById(database, crashed!)).toMatchObject({ status: 'sent', lockedBy: null });
    expect(await rowById(database, live!)).toMatchObject({ status: 'pending', lockedBy: 'live-worker' });
    expect(server.received).toHaveLength(1);
  });

  it('changes nothing when its lease was taken over during the send', async () => {
    const { database, server, transport, clock, newSender } = await setUp();
    const [id] = await insertOutboxRows(database, clock.now(), [sampleMessage(1)]);
    const stealing: MailTransport = {
      async send(message) {
        // Another worker reclaimed the row after our lease ran out.
        await database.db.update(outbox).set({ lockedBy: 'thief', lockedUntil: clock.now() + 60_000 }).where(eq(outbox.id, id!));
        await transport.send(message);
      },
      close: () => transport.close(),
    };
    await newSender({ workerId: 'slow', transport: stealing }).drainOnce();
    expect(server.received).toHaveLength(1);
    expect(await rowById(database, id!)).toMatchObject({ status: 'pending', lockedBy: 'thief', attempts: 0 });
    expect((await rowById(database, id!)).message).not.toBeNull();
  });

  it('does not send a claimed row whose lease ran out before its turn', async () => {
    const { database, server, transport, clock, newSender } = await setUp();
    const [first, second] = await insertOutboxRows(database, clock.now(), [sampleMessage(1), sampleMessage(2)]);
    const slow: MailTransport = {
      async send(message) {
        clock.advance(61_000);
        await transport.send(message);
      },
      close: () => transport.close(),
    };
    const result = await newSender({ transport: slow, concurrency: 1, leaseMs: 60_000 }).drainOnce();
    expect(result).toEqual({ sent: 1, failed: 0, retried: 0 });
    expect(server.received).toHaveLength(1);
    const rows = [await rowById(database, first!), await rowById(database, second!)];
    expect(rows.map((row) => row.status).sort()).toEqual(['pending', 'sent']);
    // The skipped row is handed back at once, not left leased.
    expect(rows.find((row) => row.status === 'pending')).toMatchObject({ lockedBy: null, lockedUntil: null });
  });
});

describe('OutboxSender: loop', () => {
  it('sends as soon as wake() is called, without waiting for the poll', async () => {
    const { database, server, clock, newSender } = await setUp();
    const sender = newSender({ pollIntervalMs: 60_000 });
    sender.start();
    closers.push(() => sender.stop());
    await vi.waitFor(() => expect(sender.stats().running).toBe(true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const [id] = await insertOutboxRows(database, clock.now(), [sampleMessage(1)]);
    sender.wake();
    await vi.waitFor(async () => expect((await rowById(database, id!)).status).toBe('sent'), { timeout: 5000 });
    expect(server.received).toHaveLength(1);
    await sender.stop();
    expect(sender.stats().running).toBe(false);
  });

  it('polls on its own when nobody calls wake()', async () => {
    const { database, clock, newSender } = await setUp();
    const sender = newSender({ pollIntervalMs: 10 });
    sender.start();
    closers.push(() => sender.stop());
    const [id] = await insertOutboxRows(database, clock.now(), [sampleMessage(1)]);
    await vi.waitFor(async () => expect((await rowById(database, id!)).status).toBe('sent'), { timeout: 5000 });
  });

  it('stop() waits for sends in flight and hands back the rows it had not started', async () => {
    const { database, server, transport, clock, newSender } = await setUp();
    const ids = await insertOutboxRows(database, clock.now(), [sampleMessage(1), sampleMessage(2), sampleMessage(3)]);
    const gated = gatedTransport(transport);
    const sender = newSender({ transport: gated.transport, concurrency: 1, workerId: 'stopping' });
    sender.start();
    await vi.waitFor(() => expect(gated.started).toHaveLength(1));
    expect(sender.stats().inFlight).toBe(1);

    let stopped = false;
    const stopping = sender.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stopped).toBe(false);
    gated.open();
    await stopping;

    expect(server.received).toHaveLength(1);
    expect(gated.started).toHaveLength(1);
    const rows = await Promise.all(ids.map((id) => rowById(database, id)));
    expect(rows.filter((row) => row.status === 'sent')).toHaveLength(1);
    for (const row of rows.filter((candidate) => candidate.status === 'pending')) {
      expect(row).toMatchObject({ lockedBy: null, lockedUntil: null, attempts: 0 });
    }
    expect(await sender.drainOnce()).toEqual({ sent: 0, failed: 0, retried: 0 });
  });

  it('never runs two drains at once', async () => {
    const { database, transport, clock, newSender } = await setUp();
    await insertOutboxRows(database, clock.now(), [sampleMessage(1), sampleMessage(2)]);
    const gated = gatedTransport(transport);
    const sender = newSender({ transport: gated.transport, batchSize: 1 });
    const first = sender.drainOnce();
    const second = sender.drainOnce();
    await vi.waitFor(() => expect(gated.started).toHaveLength(1));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(gated.started).toHaveLength(1);
    gated.open();
    expect(await first).toEqual({ sent: 1, failed: 0, retried: 0 });
    expect(await second).toEqual({ sent: 1, failed: 0, retried: 0 });
  });
});

describe('OutboxSender: logging', () => {
  it('logs ids and codes, never addresses, names or message text', async () => {
    const lines: string[] = [];
    const record = (level: string) => (message: string, fields?: Record<string, unknown>) => lines.push(JSON.stringify({ level, message, ...fields }));
    const logger: Logger = { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
    const { database, clock, newSender } = await setUp({
      replyToRecipient: (address) => ({ code: 550, message: `5.1.1 <${address}>: User unknown` }),
    });
    const [id] = await insertOutboxRows(database, clock.now(), [
      sampleMessage(1, { to: { name: 'Secret Name', address: 'secret@example.com' } }),
    ]);
    await newSender({ logger }).drainOnce();
    expect(lines.some((line) => line.includes(id!) && line.includes('"responseCode":550'))).toBe(true);
    const all = lines.join('\n');
    expect(all).not.toContain('secret@example.com');
    expect(all).not.toContain('Secret Name');
    expect(all).not.toContain('tok-1');
  });
});
