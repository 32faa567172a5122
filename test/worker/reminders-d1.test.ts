import { readFileSync } from 'node:fs';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudflareD1Database } from '../../src/db/d1.js';
import { migrationsFolder } from '../../src/entry/node.js';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/logger.js';
import { renderStoredMessage } from '../../src/mail/messages.js';
import { outboxStore } from '../../src/outbox/outbox-store.js';
import { organisationAccess } from '../../src/services/access.js';
import { createCampaign, updateCampaign } from '../../src/services/campaigns.js';
import type { ServiceContext } from '../../src/services/context.js';
import { nextStepOffer } from '../../src/services/next-step.js';
import { MemoryRateLimiter } from '../../src/services/rate-limiter.js';
import { sendReminders } from '../../src/services/reminders.js';
import { campaignStats, confirmSignature, signCampaign } from '../../src/services/signatures.js';
import { testKeys, testLinks } from '../helpers/keys.js';

/**
 * The reminders, the confirmation rate and the next step on Cloudflare D1
 * (Miniflare's D1, workerd's SQLite, migrated from migrations/ as `wrangler
 * d1 migrations apply` does), through the same service verbs the Worker's
 * cron and pages call: every statement runs there as on better-sqlite3, and
 * two runners at once (two connections to the one database) send one reminder.
 */

const HOUR = 3_600_000;
let miniflare: Miniflare;
let d1: unknown;

beforeAll(async () => {
  miniflare = new Miniflare({ modules: true, script: 'export default { fetch() { return new Response(null, { status: 404 }) } }', d1Databases: ['DB'] });
  const database = await miniflare.getD1Database('DB');
  const journal = JSON.parse(readFileSync(`${migrationsFolder}/meta/_journal.json`, 'utf8')) as { entries: { tag: string }[] };
  for (const { tag } of journal.entries) {
    for (const statement of readFileSync(`${migrationsFolder}/${tag}.sql`, 'utf8').split('--> statement-breakpoint')) if (statement.trim()) await database.prepare(statement).run();
  }
  d1 = database;
}, 60_000);

afterAll(async () => {
  await miniflare?.dispose();
});

function contextOn(clock: ManualClock): ServiceContext {
  return {
    db: new CloudflareD1Database(d1 as never),
    clock,
    logger: silentLogger,
    publicUrl: 'http://localhost:3000',
    mailFrom: 'Signet <no-reply@signet.test>',
    confirmTokenTtlMs: 7 * 24 * HOUR,
    keys: testKeys,
    privacy: { retentionDays: 365, pendingTtlDays: 30, publicRegionMin: 5, emailsPerAddress: { limit: 3, windowMs: HOUR }, auditRetentionDays: 730 },
    access: organisationAccess,
  };
}

describe('reminders on D1', () => {
  it('two runners at once queue one reminder per request, in the supporter\'s language; a confirmation withdraws a waiting one; the rate and the next step read back', async () => {
    const clock = new ManualClock(Date.UTC(2027, 8, 1));
    const ctx = contextOn(clock);
    const other = contextOn(clock);
    await createCampaign(ctx, { slug: 'on-d1', title: 'On D1', locale: 'en', timeZone: 'Asia/Tokyo' });
    await updateCampaign(ctx, 'on-d1', { status: 'open' });
    await createCampaign(ctx, { slug: 'next-on-d1', title: 'Next', locale: 'en', translations: { ja: { title: '次の署名' } } });
    await updateCampaign(ctx, 'next-on-d1', { status: 'open' });
    const limits = { rateLimiter: new MemoryRateLimiter(), rateLimit: null };
    for (let i = 0; i < 12; i++) {
      await signCampaign(ctx, limits, 'on-d1', { name: 'Jane Doe', email: `s${i}@example.org`, country: 'JP', locale: i % 2 ? 'ja' : 'en', consent: { nameOnLetter: 'none', showPublicly: false, updates: false, partner: false } }, { clientIp: `203.0.113.${i + 1}` });
    }
    const store = outboxStore(ctx);
    const firstEmails = await store.claim('sender', { limit: 100, leaseMs: 60_000 });
    expect(firstEmails).toHaveLength(12);
    const firstLinks = new Map<string, string>();
    for (const row of firstEmails) firstLinks.set(row.recipient, (await renderStoredMessage(row.message!, row.recipient, testLinks)).text);
    await store.markSent('sender', firstEmails.map((row) => row.id));

    clock.advance(48 * HOUR);
    const runs = await Promise.all([sendReminders(ctx, { afterMs: 48 * HOUR }), sendReminders(other, { afterMs: 48 * HOUR })]);
    expect(runs[0]!.queued + runs[1]!.queued).toBe(12);
    expect(await sendReminders(ctx, { afterMs: 48 * HOUR })).toEqual({ queued: 0, blocked: 0 });

    // s0 confirms with the first email's link while the reminders wait: its reminder is withdrawn.
    const token = /\/confirm\/([A-Za-z0-9_-]+)/.exec(firstLinks.get('s0@example.org')!)![1]!;
    expect(await confirmSignature(ctx, token)).toEqual({ status: 'confirmed', campaign: 'on-d1' });
    const reminders = await store.claim('sender', { limit: 100, leaseMs: 60_000 });
    expect(reminders.map((row) => row.recipient).sort()).toEqual(Array.from({ length: 11 }, (_, i) => `s${i + 1}@example.org`).sort());
    const japanese = reminders.find((row) => row.recipient === 's1@example.org')!;
    const mail = await renderStoredMessage(japanese.message!, japanese.recipient, testLinks);
    expect(mail.subject).toBe('【再度のお願い】署名のご確認：On D1');
    expect(/\/confirm\/[A-Za-z0-9_-]+/.exec(mail.text)![0]).toBe(/\/confirm\/[A-Za-z0-9_-]+/.exec(firstLinks.get('s1@example.org')!)![0]);

    const stats = await campaignStats(ctx, 'on-d1');
    expect(stats.confirmationRate.byDay).toEqual([{ date: '2027-09-01', requested: 12, confirmed: 1, rate: 0.083 }]);

    await updateCampaign(ctx, 'on-d1', { nextStep: { ja: { donation: { url: 'https://example.org/donate', label: '寄付' }, campaign: 'next-on-d1', sharing: true } } });
    expect(await nextStepOffer(ctx, 'on-d1', 'ja')).toEqual({
      donation: { url: 'https://example.org/donate', label: '寄付' },
      campaign: { slug: 'next-on-d1', title: '次の署名' },
      sharing: true,
      changesAt: Infinity,
    });
    await expect(updateCampaign(ctx, 'on-d1', { nextStep: { en: { donation: null, campaign: 'missing', sharing: true } } })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: [{ path: 'nextStep.en.campaign', message: 'no open campaign has the slug missing' }],
    });
  });
});
