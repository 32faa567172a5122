import { randomBytes } from 'node:crypto';
import { and, desc, eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { campaigns, outbox, signatures } from '../../../src/db/schema.js';
import { newId } from '../../../src/lib/ids.js';
import { renderStoredMessage } from '../../../src/mail/messages.js';
import type { createTestApp } from '../../helpers/app.js';
import { testLinks } from '../../helpers/keys.js';
import { latestConfirmToken, signature } from '../../helpers/signing.js';

type TestApp = ReturnType<typeof createTestApp>;

/** Signs a campaign through the API and confirms with the mailed token. */
export async function signAndConfirm(t: TestApp, slug: string, email: string, extra: Record<string, unknown> = {}) {
  // Emails of one millisecond have no order; a second apart, the newest is this one.
  t.clock.advance(1000);
  const signed = await t.request('POST', `/api/v1/campaigns/${slug}/signatures`, { body: signature(email, extra), token: null, headers: { 'x-forwarded-for': '203.0.113.7' } });
  expect(signed.status, await signed.clone().text()).toBe(202);
  const token = await latestConfirmToken(t, email);
  const confirmed = await t.request('POST', '/api/v1/signatures/confirm', { body: { token }, token: null });
  expect(confirmed.status, await confirmed.clone().text()).toBe(200);
  return token;
}

/**
 * A signature left `pending` by version 0.1, as it stands in an upgraded database: 0.1 wrote the
 * request's details on the signature itself, with the SHA-256 of the link it mailed. Signing no
 * longer writes such a row (a request waits in signature_submissions), so tests insert it.
 */
export async function insertLegacyPending(t: TestApp, slug: string, email: string, extra: Partial<typeof signatures.$inferInsert> = {}) {
  const [campaign] = await t.database.db.select({ id: campaigns.id }).from(campaigns).where(eq(campaigns.slug, slug));
  if (!campaign) throw new Error(`no campaign ${slug}`);
  const now = t.clock.now();
  const row: typeof signatures.$inferInsert = {
    id: newId(now),
    campaignId: campaign.id,
    name: 'Jane Doe',
    email,
    emailNormalized: email.trim().toLowerCase(),
    country: 'JP',
    region: 'JP-13',
    city: 'Tokyo',
    locale: 'en',
    status: 'pending',
    createdAt: now,
    ipHash: randomBytes(16).toString('hex'),
    confirmTokenHash: randomBytes(32).toString('hex'),
    confirmExpiresAt: now + 7 * 86_400_000,
    emailsSent: 1,
    ...extra,
  };
  await t.database.atomic([t.database.db.insert(signatures).values(row)]);
  return row;
}

/** The privacy emails queued to an address (as typed), newest first. */
export async function privacyMail(t: TestApp, recipient: string) {
  return t.database.db
    .select()
    .from(outbox)
    .where(and(eq(outbox.recipient, recipient), eq(outbox.kind, 'privacy')))
    .orderBy(desc(outbox.createdAt), desc(outbox.id));
}

/** The token of the newest privacy link mailed to an address, from the email as it is sent. */
export async function latestPrivacyToken(t: TestApp, recipient: string): Promise<string> {
  const [latest] = await privacyMail(t, recipient);
  if (!latest?.message) throw new Error(`no privacy email to ${recipient}`);
  const rendered = await renderStoredMessage(latest.message, latest.recipient, testLinks);
  const match = /http:\/\/localhost:3000\/privacy\/([A-Za-z0-9_-]{44})\?lang=/.exec(rendered.text);
  if (!match) throw new Error(`no privacy link in the email to ${recipient}`);
  return match[1]!;
}

/** Asks for a privacy link through the API. */
export function requestLink(t: TestApp, email: string, kind: 'export' | 'erase' | 'manage', extra: { locale?: string; ip?: string } = {}) {
  return t.request('POST', '/api/v1/privacy/requests', {
    body: { email, kind, ...(extra.locale ? { locale: extra.locale } : {}) },
    token: null,
    headers: { 'x-forwarded-for': extra.ip ?? '198.51.100.20' },
  });
}

/** A form post from this site (Origin set), as a browser sends it. */
export function postForm(t: TestApp, path: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return t.app.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

/** The hidden fields of the first form on a page (form token, language). */
export function hiddenFields(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) fields[match[1]!] = match[2]!;
  return fields;
}
