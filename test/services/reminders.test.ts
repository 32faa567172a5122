// One reminder to a signing request still unconfirmed after REMINDER_AFTER_HOURS (issue #21,
// PRODUCT.md §13), never more, within the per-address rules (§8). Through the API on a real
// SQLite file, the clock the app's own, advanced by hand.
import { dirname, join } from 'node:path';
import { and, eq, sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { loadSettings, loadWorkerSettings, privacySettings, reminderAfterMs } from '../../src/config.js';
import { SqliteDatabase } from '../../src/db/node/better-sqlite3.js';
import { outbox, signatureSubmissions } from '../../src/db/schema.js';
import { silentLogger } from '../../src/lib/logger.js';
import { renderStoredMessage } from '../../src/mail/messages.js';
import { OutboxSender } from '../../src/outbox/node/outbox-sender.js';
import { SmtpTransport } from '../../src/mail/node/smtp-transport.js';
import { sendReminders } from '../../src/services/reminders.js';
import { block, signFrom, type TestApp } from '../helpers/abuse.js';
import { createTestApp } from '../helpers/app.js';
import { migrationsFolder } from '../helpers/db.js';
import { testLinks } from '../helpers/keys.js';
import { latestConfirmToken, openCampaign, sendDue } from '../helpers/signing.js';
import { startSmtpServer } from '../mail/helpers/smtp-server.js';

const HOUR = 3_600_000;
const AFTER = 48 * HOUR;
const defaults = loadSettings({});

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

/** The test app with the default limits (CONFIRM_EMAIL_LIMIT 3/3600s, CONFIRM_EMAILS_PER_MINUTE 600) and the default wait. */
async function setUp() {
  const t = createTestApp({ privacy: privacySettings(defaults) });
  closers.push(t.cleanup);
  return { t, slug: await openCampaign(t) };
}

const remind = (t: TestApp) => sendReminders(t.ctx, { afterMs: AFTER });

/** The reminders queued to an address: confirmation-lane rows from the reminder source. */
async function remindersTo(t: TestApp, address: string) {
  return t.database.db.select().from(outbox).where(and(eq(outbox.recipient, address), eq(outbox.laneSource, 'reminder')));
}

async function renderedText(t: TestApp, row: typeof outbox.$inferSelect) {
  return renderStoredMessage(row.message!, row.recipient, testLinks);
}

async function confirmWith(t: TestApp, token: string) {
  return t.request('POST', '/api/v1/signatures/confirm', { token: null, body: { token } });
}

describe('one reminder', () => {
  it('goes once, after REMINDER_AFTER_HOURS, in the supporter\'s language, with the link of the request, and never again', async () => {
    const { t, slug } = await setUp();
    expect((await signFrom(t, slug, 'hana@example.jp', '203.0.113.1', { locale: 'ja' })).status).toBe(202);
    const firstToken = await latestConfirmToken(t, 'hana@example.jp');
    await sendDue(t);

    t.clock.advance(AFTER - 60_000);
    expect(await remind(t)).toEqual({ queued: 0, blocked: 0 });
    t.clock.advance(60_000);
    expect(await remind(t)).toEqual({ queued: 1, blocked: 0 });

    const [reminder] = await remindersTo(t, 'hana@example.jp');
    const mail = await renderedText(t, reminder!);
    expect(mail.subject).toBe('【再度のお願い】署名のご確認：Save North Korean refugees');
    expect(mail.text).toContain('今回限り');
    const reminderToken = /\/confirm\/([A-Za-z0-9_-]+)/.exec(mail.text)![1];
    expect(reminderToken).toBe(firstToken);
    // Nothing the submitter typed goes out before the address is confirmed (§8).
    expect(mail.text).not.toContain('Jane');

    await sendDue(t);
    for (const hours of [1, 24, 72]) {
      t.clock.advance(hours * HOUR);
      expect(await remind(t)).toEqual({ queued: 0, blocked: 0 });
    }
    expect(await remindersTo(t, 'hana@example.jp')).toHaveLength(1);
    const confirmed = await confirmWith(t, reminderToken!);
    expect(await confirmed.json()).toEqual({ status: 'confirmed', campaign: slug });
  });

  it('never goes to a request confirmed, expired, erased or blocked', async () => {
    const { t, slug } = await setUp();
    for (const [i, email] of ['confirmed@example.org', 'erased@example.org', 'blocked@example.org'].entries()) {
      expect((await signFrom(t, slug, email, `203.0.113.${i + 1}`)).status).toBe(202);
    }
    const token = await latestConfirmToken(t, 'confirmed@example.org');
    await sendDue(t);
    expect((await confirmWith(t, token)).status).toBe(200);
    expect((await t.request('POST', '/api/v1/privacy/erasures', { body: { email: 'erased@example.org' } })).status).toBe(200);
    await block(t, 'email', 'blocked@example.org');

    t.clock.advance(AFTER);
    expect(await remind(t)).toEqual({ queued: 0, blocked: 1 });
    // A block lifted later does not bring the reminder back: the request was marked.
    const [entry] = ((await (await t.request('GET', '/api/v1/blocklist')).json()) as { items: { id: string }[] }).items;
    expect((await t.request('DELETE', `/api/v1/blocklist/${entry!.id}`)).status).toBe(204);
    expect(await remind(t)).toEqual({ queued: 0, blocked: 0 });

    // Expired: the link (7 days in the test app) would not work by the time the reminder came.
    expect((await signFrom(t, slug, 'late@example.org', '203.0.113.9')).status).toBe(202);
    await sendDue(t);
    t.clock.advance(7 * 24 * HOUR);
    expect(await sendReminders(t.ctx, { afterMs: 7 * 24 * HOUR })).toEqual({ queued: 0, blocked: 0 });
    expect((await t.database.db.select().from(outbox).where(eq(outbox.laneSource, 'reminder')))).toHaveLength(0);
  });

  it('is withdrawn when the request is confirmed while it waits to be sent', async () => {
    const { t, slug } = await setUp();
    expect((await signFrom(t, slug, 'quick@example.org', '203.0.113.1')).status).toBe(202);
    const token = await latestConfirmToken(t, 'quick@example.org');
    await sendDue(t);
    t.clock.advance(AFTER);
    expect(await remind(t)).toEqual({ queued: 1, blocked: 0 });
    expect((await confirmWith(t, token)).status).toBe(200);
    expect(await sendDue(t)).toEqual([]);
    const [reminder] = await remindersTo(t, 'quick@example.org');
    expect(reminder).toMatchObject({ status: 'failed', lastError: 'withdrawn' });
  });

  it('is not made for a campaign that closed', async () => {
    const { t, slug } = await setUp();
    expect((await signFrom(t, slug, 'closed@example.org', '203.0.113.1')).status).toBe(202);
    await sendDue(t);
    expect((await t.request('PATCH', `/api/v1/campaigns/${slug}`, { body: { status: 'closed' } })).status).toBe(200);
    t.clock.advance(AFTER);
    expect(await remind(t)).toEqual({ queued: 0, blocked: 0 });
  });
});

describe('the requests a run looks at', () => {
  it('are only those still waiting their turn: requests that can never be reminded are settled once', async () => {
    const { t, slug } = await setUp();
    const closing = await openCampaign(t, 'closing-campaign');
    expect((await signFrom(t, slug, 'twice@example.org', '203.0.113.1')).status).toBe(202);
    expect((await signFrom(t, slug, 'twice@example.org', '203.0.113.2')).status).toBe(202);
    expect((await signFrom(t, slug, 'signed@example.org', '203.0.113.3')).status).toBe(202);
    const older = await latestConfirmToken(t, 'signed@example.org');
    expect((await signFrom(t, slug, 'signed@example.org', '203.0.113.4')).status).toBe(202);
    expect((await signFrom(t, closing, 'closed@example.org', '203.0.113.5')).status).toBe(202);
    expect((await confirmWith(t, older)).status).toBe(200);
    expect((await t.request('PATCH', `/api/v1/campaigns/${closing}`, { body: { status: 'closed' } })).status).toBe(200);
    await sendDue(t);
    t.clock.advance(AFTER);
    expect(await remind(t)).toEqual({ queued: 1, blocked: 0 });
    const requests = await t.database.db
      .select({ email: signatureSubmissions.emailNormalized, confirmedAt: signatureSubmissions.confirmedAt, remindedAt: signatureSubmissions.remindedAt })
      .from(signatureSubmissions)
      .orderBy(sql`rowid`);
    expect(requests.map((r) => [r.email, r.confirmedAt === null ? 'unconfirmed' : 'confirmed', r.remindedAt])).toEqual([
      // The older of two requests: only the newest is reminded.
      ['twice@example.org', 'unconfirmed', 0],
      ['twice@example.org', 'unconfirmed', t.clock.now()],
      ['signed@example.org', 'confirmed', null],
      // Its address signed with the other link.
      ['signed@example.org', 'unconfirmed', 0],
      // Its campaign closed.
      ['closed@example.org', 'unconfirmed', 0],
    ]);
  });
});

describe('reminders cannot flood an inbox or lock a supporter out', () => {
  it('sends an address one reminder per campaign and at most one a day, however many requests were made for it', async () => {
    const { t, slug } = await setUp();
    const others = [await openCampaign(t, 'second-campaign'), await openCampaign(t, 'third-campaign')];
    // Someone asks for the victim's address 30 times over three campaigns, from 30 sources, spread over an hour.
    for (let i = 0; i < 30; i++) {
      expect((await signFrom(t, [slug, ...others][i % 3]!, 'victim@example.org', `198.51.100.${i + 1}`)).status).toBe(202);
      t.clock.advance(2 * 60_000);
      await sendDue(t);
    }
    // The lane mails them three an hour (CONFIRM_EMAIL_LIMIT), as it would without reminders.
    for (let hour = 0; hour < 12; hour++) {
      t.clock.advance(HOUR);
      await sendDue(t);
    }
    t.clock.advance(AFTER - 12 * HOUR);
    const perDay: number[] = [];
    for (let day = 0; day < 4; day++) {
      let queued = 0;
      for (let run = 0; run < 3; run++) queued += (await remind(t)).queued;
      await sendDue(t);
      perDay.push(queued);
      t.clock.advance(24 * HOUR);
    }
    expect(perDay).toEqual([1, 1, 1, 0]);
    const reminders = await remindersTo(t, 'victim@example.org');
    expect(new Set(reminders.map((row) => row.laneTopic)).size).toBe(3);
  });

  it('waits while the address\'s window is in use, and leaves the supporter\'s own request room in it', async () => {
    const { t, slug } = await setUp();
    expect((await signFrom(t, slug, 'busy@example.org', '203.0.113.1')).status).toBe(202);
    await sendDue(t);
    // 48 hours on, the address has just been sent another link (a privacy request): the window is in use.
    t.clock.advance(AFTER);
    expect((await t.request('POST', '/api/v1/privacy/requests', { token: null, body: { email: 'busy@example.org', kind: 'manage' } })).status).toBe(202);
    expect(await remind(t)).toEqual({ queued: 0, blocked: 0 });
    expect(await sendDue(t)).toEqual(['busy@example.org']);
    t.clock.advance(30 * 60_000);
    expect(await remind(t)).toEqual({ queued: 0, blocked: 0 });

    // Once the window is idle the reminder goes, and the supporter signing again at once still has room.
    t.clock.advance(31 * 60_000);
    expect(await remind(t)).toEqual({ queued: 1, blocked: 0 });
    expect((await signFrom(t, slug, 'busy@example.org', '203.0.113.77')).status).toBe(202);
    expect(await sendDue(t)).toEqual(['busy@example.org', 'busy@example.org']);
  });
});

describe('two runners at once', () => {
  it('send one reminder', async () => {
    const { t, slug } = await setUp();
    for (let i = 0; i < 20; i++) expect((await signFrom(t, slug, `s${i}@example.org`, `203.0.113.${i + 1}`)).status).toBe(202);
    await sendDue(t);
    t.clock.advance(AFTER);
    // A second process on the same database file.
    const other = new SqliteDatabase({ path: join(dirname(t.dataDir), 'signet.db'), migrationsFolder });
    closers.push(() => other.close());
    const results = await Promise.all([remind(t), sendReminders({ ...t.ctx, db: other }, { afterMs: AFTER }), remind(t)]);
    expect(results.reduce((sum, r) => sum + r.queued, 0)).toBe(20);
    const rows = await t.database.db.select().from(outbox).where(eq(outbox.laneSource, 'reminder'));
    expect(rows).toHaveLength(20);
    expect(new Set(rows.map((row) => row.recipient)).size).toBe(20);
    const marked = await t.database.db.select({ reminderId: signatureSubmissions.reminderId }).from(signatureSubmissions);
    expect(new Set(marked.map((row) => row.reminderId))).toEqual(new Set(rows.map((row) => row.id)));
  });
});

describe('a reminder over SMTP', () => {
  it('reaches a real SMTP server on 127.0.0.1, and its link confirms the signature', async () => {
    const { t, slug } = await setUp();
    const smtp = await startSmtpServer();
    closers.push(() => smtp.close());
    const transport = new SmtpTransport({ url: smtp.url });
    closers.push(() => transport.close());
    const sender = new OutboxSender({ database: t.database, transport, clock: t.clock, logger: silentLogger, from: 'Signet <no-reply@signet.test>', links: testLinks, confirmationLane: t.ctx.privacy });
    expect((await signFrom(t, slug, 'min@example.kr', '203.0.113.5', { locale: 'ko' })).status).toBe(202);
    expect((await sender.drainOnce()).sent).toBe(1);
    t.clock.advance(AFTER);
    expect(await remind(t)).toEqual({ queued: 1, blocked: 0 });
    expect((await sender.drainOnce()).sent).toBe(1);
    expect(smtp.received).toHaveLength(2);
    const raw = smtp.received[1]!.raw.replace(/=\r?\n/g, '');
    expect(smtp.received[1]!.rcptTo).toEqual(['min@example.kr']);
    expect(raw).toMatch(/^Subject: =\?UTF-8\?/im);
    const token = /\/confirm\/([A-Za-z0-9_-]+)/.exec(raw)![1]!;
    expect(await (await confirmWith(t, token)).json()).toEqual({ status: 'confirmed', campaign: slug });
  });
});

describe('REMINDER_AFTER_HOURS', () => {
  it('is 48 hours unless set; 0 or off turns reminders off; a wait the link does not outlive is refused, naming the setting', () => {
    expect(reminderAfterMs(loadSettings({}))).toBe(AFTER);
    expect(reminderAfterMs(loadSettings({ REMINDER_AFTER_HOURS: '12' }))).toBe(12 * HOUR);
    expect(reminderAfterMs(loadSettings({ REMINDER_AFTER_HOURS: '0' }))).toBeNull();
    expect(reminderAfterMs(loadSettings({ REMINDER_AFTER_HOURS: 'off' }))).toBeNull();
    // A link that lives 48 hours or less: no reminder unless asked for one it outlives.
    expect(reminderAfterMs(loadSettings({ CONFIRM_TOKEN_TTL_HOURS: '48' }))).toBeNull();
    expect(reminderAfterMs(loadSettings({ CONFIRM_TOKEN_TTL_HOURS: '48', REMINDER_AFTER_HOURS: '24' }))).toBe(24 * HOUR);
    expect(() => loadSettings({ REMINDER_AFTER_HOURS: 'soon' })).toThrow(/^Invalid setting REMINDER_AFTER_HOURS: must be a whole number of hours/);
    expect(() => loadSettings({ REMINDER_AFTER_HOURS: '168' })).toThrow(/^Invalid setting REMINDER_AFTER_HOURS: must be less than CONFIRM_TOKEN_TTL_HOURS/);
    const worker = { PUBLIC_URL: 'https://signet.example.org', SECRET_KEY: 'k'.repeat(40), SMTP_URL: 'smtp://127.0.0.1:2525' };
    expect(reminderAfterMs(loadWorkerSettings(worker))).toBe(AFTER);
    expect(() => loadWorkerSettings({ ...worker, REMINDER_AFTER_HOURS: '200' })).toThrow(/REMINDER_AFTER_HOURS: must be less than/);
  });
});
