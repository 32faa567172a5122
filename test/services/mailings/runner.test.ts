import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { and, count, eq, isNotNull } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { deliveries, letterBatches, letters, mailings, outbox } from '../../../src/db/schema.js';
import { createLocalLetterPorts } from '../../../src/letters/node/letter-store.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { OutboxSender } from '../../../src/outbox/node/outbox-sender.js';
import { SmtpTransport } from '../../../src/mail/node/smtp-transport.js';
import type { MailTransport } from '../../../src/mail/transports/transport.js';
import { HELD_FROM } from '../../../src/outbox/outbox-store.js';
import { createTestApp, repoLettersDir } from '../../helpers/app.js';
import { openCampaign } from '../../helpers/signing.js';
import { startSmtpServer, type TestSmtpServer } from '../../mail/helpers/smtp-server.js';
import {
  createRunner,
  eligibleEmail,
  INELIGIBLE,
  mailingRows,
  pendingRows,
  readMailing,
  recordingTransport,
  scheduleUpdate,
  seedSupporters,
  SEND_AT,
  SEND_AT_LOCAL,
  SLUG,
  stallingDatabase,
  type TestApp,
} from './runner-helpers.js';
import { testLinks } from '../../helpers/keys.js';

let t: TestApp;
let smtp: TestSmtpServer | undefined;
afterEach(async () => {
  await smtp?.close();
  smtp = undefined;
  await t?.cleanup();
});

function createSender(transport: MailTransport) {
  return new OutboxSender({ links: testLinks, database: t.database, transport, clock: t.clock, logger: silentLogger, from: 'Signet <no-reply@signet.test>', batchSize: 500, concurrency: 10 });
}

/** Drains until a pass claims nothing. */
async function drainAll(sender: OutboxSender) {
  let sent = 0;
  for (;;) {
    const result = await sender.drainOnce();
    sent += result.sent;
    if (result.sent + result.failed + result.retried === 0) return sent;
  }
}

describe('MailingRunner: update mailings', () => {
  it('claims at sendAt, queues each consenting supporter once, and an SMTP server receives each exactly once', async () => {
    t = createTestApp();
    const eligible = 2000;
    await seedSupporters(t, eligible);
    const { id } = await scheduleUpdate(t);
    const runner = createRunner(t, { batchSize: 500 });

    t.clock.set(SEND_AT - 1);
    expect(await runner.tick()).toEqual({ claimed: 0, queued: 0, finished: 0 });
    expect(await readMailing(t, id)).toMatchObject({ status: 'scheduled', startedAt: null });
    expect(await mailingRows(t, id)).toHaveLength(0);

    t.clock.set(SEND_AT);
    expect(await runner.tick()).toEqual({ claimed: 1, queued: eligible, finished: 0 });
    expect(await readMailing(t, id)).toMatchObject({ status: 'running', lockedBy: 'runner-a', startedAt: SEND_AT, total: eligible, sent: 0, failed: 0, skipped: 2 });
    const rows = await mailingRows(t, id);
    expect(rows).toHaveLength(eligible);
    const expected = Array.from({ length: eligible }, (_, i) => eligibleEmail(i)).sort();
    expect(rows.map((row) => row.recipient).sort()).toEqual(expected);
    expect(rows.every((row) => row.kind === 'update' && row.status === 'pending' && row.nextAttemptAt === SEND_AT)).toBe(true);
    const first = rows.find((row) => row.recipient === eligibleEmail(0))!;
    expect(first.message).toEqual({
      compose: 'update',
      input: {
        locale: 'ja',
        supporterName: 'Supporter supporter-00000',
        campaignTitle: '難民を救おう',
        subject: 'The letters are on their way',
        bodyMarkdown: '# Thank you\n\nWe delivered your signatures today.',
        // The unsubscribe link is derived from it when sent: no token is stored.
        signatureId: first.recipientKey,
      },
    });

    smtp = await startSmtpServer();
    const transport = new SmtpTransport({ url: smtp.url, dataDir: t.dataDir, maxConnections: 5 });
    const sender = createSender(transport);
    try {
      expect(await drainAll(sender)).toBe(eligible);
    } finally {
      await transport.close();
    }
    const received = smtp.received.flatMap((mail) => mail.rcptTo);
    expect(received).toHaveLength(eligible);
    expect(received.sort()).toEqual(expected);
    for (const address of [...INELIGIBLE.noConsent, INELIGIBLE.unsubscribed, INELIGIBLE.suppressed, INELIGIBLE.pending, INELIGIBLE.lateConfirmed]) {
      expect(received).not.toContain(address.toLowerCase());
    }

    expect(await runner.tick()).toEqual({ claimed: 1, queued: 0, finished: 1 });
    const res = await t.request('GET', `/api/v1/mailings/${id}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'finished',
      progress: { total: eligible, sent: eligible, failed: 0, skipped: 2 },
      finishedAt: new Date(SEND_AT).toISOString(),
    });
    // Finished for good: nobody claims it again.
    expect(await runner.tick()).toEqual({ claimed: 0, queued: 0, finished: 0 });
  }, 60_000);

  it('two runners ticking at once on one database queue every recipient once', async () => {
    t = createTestApp();
    await seedSupporters(t, 600);
    const { id } = await scheduleUpdate(t);
    const a = createRunner(t, { workerId: 'runner-a', batchSize: 100 });
    const b = createRunner(t, { workerId: 'runner-b', batchSize: 100 });
    t.clock.set(SEND_AT);
    const first = await Promise.all([a.tick(), b.tick(), a.tick(), b.tick()]);
    expect(first.reduce((sum, r) => sum + r.queued, 0)).toBe(600);
    // The holder keeps its claim; after its lease runs out the other may take over, and queues nobody again.
    t.clock.advance(61_000);
    const second = await Promise.all([b.tick(), a.tick()]);
    expect(second.reduce((sum, r) => sum + r.queued, 0)).toBe(0);
    const rows = await mailingRows(t, id);
    expect(rows).toHaveLength(600);
    expect(new Set(rows.map((row) => row.recipientKey)).size).toBe(600);
    expect(new Set(rows.map((row) => row.recipient)).size).toBe(600);
    expect(await readMailing(t, id)).toMatchObject({ total: 600, skipped: 2 });
  });

  it('a runner that crashed mid-queue is taken over when its lease runs out, without duplicates', async () => {
    t = createTestApp();
    await seedSupporters(t, 450);
    const { id } = await scheduleUpdate(t);
    t.clock.set(SEND_AT);
    // Runner A writes two batches of 100, then its process "dies" inside the third write.
    const crashing = stallingDatabase(t.database, 2);
    const a = createRunner(t, { workerId: 'runner-a', batchSize: 100, ctx: { ...t.ctx, db: crashing.database } });
    const aTick = a.tick();
    await expect.poll(() => crashing.stalled(), { timeout: 10_000 }).toBe(true);
    expect(await mailingRows(t, id)).toHaveLength(200);

    const b = createRunner(t, { workerId: 'runner-b', batchSize: 100 });
    expect(await b.tick()).toEqual({ claimed: 0, queued: 0, finished: 0 });
    t.clock.advance(60_001);
    expect(await b.tick()).toEqual({ claimed: 1, queued: 250, finished: 0 });
    expect(await readMailing(t, id)).toMatchObject({ status: 'running', lockedBy: 'runner-b', startedAt: SEND_AT, total: 450 });

    // A wakes up and finishes its stalled write: it no longer holds the lease, so it adds nothing.
    crashing.resume();
    expect(await aTick).toEqual({ claimed: 1, queued: 200, finished: 0 });
    const rows = await mailingRows(t, id);
    expect(rows).toHaveLength(450);
    expect(new Set(rows.map((row) => row.recipient)).size).toBe(450);
    expect(await readMailing(t, id)).toMatchObject({ lockedBy: 'runner-b', total: 450 });
  });

  it('paces rows at ratePerMinute: with 60 a minute, row i is due at the start + i seconds', async () => {
    t = createTestApp();
    await seedSupporters(t, 30);
    const { id } = await scheduleUpdate(t, { ratePerMinute: 60 });
    t.clock.set(SEND_AT + 250);
    await createRunner(t, { batchSize: 7 }).tick();
    const rows = await mailingRows(t, id);
    expect(rows).toHaveLength(30);
    expect(rows.map((row) => row.nextAttemptAt)).toEqual(rows.map((_, i) => SEND_AT + 250 + i * 1000));
  });

  it('pause holds pending rows, resume releases them at their pace, cancel fails the pending ones', async () => {
    t = createTestApp();
    await seedSupporters(t, 10);
    const { id } = await scheduleUpdate(t, { ratePerMinute: 60 });
    const runner = createRunner(t);
    const transport = recordingTransport();
    const sender = createSender(transport);
    t.clock.set(SEND_AT);
    await runner.tick();

    t.clock.set(SEND_AT + 2500);
    expect(await drainAll(sender)).toBe(3);
    const paused = await t.request('POST', `/api/v1/mailings/${id}/pause`);
    expect(paused.status).toBe(200);
    expect(await paused.json()).toMatchObject({ status: 'paused' });
    const held = await pendingRows(t, id);
    expect(held).toHaveLength(7);
    // Each keeps the delay it had left (row 3 was due 500 ms after the pause).
    expect(held.map((row) => row.nextAttemptAt)).toEqual(held.map((_, i) => HELD_FROM + 500 + i * 1000));

    t.clock.advance(3_600_000);
    expect(await drainAll(sender)).toBe(0);
    expect(await runner.tick()).toEqual({ claimed: 0, queued: 0, finished: 0 });
    expect(await readMailing(t, id)).toMatchObject({ status: 'paused', sent: 3 });

    const resumeAt = t.clock.now();
    const resumed = await t.request('POST', `/api/v1/mailings/${id}/resume`);
    expect(await resumed.json()).toMatchObject({ status: 'running' });
    const released = await pendingRows(t, id);
    expect(released.map((row) => row.nextAttemptAt)).toEqual(released.map((_, i) => resumeAt + 500 + i * 1000));
    t.clock.advance(1500);
    expect(await drainAll(sender)).toBe(2);
    expect(await runner.tick()).toMatchObject({ claimed: 1, queued: 0 });
    expect(await readMailing(t, id)).toMatchObject({ status: 'running', sent: 5, total: 10 });

    const cancelled = await t.request('POST', `/api/v1/mailings/${id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(await cancelled.json()).toMatchObject({ status: 'cancelled', progress: { total: 10, sent: 5, failed: 5, skipped: 2 } });
    const rows = await mailingRows(t, id);
    expect(rows.filter((row) => row.status === 'sent')).toHaveLength(5);
    expect(rows.filter((row) => row.status === 'failed').every((row) => row.lastError === 'cancelled')).toBe(true);
    t.clock.advance(3_600_000);
    expect(await drainAll(sender)).toBe(0);
    expect(transport.sent).toHaveLength(5);
    expect(new Set(transport.sent.map((mail) => mail.to.address)).size).toBe(5);
    expect(await runner.tick()).toEqual({ claimed: 0, queued: 0, finished: 0 });
  });

  it('a retry the sender schedules during a pause is held again by the next tick', async () => {
    t = createTestApp();
    await seedSupporters(t, 3);
    const { id } = await scheduleUpdate(t, { ratePerMinute: 60 });
    const runner = createRunner(t);
    t.clock.set(SEND_AT);
    await runner.tick();
    await t.request('POST', `/api/v1/mailings/${id}/pause`);
    // As if a send in flight at the pause failed and was put back for a retry in a minute.
    const [row] = await pendingRows(t, id);
    await t.database.atomic([t.database.db.update(outbox).set({ nextAttemptAt: SEND_AT + 60_000 }).where(eq(outbox.id, row!.id))]);
    await runner.tick();
    expect((await pendingRows(t, id)).every((pending) => pending.nextAttemptAt >= HELD_FROM)).toBe(true);
  });

  it('a dry run composes and counts but queues nothing', async () => {
    t = createTestApp();
    await seedSupporters(t, 25);
    const { id } = await scheduleUpdate(t, { dryRun: true });
    t.clock.set(SEND_AT);
    expect(await createRunner(t, { batchSize: 10 }).tick()).toEqual({ claimed: 1, queued: 0, finished: 1 });
    expect(await mailingRows(t, id)).toHaveLength(0);
    const res = await t.request('GET', `/api/v1/mailings/${id}`);
    expect(await res.json()).toMatchObject({ status: 'finished', dryRun: true, progress: { total: 25, sent: 0, failed: 0, skipped: 2 } });
  });

  it('an update whose template is gone by the send time fails with a clear error', async () => {
    t = createTestApp();
    await seedSupporters(t, 2);
    const res = await t.request('POST', '/api/v1/mailings', {
      body: { campaign: SLUG, kind: 'update', sendAt: SEND_AT_LOCAL, timeZone: 'Asia/Tokyo', template: 'thank-you' },
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    t.clock.set(SEND_AT);
    // The runner reads templates from a directory without it (as if the file was removed meanwhile).
    await createRunner(t, { letters: createLocalLetterPorts({ lettersDir: t.dataDir, dataDir: t.dataDir }) }).tick();
    expect(await readMailing(t, id)).toMatchObject({ status: 'failed', lastError: expect.stringContaining('UPDATE_TEMPLATE_NOT_FOUND') });
    expect(await mailingRows(t, id)).toHaveLength(0);
  });
});

describe('MailingRunner: letters mailings', () => {
  it('generates 7 letters once and makes 7 email and 7 print deliveries once, even when run again', async () => {
    t = createTestApp();
    const imported = await t.request('POST', '/api/v1/targets/import', { raw: await readFile(join(repoLettersDir, 'targets/china-missions-japan.json'), 'utf8') });
    expect(imported.status).toBe(201);
    const { ids } = (await imported.json()) as { ids: string[] };
    expect(ids).toHaveLength(7);
    for (const [i, targetId] of ids.entries()) {
      const patched = await t.request('PATCH', `/api/v1/targets/${targetId}`, { body: { email: `mission-${i}@example.org` } });
      expect(patched.status).toBe(200);
    }
    await openCampaign(t, SLUG, { targetIds: ids });
    const schedule = async (channel: 'email' | 'print') => {
      const res = await t.request('POST', '/api/v1/mailings', {
        body: { campaign: SLUG, kind: 'letters', channel, sendAt: SEND_AT_LOCAL, timeZone: 'Asia/Tokyo', ratePerMinute: 60 },
      });
      expect(res.status).toBe(201);
      return ((await res.json()) as { id: string }).id;
    };
    const emailMailing = await schedule('email');
    const printMailing = await schedule('print');

    t.clock.set(SEND_AT);
    const runner = createRunner(t);
    expect(await runner.tick()).toEqual({ claimed: 2, queued: 14, finished: 1 });
    const countOf = async (table: typeof letters | typeof letterBatches | typeof deliveries) => (await t.database.db.select({ n: count() }).from(table))[0]!.n;
    expect(await countOf(letterBatches)).toBe(1);
    expect(await countOf(letters)).toBe(7);
    const [letter] = await t.database.db.select().from(letters);
    expect(letter).toMatchObject({ cutoffAt: SEND_AT });
    const byChannel = async (mailingId: string) => t.database.db.select().from(deliveries).where(eq(deliveries.mailingId, mailingId));
    expect(await byChannel(emailMailing)).toHaveLength(7);
    expect((await byChannel(printMailing)).every((d) => d.channel === 'print' && d.status === 'queued')).toBe(true);
    expect(await byChannel(printMailing)).toHaveLength(7);
    const rows = await mailingRows(t, emailMailing);
    expect(rows).toHaveLength(7);
    const emailDeliveries = await byChannel(emailMailing);
    expect(rows.map((row) => row.recipientKey).sort()).toEqual(emailDeliveries.map((d) => d.id).sort());
    expect(rows.map((row) => row.nextAttemptAt).sort()).toEqual(rows.map((_, i) => SEND_AT + i * 1000));
    expect(await readMailing(t, printMailing)).toMatchObject({ status: 'finished', total: 7, sent: 7, skipped: 0 });

    // A crash: the email mailing's lease runs out and another runner picks it up again.
    await t.database.atomic([t.database.db.update(mailings).set({ lockedBy: 'dead', lockedUntil: SEND_AT }).where(eq(mailings.id, emailMailing))]);
    t.clock.advance(1);
    expect(await createRunner(t, { workerId: 'runner-b' }).tick()).toEqual({ claimed: 1, queued: 0, finished: 0 });
    expect(await countOf(letters)).toBe(7);
    expect(await countOf(letterBatches)).toBe(1);
    expect(await countOf(deliveries)).toBe(14);
    expect(await mailingRows(t, emailMailing)).toHaveLength(7);

    const transport = recordingTransport();
    t.clock.advance(10_000);
    expect(await drainAll(createSender(transport))).toBe(7);
    expect(transport.sent.map((mail) => mail.to.address).sort()).toEqual(ids.map((_, i) => `mission-${i}@example.org`).sort());
    expect(await createRunner(t, { workerId: 'runner-b' }).tick()).toMatchObject({ claimed: 1, finished: 1 });
    expect(await readMailing(t, emailMailing)).toMatchObject({ status: 'finished', total: 7, sent: 7, failed: 0 });
    const sentDeliveries = await t.request('GET', `/api/v1/deliveries?campaign=${SLUG}&channel=email&status=sent`);
    expect(((await sentDeliveries.json()) as { items: unknown[] }).items).toHaveLength(7);
    expect(await t.database.db.select().from(outbox).where(and(isNotNull(outbox.mailingId), eq(outbox.status, 'pending')))).toHaveLength(0);
  }, 60_000);
});
