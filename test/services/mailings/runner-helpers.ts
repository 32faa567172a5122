import { and, asc, eq } from 'drizzle-orm';
import { expect } from 'vitest';
import type { Database } from '../../../src/db/database.js';
import { campaigns, mailings, outbox } from '../../../src/db/schema.js';
import { createLocalLetterPorts } from '../../../src/letters/node/letter-store.js';
import { newId } from '../../../src/lib/ids.js';
import { silentLogger } from '../../../src/lib/logger.js';
import type { MailTransport, OutgoingMail } from '../../../src/mail/transports/transport.js';
import { MailingRunner, type MailingRunnerOptions } from '../../../src/services/mailings/runner.js';
import { createTestApp, repoLettersDir } from '../../helpers/app.js';
import { openCampaign } from '../../helpers/signing.js';

export type TestApp = ReturnType<typeof createTestApp>;

export const SLUG = 'free-them-2027';
/** 2027-09-22T09:00 in Tokyo; the test clock starts on 2027-09-01. */
export const SEND_AT = Date.UTC(2027, 8, 22, 0, 0);
export const SEND_AT_LOCAL = '2027-09-22T09:00';

/** Supporters seeded beside the eligible ones, none of whom may get the update. */
export const INELIGIBLE = {
  noConsent: ['no-consent-1@example.org', 'no-consent-2@example.org', 'no-consent-3@example.org'],
  unsubscribed: 'unsubscribed@example.org',
  suppressed: 'Suppressed@Example.org',
  pending: 'pending@example.org',
  lateConfirmed: 'late@example.org',
};

export const eligibleEmail = (i: number) => `supporter-${String(i).padStart(5, '0')}@example.org`;

/**
 * An open campaign with `eligible` confirmed supporters who consented to
 * updates (inserted with SQL, for speed), and the INELIGIBLE ones: no
 * consent, unsubscribed, suppressed address, never confirmed, confirmed after
 * the send time. Returns the campaign id.
 */
export async function seedSupporters(t: TestApp, eligible: number): Promise<string> {
  await openCampaign(t, SLUG, { translations: { ja: { title: '難民を救おう' } } });
  const [campaign] = await t.database.db.select({ id: campaigns.id }).from(campaigns).where(eq(campaigns.slug, SLUG));
  const campaignId = campaign!.id;
  const base = t.clock.now();
  const insert = t.database.sqlite.prepare(
    `INSERT INTO signatures (id, campaign_id, name, email, email_normalized, country, locale, updates, status, created_at, confirmed_at, unsubscribed_at)
     VALUES (?, ?, ?, ?, ?, 'JP', ?, ?, ?, ?, ?, ?)`,
  );
  const add = (email: string, options: { updates?: boolean; status?: string; confirmedAt?: number | null; unsubscribedAt?: number | null; locale?: string } = {}) =>
    insert.run(
      newId(base),
      campaignId,
      `Supporter ${email.split('@')[0]}`,
      email,
      email.trim().toLowerCase(),
      options.locale ?? 'en',
      options.updates === false ? 0 : 1,
      options.status ?? 'confirmed',
      base,
      options.confirmedAt === undefined ? base : options.confirmedAt,
      options.unsubscribedAt ?? null,
    );
  t.database.sqlite.transaction(() => {
    for (let i = 0; i < eligible; i++) add(eligibleEmail(i), { locale: i % 4 === 0 ? 'ja' : 'en' });
    for (const email of INELIGIBLE.noConsent) add(email, { updates: false });
    add(INELIGIBLE.unsubscribed, { unsubscribedAt: base });
    add(INELIGIBLE.suppressed);
    add(INELIGIBLE.pending, { status: 'pending', confirmedAt: null });
    add(INELIGIBLE.lateConfirmed, { confirmedAt: SEND_AT + 60_000 });
    t.database.sqlite
      .prepare(`INSERT INTO email_suppressions (email_normalized, reason, created_at) VALUES (?, 'hard_bounce', ?)`)
      .run(INELIGIBLE.suppressed.toLowerCase(), base);
  })();
  return campaignId;
}

/** Schedules an update for SEND_AT_LOCAL in Tokyo through the API. */
export async function scheduleUpdate(t: TestApp, extra: Record<string, unknown> = {}): Promise<{ id: string }> {
  const res = await t.request('POST', '/api/v1/mailings', {
    body: {
      campaign: SLUG,
      kind: 'update',
      sendAt: SEND_AT_LOCAL,
      timeZone: 'Asia/Tokyo',
      subject: 'The letters are on their way',
      body: '# Thank you\n\nWe delivered your signatures today.',
      ...extra,
    },
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { id: string };
}

export function createRunner(t: TestApp, options: Partial<MailingRunnerOptions> = {}): MailingRunner {
  return new MailingRunner({
    ctx: t.ctx,
    letters: createLocalLetterPorts({ lettersDir: repoLettersDir, dataDir: t.dataDir }),
    workerId: 'runner-a',
    leaseMs: 60_000,
    batchSize: 250,
    logger: silentLogger,
    ...options,
  });
}

export async function readMailing(t: TestApp, id: string) {
  const [row] = await t.database.db.select().from(mailings).where(eq(mailings.id, id));
  return row!;
}

/** The mailing's outbox rows in queue order (recipient key = signature or delivery id). */
export function mailingRows(t: TestApp, mailingId: string) {
  return t.database.db.select().from(outbox).where(eq(outbox.mailingId, mailingId)).orderBy(asc(outbox.recipientKey));
}

export function pendingRows(t: TestApp, mailingId: string) {
  return t.database.db
    .select()
    .from(outbox)
    .where(and(eq(outbox.mailingId, mailingId), eq(outbox.status, 'pending')))
    .orderBy(asc(outbox.recipientKey));
}

/** A transport that keeps what it was given. */
export function recordingTransport(): MailTransport & { sent: OutgoingMail[] } {
  const sent: OutgoingMail[] = [];
  return {
    sent,
    async send(message) {
      sent.push(message);
    },
    async close() {},
  };
}

/**
 * A database whose writes stop after `passing` atomic steps, as if the
 * process died there: the stalled write is held, not lost, and `resume()`
 * lets it through later (a process that wakes up after its lease ran out).
 */
export function stallingDatabase(real: Database, passing: number): { database: Database; stalled: () => boolean; resume: () => void } {
  let calls = 0;
  let waiting = false;
  let resume!: () => void;
  const gate = new Promise<void>((resolve) => (resume = resolve));
  const database: Database = {
    db: real.db,
    statement: (query) => real.statement(query),
    writeReturning: (query) => real.writeReturning(query),
    close: () => real.close(),
    async atomic(statements) {
      if (++calls > passing) {
        waiting = true;
        await gate;
      }
      return real.atomic(statements);
    },
  };
  return { database, stalled: () => waiting, resume };
}
