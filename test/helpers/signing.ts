import { desc, eq } from 'drizzle-orm';
import { outbox, signatures } from '../../src/db/schema.js';
import { renderStoredMessage } from '../../src/mail/messages.js';
import { outboxStore } from '../../src/outbox/outbox-store.js';
import type { createTestApp } from './app.js';
import { testLinks } from './keys.js';

type TestApp = ReturnType<typeof createTestApp>;

/** Creates and opens a campaign, returning its slug. */
export async function openCampaign(t: TestApp, slug = 'save-refugees', extra: Record<string, unknown> = {}) {
  const created = await t.request('POST', '/api/v1/campaigns', {
    body: { slug, title: 'Save North Korean refugees', locale: 'en', timeZone: 'Asia/Tokyo', ...extra },
  });
  if (created.status !== 201) throw new Error(`create failed: ${await created.text()}`);
  const opened = await t.request('PATCH', `/api/v1/campaigns/${slug}`, { body: { status: 'open' } });
  if (opened.status !== 200) throw new Error(`open failed: ${await opened.text()}`);
  return slug;
}

export function signature(email: string, extra: Record<string, unknown> = {}) {
  return { name: 'Jane Doe', email, country: 'JP', region: 'JP-13', city: 'Tokyo', ...extra };
}

/** The outbox messages queued for an address, newest first. */
export async function queuedMail(t: TestApp, recipient: string) {
  return t.database.db.select().from(outbox).where(eq(outbox.recipient, recipient)).orderBy(desc(outbox.createdAt), desc(outbox.id));
}

/** The confirmation token from the newest email to this address. */
export async function latestConfirmToken(t: TestApp, recipient: string): Promise<string> {
  const [latest] = await queuedMail(t, recipient);
  const match = /\/confirm\/([A-Za-z0-9_-]+)/.exec(latest?.message ? (await renderStoredMessage(latest.message, latest.recipient, testLinks)).text : '');
  if (!match) throw new Error(`no confirmation link mailed to ${recipient}`);
  return match[1]!;
}

/** Signs through the API and confirms through the mailed link, as a supporter would; returns the signature id. */
export async function signAndConfirm(t: TestApp, slug: string, body: Record<string, unknown> & { email: string }): Promise<string> {
  const signed = await t.request('POST', `/api/v1/campaigns/${slug}/signatures`, { token: null, body });
  if (signed.status !== 202) throw new Error(`sign failed: ${await signed.text()}`);
  const confirmed = await t.request('POST', '/api/v1/signatures/confirm', { token: null, body: { token: await latestConfirmToken(t, body.email) } });
  if (confirmed.status !== 200) throw new Error(`confirm failed: ${await confirmed.text()}`);
  const [row] = await t.database.db.select({ id: signatures.id }).from(signatures).where(eq(signatures.emailNormalized, body.email.trim().toLowerCase()));
  return row!.id;
}

/**
 * Sends (marks sent, without SMTP) what the outbox's claim allows now: the
 * confirmation lane under its limits (the app's privacy settings), then the
 * rest. Resolves the recipients, in claim order.
 */
export async function sendDue(t: TestApp): Promise<string[]> {
  const store = outboxStore({ db: t.database, clock: t.clock, privacy: t.ctx.privacy });
  const sent: string[] = [];
  for (;;) {
    const rows = await store.claim('test-sender', { limit: 500, leaseMs: 60_000 });
    if (rows.length === 0) return sent;
    await store.markSent('test-sender', rows.map((row) => row.id));
    sent.push(...rows.map((row) => row.recipient));
  }
}
