import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { outbox } from '../../src/db/schema.js';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/logger.js';
import { MailSendError, type MailTransport, type OutgoingMail } from '../../src/mail/transports/transport.js';
import { deliverOutbox, OutboxDelivery, type DeliverOutboxDeps } from '../../src/outbox/deliver.js';
import { outboxStore } from '../../src/outbox/outbox-store.js';
import { createTestDatabase } from '../helpers/db.js';
import { testLinks } from '../helpers/keys.js';
import { insertOutboxRows, mailFrom, sampleMessage } from '../mail/helpers/outbox.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

/** A transport that keeps what it was given, and refuses the addresses it is told to. */
function recordingTransport(refuse: Record<string, MailSendError> = {}): MailTransport & { sent: OutgoingMail[] } {
  const sent: OutgoingMail[] = [];
  return {
    sent,
    async send(message) {
      const refusal = refuse[message.to.address];
      if (refusal) throw refusal;
      sent.push(message);
    },
    async close() {},
  };
}

function setUp(transport: MailTransport) {
  const testDb = createTestDatabase();
  closers.push(testDb.cleanup);
  const clock = new ManualClock();
  const deps = (owner: string, extra: Partial<DeliverOutboxDeps> = {}): DeliverOutboxDeps => ({
    database: testDb.database,
    transport,
    clock,
    logger: silentLogger,
    from: mailFrom,
    links: testLinks,
    owner,
    leaseMs: 60_000,
    dispatcher: 'dispatcher',
    backoff: { baseMs: 1000, maxMs: 8000 },
    random: () => 0,
    ...extra,
  });
  return { ...testDb, clock, deps, store: outboxStore({ db: testDb.database, clock }) };
}

describe('deliverOutbox', () => {
  it('sends the dispatched rows a queue message names, marks them, and skips them when the message comes again', async () => {
    const transport = recordingTransport();
    const { database, clock, deps, store } = setUp(transport);
    const ids = await insertOutboxRows(database, clock.now(), [sampleMessage(1), sampleMessage(2), sampleMessage(3)]);
    const dispatched = await store.dispatchDue('dispatcher', 2, 60_000);
    expect(dispatched).toHaveLength(2);

    expect(await deliverOutbox(deps('consumer-1'), { ids: dispatched })).toEqual({ sent: 2, failed: 0, retried: 0, skipped: 0 });
    expect(transport.sent.map((mail) => mail.to.address).sort()).toEqual(['supporter1@example.com', 'supporter2@example.com']);
    expect(transport.sent.every((mail) => mail.from === mailFrom)).toBe(true);
    const rows = await database.db.select().from(outbox);
    for (const id of dispatched) expect(rows.find((row) => row.id === id)).toMatchObject({ status: 'sent', message: null, attempts: 1, lockedBy: null });
    expect(rows.find((row) => !dispatched.includes(row.id))).toMatchObject({ status: 'pending', lockedBy: null });

    // At-least-once delivery of the queue message: nothing is sent twice.
    expect(await deliverOutbox(deps('consumer-2'), { ids: dispatched })).toEqual({ sent: 0, failed: 0, retried: 0, skipped: 2 });
    expect(transport.sent).toHaveLength(2);
    // Without ids: the due rows, here the one not dispatched.
    expect(await deliverOutbox(deps('poller'), { limit: 10 })).toEqual({ sent: 1, failed: 0, retried: 0, skipped: 0 });
    expect(new Set(transport.sent.map((mail) => mail.messageId)).size).toBe(3);
    expect(ids).toHaveLength(3);
  });

  it('fails a permanent refusal at once and puts a temporary one back after its backoff', async () => {
    const transport = recordingTransport({
      'supporter1@example.com': new MailSendError('550 5.1.1 user unknown', { permanent: true, responseCode: 550 }),
      'supporter2@example.com': new MailSendError('451 try again later', { permanent: false, responseCode: 451 }),
    });
    const { database, clock, deps } = setUp(transport);
    const [permanent, temporary] = await insertOutboxRows(database, clock.now(), [sampleMessage(1), sampleMessage(2)]);

    expect(await deliverOutbox(deps('consumer'), { ids: [permanent!, temporary!] })).toEqual({ sent: 0, failed: 1, retried: 1, skipped: 0 });
    const [failedRow] = await database.db.select().from(outbox).where(eq(outbox.id, permanent!));
    const [retriedRow] = await database.db.select().from(outbox).where(eq(outbox.id, temporary!));
    expect(failedRow).toMatchObject({ status: 'failed', attempts: 1, lastError: '550 5.1.1 user unknown', lockedBy: null });
    // Equal jitter with random() = 0: half the base delay.
    expect(retriedRow).toMatchObject({ status: 'pending', attempts: 1, lastError: '451 try again later', nextAttemptAt: clock.now() + 500, lockedBy: null });
    // Not due yet: a queue message naming it again sends nothing.
    expect(await deliverOutbox(deps('consumer'), { ids: [temporary!] })).toEqual({ sent: 0, failed: 0, retried: 0, skipped: 1 });
  });

  it('marks rows sent a few milliseconds apart with one write', async () => {
    // Each send ends a millisecond after the one before, as replies from a busy relay do.
    let started = 0;
    const staggered: MailTransport = {
      send: () => new Promise((resolve) => setTimeout(resolve, started++)),
      async close() {},
    };
    const { database, clock, deps } = setUp(staggered);
    const ids = await insertOutboxRows(database, clock.now(), Array.from({ length: 5 }, (_, i) => sampleMessage(i)));
    const delivery = new OutboxDelivery(deps('w', { concurrency: 5 }));
    const markSent = vi.spyOn(delivery.store, 'markSent');
    const { result } = await delivery.drain({ limit: 5 });
    expect(result).toMatchObject({ sent: 5, failed: 0, retried: 0 });
    // One commit (one fsync) for the five rather than one for the first and another for the rest.
    expect(markSent).toHaveBeenCalledTimes(1);
    expect(new Set(markSent.mock.calls[0]![1])).toEqual(new Set(ids));
    const rows = await database.db.select().from(outbox);
    expect(rows.every((row) => row.status === 'sent' && row.lockedBy === null)).toBe(true);
  });

  it('refuses a consumer that takes the dispatcher’s name', async () => {
    const { deps } = setUp(recordingTransport());
    await expect(deliverOutbox(deps('dispatcher'), { ids: [] })).rejects.toThrow(RangeError);
  });
});
