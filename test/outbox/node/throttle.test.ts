import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/lib/clock.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { OutboxSender } from '../../../src/outbox/node/outbox-sender.js';
import { SmtpTransport } from '../../../src/mail/node/smtp-transport.js';
import { createTestDatabase } from '../../helpers/db.js';
import { parseMail } from '../../mail/helpers/mime.js';
import { insertOutboxRows, mailFrom, sampleMessage } from '../../mail/helpers/outbox.js';
import { startSmtpServer } from '../../mail/helpers/smtp-server.js';
import { testLinks } from '../../helpers/keys.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

describe('OutboxSender: maxPerSecond', () => {
  it('paces 600 messages at 200/s (about 3 s) and sends each exactly once', async () => {
    const testDb = createTestDatabase();
    closers.push(testDb.cleanup);
    const arrivals: number[] = [];
    const server = await startSmtpServer({
      replyToData: () => {
        arrivals.push(performance.now());
        return undefined;
      },
    });
    closers.push(() => server.close());
    const transport = new SmtpTransport({ url: server.url, maxConnections: 5 });
    closers.push(() => transport.close());
    const clock = new ManualClock();
    const ids = await insertOutboxRows(
      testDb.database,
      clock.now(),
      Array.from({ length: 600 }, (_, i) => sampleMessage(i)),
    );
    const sender = new OutboxSender({ links: testLinks,
      database: testDb.database,
      transport,
      clock,
      logger: silentLogger,
      from: mailFrom,
      batchSize: 600,
      concurrency: 50,
      maxPerSecond: 200,
    });

    const started = performance.now();
    expect(await sender.drainOnce()).toEqual({ sent: 600, failed: 0, retried: 0 });
    const elapsedMs = performance.now() - started;

    // 599 gaps of 5 ms: a lower bound that load on the machine can only lengthen.
    expect(elapsedMs).toBeGreaterThanOrEqual(2500);
    const messageIds = server.received.map((mail) => parseMail(mail.raw).header('Message-ID'));
    expect(messageIds).toHaveLength(600);
    expect(new Set(messageIds).size).toBe(600);
    const rows = await testDb.database.db.query.outbox.findMany({ columns: { id: true, status: true } });
    expect(rows.map((row) => row.id).sort()).toEqual([...ids].sort());
    expect(rows.every((row) => row.status === 'sent')).toBe(true);
    // No one-second window holds much more than 200 arrivals (slack for delivery jitter on a busy machine).
    let busiest = 0;
    for (let start = 0, end = 0; end < arrivals.length; end++) {
      while (arrivals[end]! - arrivals[start]! >= 1000) start++;
      busiest = Math.max(busiest, end - start + 1);
    }
    expect(busiest).toBeLessThanOrEqual(250);
  }, 20_000);

  it('refuses a rate that is not positive', async () => {
    const testDb = createTestDatabase();
    closers.push(testDb.cleanup);
    const transport = new SmtpTransport({ url: 'smtp://127.0.0.1:1' });
    closers.push(() => transport.close());
    const options = { database: testDb.database, transport, clock: new ManualClock(), logger: silentLogger, from: mailFrom };
    expect(() => new OutboxSender({ links: testLinks, ...options, maxPerSecond: 0 })).toThrow(RangeError);
    expect(() => new OutboxSender({ links: testLinks, ...options, maxPerSecond: Number.NaN })).toThrow(RangeError);
  });
});
