import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { deliveries, outbox } from '../../../src/db/schema.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { OutboxSender } from '../../../src/outbox/node/outbox-sender.js';
import { SmtpTransport } from '../../../src/mail/node/smtp-transport.js';
import { localTimeToInstant } from '../../../src/lib/local-time.js';
import { openCampaign } from '../../helpers/signing.js';
import { startSmtpServer, type TestSmtpServer } from '../../mail/helpers/smtp-server.js';
import { createRunner, mailingRows, readMailing, type TestApp } from './runner-helpers.js';
import { createTestApp } from '../../helpers/app.js';
import { testLinks } from '../../helpers/keys.js';

const SLUG = 'window-2027';
const tokyo = (local: string) => localTimeToInstant(local, 'Asia/Tokyo');
/** 2027-09-24 is a Friday; 2027-09-27 the Monday after. */
const MONDAY_OPENING = tokyo('2027-09-27T09:00');

let t: TestApp;
let smtp: TestSmtpServer | undefined;
let transport: SmtpTransport | undefined;
afterEach(async () => {
  await transport?.close();
  transport = undefined;
  await smtp?.close();
  smtp = undefined;
  await t?.cleanup();
});

/** Two targets by email: one with its own zone (Tokyo), one without (the mailing's zone applies). */
async function setup(): Promise<string[]> {
  t = createTestApp();
  const ids: string[] = [];
  for (const [i, timeZone] of (['asia/tokyo', undefined] as const).entries()) {
    const res = await t.request('POST', '/api/v1/targets', {
      body: {
        name: `Office ${i}`,
        kind: 'embassy',
        email: `office-${i}@example.org`,
        postalAddress: { lines: ['1-1 Nagatacho'], city: 'Tokyo', country: 'JP' },
        ...(timeZone ? { timeZone } : {}),
      },
    });
    expect(res.status).toBe(201);
    const target = (await res.json()) as { id: string; timeZone: string | null };
    expect(target.timeZone).toBe(timeZone ? 'Asia/Tokyo' : null);
    ids.push(target.id);
  }
  await openCampaign(t, SLUG, { targetIds: ids });
  smtp = await startSmtpServer();
  transport = new SmtpTransport({ url: smtp.url, dataDir: t.dataDir });
  return ids;
}

async function scheduleLetters(sendAt: string, extra: Record<string, unknown> = {}): Promise<{ id: string; sendingWindow: unknown }> {
  const res = await t.request('POST', '/api/v1/mailings', { body: { campaign: SLUG, kind: 'letters', sendAt, timeZone: 'Asia/Tokyo', ...extra } });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { id: string; sendingWindow: unknown };
}

function sender(options: Partial<ConstructorParameters<typeof OutboxSender>[0]> = {}) {
  return new OutboxSender({ links: testLinks, database: t.database, transport: transport!, clock: t.clock, logger: silentLogger, from: 'Signet <no-reply@signet.test>', ...options });
}

describe('letters by email inside the sending window', () => {
  it('a mailing at Friday 16:59 Tokyo is delivered on Friday', async () => {
    await setup();
    const mailing = await scheduleLetters('2027-09-24T16:59');
    expect(mailing.sendingWindow).toEqual({ start: '09:00', end: '17:00', days: [1, 2, 3, 4, 5] });

    t.clock.set(tokyo('2027-09-24T16:59'));
    expect(await createRunner(t).tick()).toMatchObject({ claimed: 1, queued: 2 });
    const rows = await mailingRows(t, mailing.id);
    expect(rows.map((row) => row.nextAttemptAt)).toEqual([tokyo('2027-09-24T16:59'), tokyo('2027-09-24T16:59')]);

    expect(await sender().drainOnce()).toEqual({ sent: 2, failed: 0, retried: 0 });
    expect(smtp!.received.map((mail) => mail.rcptTo[0]).sort()).toEqual(['office-0@example.org', 'office-1@example.org']);
    const sent = await t.database.db.select({ sentAt: outbox.sentAt }).from(outbox).where(eq(outbox.mailingId, mailing.id));
    expect(sent.every((row) => row.sentAt === tokyo('2027-09-24T16:59'))).toBe(true);
    const listed = await t.request('GET', `/api/v1/deliveries?campaign=${SLUG}&status=sent`);
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { items: unknown[] }).items).toHaveLength(2);
  }, 60_000);

  it('a mailing on Saturday is due Monday 09:00 Tokyo and nothing is sent before then', async () => {
    await setup();
    const mailing = await scheduleLetters('2027-09-25T10:00');

    t.clock.set(tokyo('2027-09-25T10:00'));
    expect(await createRunner(t).tick()).toMatchObject({ claimed: 1, queued: 2 });
    const rows = await mailingRows(t, mailing.id);
    expect(rows.map((row) => row.nextAttemptAt)).toEqual([MONDAY_OPENING, MONDAY_OPENING]);

    const outboxSender = sender();
    for (const local of ['2027-09-25T10:00', '2027-09-26T12:00', '2027-09-27T08:59:59']) {
      t.clock.set(tokyo(local));
      expect(await outboxSender.drainOnce()).toEqual({ sent: 0, failed: 0, retried: 0 });
    }
    expect(smtp!.received).toHaveLength(0);
    expect(await readMailing(t, mailing.id)).toMatchObject({ status: 'running', sent: 0 });

    t.clock.set(MONDAY_OPENING);
    expect(await outboxSender.drainOnce()).toEqual({ sent: 2, failed: 0, retried: 0 });
    expect(smtp!.received).toHaveLength(2);
    expect(await createRunner(t).tick()).toMatchObject({ finished: 1 });
    expect(await readMailing(t, mailing.id)).toMatchObject({ status: 'finished', total: 2, sent: 2 });
  }, 60_000);

  it('a retry that would fall after hours waits for the next opening, and so does a row claimed after closing', async () => {
    await setup();
    await smtp!.close();
    const refusing = await startSmtpServer({ replyToData: (index) => (index < 2 ? { code: 451, message: 'try later' } : undefined) });
    smtp = refusing;
    await transport!.close();
    transport = new SmtpTransport({ url: refusing.url, dataDir: t.dataDir });
    const mailing = await scheduleLetters('2027-09-24T16:50');

    t.clock.set(tokyo('2027-09-24T16:50'));
    await createRunner(t).tick();
    // Ten minutes of backoff lands after 17:00, so the retry is due Monday at 09:00.
    const outboxSender = sender({ backoff: { baseMs: 1_200_000, maxMs: 1_200_000 }, random: () => 0 });
    expect(await outboxSender.drainOnce()).toEqual({ sent: 0, failed: 0, retried: 2 });
    const rows = await mailingRows(t, mailing.id);
    expect(rows.map((row) => [row.status, row.attempts, row.nextAttemptAt])).toEqual([
      ['pending', 1, MONDAY_OPENING],
      ['pending', 1, MONDAY_OPENING],
    ]);

    // A row due before closing but claimed after it (a busy sender) is handed back, no attempt counted.
    await t.database.atomic([t.database.db.update(outbox).set({ nextAttemptAt: tokyo('2027-09-24T16:59') }).where(eq(outbox.mailingId, mailing.id))]);
    t.clock.set(tokyo('2027-09-24T17:01'));
    expect(await outboxSender.drainOnce()).toEqual({ sent: 0, failed: 0, retried: 0 });
    expect((await mailingRows(t, mailing.id)).map((row) => [row.attempts, row.nextAttemptAt, row.lockedBy])).toEqual([
      [1, MONDAY_OPENING, null],
      [1, MONDAY_OPENING, null],
    ]);
    expect(refusing.dataCount()).toBe(2);

    t.clock.set(MONDAY_OPENING);
    expect(await outboxSender.drainOnce()).toEqual({ sent: 2, failed: 0, retried: 0 });
    const delivered = await t.database.db.select({ status: deliveries.status }).from(deliveries).where(eq(deliveries.mailingId, mailing.id));
    expect(delivered).toHaveLength(2);
  }, 60_000);

  it('sendingWindow null sends at any time; a window of its own is stored and shown', async () => {
    await setup();
    const anyTime = await scheduleLetters('2027-09-25T10:00', { sendingWindow: null });
    expect(anyTime.sendingWindow).toBeNull();
    const custom = await scheduleLetters('2027-09-25T10:00', { sendingWindow: { start: '10:30', end: '24:00', days: [6, 1] } });
    expect(custom.sendingWindow).toEqual({ start: '10:30', end: '24:00', days: [1, 6] });

    t.clock.set(tokyo('2027-09-25T10:00'));
    await createRunner(t).tick();
    expect((await mailingRows(t, anyTime.id)).map((row) => row.nextAttemptAt)).toEqual([tokyo('2027-09-25T10:00'), tokyo('2027-09-25T10:00')]);
    expect((await mailingRows(t, custom.id)).map((row) => row.nextAttemptAt)).toEqual([tokyo('2027-09-25T10:30'), tokyo('2027-09-25T10:30')]);
    const read = await t.request('GET', `/api/v1/mailings/${custom.id}`);
    expect(await read.json()).toMatchObject({ sendingWindow: { start: '10:30', end: '24:00', days: [1, 6] } });
  }, 60_000);
});
