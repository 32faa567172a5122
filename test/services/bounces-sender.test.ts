import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { emailSuppressions, outbox } from '../../src/db/schema.js';
import { ManualClock } from '../../src/lib/clock.js';
import { newId } from '../../src/lib/ids.js';
import { silentLogger } from '../../src/lib/logger.js';
import { newMessageId } from '../../src/mail/messages.js';
import { OutboxSender } from '../../src/outbox/node/outbox-sender.js';
import { SmtpTransport } from '../../src/mail/node/smtp-transport.js';
import type { UpdateEmailInput } from '../../src/mail/update-email.js';
import { createTestDatabase } from '../helpers/db.js';
import { parseMail, partText } from '../mail/helpers/mime.js';
import { insertOutboxRows, mailFrom, sampleMessage } from '../mail/helpers/outbox.js';
import { startSmtpServer } from '../mail/helpers/smtp-server.js';
import { testLinks } from '../helpers/keys.js';

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
  const clock = new ManualClock();
  const sender = new OutboxSender({ links: testLinks, database: testDb.database, transport, clock, logger: silentLogger, from: mailFrom, random: () => 0 });
  return { ...testDb, server, clock, sender };
}

describe('the outbox sender skips suppressed recipients', () => {
  it('marks a row to a suppressed address failed ("suppressed") without contacting SMTP, and sends the others', async () => {
    const { database, server, clock, sender } = await setUp();
    const ids = await insertOutboxRows(database, clock.now(), [
      sampleMessage(1),
      sampleMessage(2, { to: { address: 'Bounced@Example.com' } }),
      sampleMessage(3),
    ]);
    // The row keeps the address as given; suppressions are normalised.
    await database.db.update(outbox).set({ recipient: '  Bounced@Example.COM' }).where(eq(outbox.id, ids[1]!));
    await database.db.insert(emailSuppressions).values({ emailNormalized: 'bounced@example.com', reason: 'hard_bounce', createdAt: clock.now() });
    clock.advance(1000);

    expect(await sender.drainOnce()).toEqual({ sent: 2, failed: 1, retried: 0 });

    expect(server.dataCount()).toBe(2);
    expect(server.received.flatMap((mail) => mail.rcptTo).sort()).toEqual(['supporter1@example.com', 'supporter3@example.com']);
    const [skipped] = await database.db.select().from(outbox).where(eq(outbox.id, ids[1]!));
    expect(skipped).toMatchObject({ status: 'failed', lastError: 'suppressed', attempts: 1, lockedBy: null, sentAt: null });
    expect(await sender.drainOnce()).toEqual({ sent: 0, failed: 0, retried: 0 });
  });

  it('delivers an update email composed at send time to the row recipient, with its List-Unsubscribe headers intact', async () => {
    const { database, server, clock, sender } = await setUp();
    const unsubscribeUrl = 'http://localhost:3000/unsubscribe/01a2212b-d384-7c41-a300-4ef26b334fe5.0123456789abcdef0123456789abcdef';
    const input: UpdateEmailInput = {
      locale: 'ja',
      supporterName: '田中 愛子',
      campaignTitle: '多摩川を守ろう',
      subject: '書簡を届けました',
      bodyMarkdown: '本日、**12の大使館**に書簡を届けました。',
      unsubscribeUrl,
    };
    const id = newId(clock.now());
    await database.db.insert(outbox).values({
      id,
      kind: 'update',
      recipient: 'aiko@example.com',
      messageId: newMessageId(mailFrom, id),
      message: { compose: 'update', input },
      nextAttemptAt: clock.now(),
      createdAt: clock.now(),
      mailingId: 'mailing-1',
      recipientKey: 'signature-1',
    });
    clock.advance(1000);

    expect(await sender.drainOnce()).toEqual({ sent: 1, failed: 0, retried: 0 });
    expect(server.received).toHaveLength(1);
    expect(server.received[0]!.rcptTo).toEqual(['aiko@example.com']);
    const mail = parseMail(server.received[0]!.raw);
    expect(mail.header('List-Unsubscribe')).toBe(`<${unsubscribeUrl}>`);
    expect(mail.header('List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    expect(mail.decodedHeader('Subject')).toBe('書簡を届けました');
    expect(partText(mail, 'text/plain')).toContain(unsubscribeUrl);
    expect(partText(mail, 'text/html')).toContain('<strong>12の大使館</strong>');
  });
});
