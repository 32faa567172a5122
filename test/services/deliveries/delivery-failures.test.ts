import { and, eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { outbox } from '../../../src/db/schema.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { OutboxSender } from '../../../src/outbox/node/outbox-sender.js';
import { SmtpTransport } from '../../../src/mail/node/smtp-transport.js';
import { createRunner, readMailing } from '../mailings/runner-helpers.js';
import { startSmtpServer, type TestSmtpServer } from '../../mail/helpers/smtp-server.js';
import { deliver, EMBASSY_EMAIL, scopedToken, setupLetters, SLUG, type TestApp } from './helpers.js';
import { testLinks } from '../../helpers/keys.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

async function setup() {
  const { t, letters } = await setupLetters();
  closers.push(() => t.cleanup());
  return { t, letters };
}

/** A real SMTP server; `refuse()` makes it answer 550 to every recipient until `accept()`. */
async function relay(t: TestApp) {
  let refusing = false;
  const server: TestSmtpServer = await startSmtpServer({ replyToRecipient: () => (refusing ? { code: 550, message: 'mailbox unavailable' } : undefined) });
  closers.push(() => server.close());
  const transport = new SmtpTransport({ url: server.url, dataDir: t.dataDir });
  closers.push(() => transport.close());
  const sender = new OutboxSender({ links: testLinks, database: t.database, transport, clock: t.clock, logger: silentLogger, from: 'Signet <no-reply@signet.test>' });
  return {
    server,
    sender,
    refuse: () => (refusing = true),
    accept: () => (refusing = false),
  };
}

type Body = {
  id: string;
  items: { id: string; recipient: string; [key: string]: unknown }[];
  nextCursor: string | null;
  error: { code: string; message: string; details?: unknown };
  [key: string]: unknown;
};
const json = async (res: Response) => (await res.json()) as Body;

async function getDelivery(t: TestApp, id: string) {
  const res = await t.request('GET', `/api/v1/deliveries/${id}`);
  expect(res.status).toBe(200);
  return json(res);
}

describe('bounces mark letter deliveries', () => {
  it('a bounce naming the Message-ID marks that delivery bounced; one naming only the address, the last letter emailed there', async () => {
    const { t, letters } = await setup();
    const { sender } = await relay(t);
    const first = (await deliver(t, letters.embassy.id, 'email')).body;
    expect(await sender.drainOnce()).toMatchObject({ sent: 1 });
    t.clock.advance(60_000);
    const second = (await deliver(t, letters.embassy.id, 'email')).body;
    expect(await sender.drainOnce()).toMatchObject({ sent: 1 });

    const bounced = await t.request('POST', '/api/v1/bounces', { body: { email: EMBASSY_EMAIL.toUpperCase(), kind: 'soft', diagnostic: '452 4.2.2 mailbox full' } });
    expect(bounced.status).toBe(200);
    expect(await json(bounced)).toEqual({ recorded: 1, suppressed: [] });
    expect(await getDelivery(t, second.id)).toMatchObject({ status: 'bounced', lastError: '452 4.2.2 mailbox full' });
    expect(await getDelivery(t, first.id)).toMatchObject({ status: 'sent', lastError: null });

    const [firstRow] = await t.database.db.select({ messageId: outbox.messageId }).from(outbox).where(eq(outbox.id, (await deliveryOutboxId(t, first.id))!));
    const byId = await t.request('POST', '/api/v1/bounces', {
      body: { bounces: [{ email: EMBASSY_EMAIL, kind: 'hard', messageId: firstRow!.messageId.slice(1, -1), diagnostic: '550 5.1.1 user unknown' }] },
    });
    expect(byId.status).toBe(200);
    expect(await json(byId)).toEqual({ recorded: 1, suppressed: [EMBASSY_EMAIL] });
    expect(await getDelivery(t, first.id)).toMatchObject({ status: 'bounced', lastError: '550 5.1.1 user unknown' });
    const listed = await t.request('GET', `/api/v1/deliveries?status=bounced&campaign=${SLUG}`);
    expect((await json(listed)).items.map((item) => item.id).sort()).toEqual([first.id, second.id].sort());
  }, 60_000);

  it('a bounce of a supporter’s email changes no delivery', async () => {
    const { t, letters } = await setup();
    const { sender } = await relay(t);
    const delivery = (await deliver(t, letters.embassy.id, 'email')).body;
    await sender.drainOnce();
    const res = await t.request('POST', '/api/v1/bounces', { body: { email: 'aiko@example.org', kind: 'hard' } });
    expect(res.status).toBe(200);
    expect(await getDelivery(t, delivery.id)).toMatchObject({ status: 'sent' });
  }, 60_000);
});

async function deliveryOutboxId(t: TestApp, deliveryId: string) {
  const row = t.database.sqlite.prepare('SELECT outbox_id AS outboxId FROM deliveries WHERE id = ?').get(deliveryId) as { outboxId: string } | undefined;
  return row?.outboxId;
}

describe('GET /outbox and POST /outbox/:id/retry', () => {
  it('lists a failed letter by email with the target’s address, retries it, and the delivery is sent', async () => {
    const { t, letters } = await setup();
    const mail = await relay(t);
    mail.refuse();
    const delivery = (await deliver(t, letters.embassy.id, 'email')).body;
    expect(await mail.sender.drainOnce()).toEqual({ sent: 0, failed: 1, retried: 0 });
    expect(await getDelivery(t, delivery.id)).toMatchObject({ status: 'failed' });

    const failed = await t.request('GET', '/api/v1/outbox?status=failed');
    expect(failed.status).toBe(200);
    const page = await json(failed);
    expect(page.nextCursor).toBeNull();
    expect(page.items).toHaveLength(1);
    const item = page.items[0]!;
    expect(item).toMatchObject({
      kind: 'letter-delivery',
      status: 'failed',
      recipient: EMBASSY_EMAIL,
      attempts: 1,
      lastError: expect.stringContaining('550'),
      deliveryId: delivery.id,
      targetId: letters.embassy.targetId,
      mailingId: null,
      nextAttemptAt: null,
    });
    expect(item).not.toHaveProperty('message');

    // Supporters' addresses are masked (their confirmation emails were sent).
    const all = await json(await t.request('GET', '/api/v1/outbox?status=sent'));
    expect(all.items.map((row) => row.recipient).sort()).toEqual(['a***@example.org', 't***@example.org']);
    const firstPage = await json(await t.request('GET', '/api/v1/outbox?limit=1'));
    expect(firstPage.items).toHaveLength(1);
    const secondPage = await json(await t.request('GET', `/api/v1/outbox?limit=2&cursor=${firstPage.nextCursor}`));
    expect([...firstPage.items, ...secondPage.items].map((row) => row.id)).toHaveLength(3);
    expect(secondPage.nextCursor).toBeNull();

    mail.accept();
    const retried = await t.request('POST', `/api/v1/outbox/${item.id}/retry`);
    expect(retried.status).toBe(200);
    expect(await json(retried)).toMatchObject({ id: item.id, status: 'pending', attempts: 0, lastError: null, nextAttemptAt: new Date(t.clock.now()).toISOString() });
    expect(await getDelivery(t, delivery.id)).toMatchObject({ status: 'queued', attempts: 0 });
    expect(await mail.sender.drainOnce()).toEqual({ sent: 1, failed: 0, retried: 0 });
    expect(mail.server.received.map((m) => m.rcptTo[0])).toEqual([EMBASSY_EMAIL]);
    expect(await getDelivery(t, delivery.id)).toMatchObject({ status: 'sent' });

    const again = await t.request('POST', `/api/v1/outbox/${item.id}/retry`);
    expect(again.status).toBe(409);
    expect((await json(again)).error).toMatchObject({ code: 'INVALID_TRANSITION', details: { status: 'sent' } });
  }, 60_000);

  it('a retry in a finished letters mailing runs it again and keeps its figures right', async () => {
    const { t } = await setup();
    const mail = await relay(t);
    const scheduled = await t.request('POST', '/api/v1/mailings', {
      body: { campaign: SLUG, kind: 'letters', sendAt: '2027-09-22T09:00', timeZone: 'Asia/Tokyo', sendingWindow: null, channel: 'email' },
    });
    expect(scheduled.status).toBe(201);
    const { id } = await json(scheduled);
    t.clock.set(Date.UTC(2027, 8, 22, 0, 0));
    const runner = createRunner(t);
    await runner.tick();
    mail.refuse();
    expect(await mail.sender.drainOnce()).toMatchObject({ failed: 1 });
    await runner.tick();
    expect(await readMailing(t, id)).toMatchObject({ status: 'finished', total: 1, sent: 0, failed: 1, skipped: 2 });

    const [row] = await t.database.db.select({ id: outbox.id }).from(outbox).where(and(eq(outbox.mailingId, id), eq(outbox.status, 'failed')));
    const retried = await t.request('POST', `/api/v1/outbox/${row!.id}/retry`);
    expect(retried.status).toBe(200);
    expect(await readMailing(t, id)).toMatchObject({ status: 'running', failed: 0, sent: 0, finishedAt: null });

    mail.accept();
    expect(await mail.sender.drainOnce()).toMatchObject({ sent: 1 });
    await runner.tick();
    expect(await readMailing(t, id)).toMatchObject({ status: 'finished', total: 1, sent: 1, failed: 0 });
  }, 60_000);

  it('refuses what it cannot retry, bad queries and tokens without the scope', async () => {
    const { t, letters } = await setup();
    const mail = await relay(t);
    mail.refuse();
    await deliver(t, letters.embassy.id, 'email');
    await mail.sender.drainOnce();
    const [failed] = await t.database.db.select({ id: outbox.id }).from(outbox).where(eq(outbox.status, 'failed'));

    const unknown = await t.request('POST', '/api/v1/outbox/0190a0b0-0000-7000-8000-000000000000/retry');
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).error).toMatchObject({ code: 'NOT_FOUND' });
    expect((await t.request('POST', '/api/v1/outbox/not-an-id/retry')).status).toBe(404);

    const badStatus = await t.request('GET', '/api/v1/outbox?status=lost');
    expect(badStatus.status).toBe(400);
    expect((await json(badStatus)).error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'status' }] });
    const badCursor = await t.request('GET', '/api/v1/outbox?cursor=nope');
    expect(badCursor.status).toBe(400);
    expect((await json(badCursor)).error.details).toEqual([{ path: 'cursor', message: 'is not a cursor returned by this list' }]);

    const letterToken = await scopedToken(t, ['letters']);
    expect((await t.request('GET', '/api/v1/outbox', { token: letterToken })).status).toBe(403);
    expect((await t.request('POST', `/api/v1/outbox/${failed!.id}/retry`, { token: letterToken })).status).toBe(403);
    expect((await t.request('GET', '/api/v1/outbox', { token: null })).status).toBe(401);

    // A hard bounce since: the address is suppressed, so a retry would only fail again.
    await t.request('POST', '/api/v1/bounces', { body: { email: EMBASSY_EMAIL, kind: 'hard' } });
    const suppressed = await t.request('POST', `/api/v1/outbox/${failed!.id}/retry`, { token: await scopedToken(t, ['deliveries']) });
    expect(suppressed.status).toBe(409);
    expect((await json(suppressed)).error).toMatchObject({ code: 'ADDRESS_SUPPRESSED', details: { reason: 'hard_bounce' } });
  }, 60_000);
});
