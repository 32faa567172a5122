import { and, desc, eq, lt, or, sql } from 'drizzle-orm';
import * as v from 'valibot';
import { campaigns, signatureCountDeltas, signatures, type StoredOutboxMessage } from '../db/schema.js';
import { startsWithEastAsianLetter, toInitials } from '../letters/signatory-names.js';
import { newId } from '../lib/ids.js';
import { randomToken, sha256Hex } from '../lib/secrets.js';
import { type ConfirmationEmailInput, newMessageId } from '../mail/messages.js';
import { findCampaignForSigning } from './campaigns.js';
import type { ServiceContext } from './context.js';
import { Conflict, NotFound, RateLimited, ServiceError } from './errors.js';
import { decodeCursor, type PageQuery, toPage } from './pagination.js';
import type { RateLimiter } from './rate-limiter.js';
import { CountryCode, isoOrNull, Locale, MultiLine, SingleLine } from './schemas.js';

/** Confirmation emails per signature, however often the same email signs again. */
export const MAX_CONFIRMATION_EMAILS = 5;

const Email = v.pipe(
  v.string(),
  v.trim(),
  v.maxLength(254, 'must be at most 254 characters'),
  v.email('must be an email address'),
);

export const SignInput = v.strictObject({
  name: v.pipe(SingleLine(200), v.minLength(1, 'must not be empty')),
  email: Email,
  country: CountryCode,
  region: v.optional(SingleLine(100)),
  city: v.optional(SingleLine(100)),
  postalCode: v.optional(SingleLine(20)),
  comment: v.optional(MultiLine(1000)),
  locale: v.optional(Locale),
  consent: v.optional(
    v.strictObject({
      nameOnLetter: v.optional(v.picklist(['full', 'initials', 'none']), 'none'),
      showPublicly: v.optional(v.boolean(), false),
      updates: v.optional(v.boolean(), false),
    }),
    {},
  ),
  source: v.optional(
    v.strictObject({
      referrer: v.optional(SingleLine(500)),
      utm_source: v.optional(SingleLine(100)),
      utm_medium: v.optional(SingleLine(100)),
      utm_campaign: v.optional(SingleLine(100)),
    }),
  ),
});
export type SignInput = v.InferOutput<typeof SignInput>;

export const ConfirmInput = v.strictObject({
  token: v.pipe(v.string(), v.minLength(16), v.maxLength(128), v.regex(/^[A-Za-z0-9_-]+$/, 'is not a confirmation token')),
});

export const signatureStatuses = ['pending', 'confirmed', 'invalidated', 'fraudulent'] as const;

export const SignatureListQuery = v.object({
  status: v.optional(v.picklist(signatureStatuses)),
});

/** How a sign request is limited: per keyed IP hash and campaign. */
export type SignLimits = {
  rateLimiter: RateLimiter;
  rateLimit: { limit: number; windowMs: number } | null;
};

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Columns a repeat signature may overwrite, but only while the signature is still pending. */
const replaceableWhilePending = [
  'name',
  'email',
  'country',
  'region',
  'city',
  'postal_code',
  'comment',
  'locale',
  'name_on_letter',
  'show_publicly',
  'updates',
  'ip_hash',
  'source',
];

/** A fresh confirmation email goes out while the cap allows and the signature is live. */
const mayEmail = `"signatures"."emails_sent" < ${MAX_CONFIRMATION_EMAILS} AND "signatures"."status" IN ('pending', 'confirmed')`;

// The sign path is the hottest write there is, so its SQL is written once
// here rather than built by drizzle on every request (which cost more than
// running it). Column names follow src/db/schema.ts; the API tests cover it.
const insertedColumns = [
  'id', 'campaign_id', 'email_normalized', 'created_at', 'confirm_token_hash', 'confirm_expires_at',
  ...replaceableWhilePending,
];
const UPSERT_SIGNATURE_SQL = `INSERT INTO "signatures" (${insertedColumns.map((c) => `"${c}"`).join(', ')}, "status", "emails_sent")
VALUES (${insertedColumns.map(() => '?').join(', ')}, 'pending', 1)
ON CONFLICT ("campaign_id", "email_normalized") DO UPDATE SET
${replaceableWhilePending.map((c) => `  "${c}" = CASE WHEN "signatures"."status" = 'pending' THEN excluded."${c}" ELSE "signatures"."${c}" END`).join(',\n')},
  "confirm_token_hash" = CASE WHEN ${mayEmail} THEN excluded."confirm_token_hash" ELSE "signatures"."confirm_token_hash" END,
  "confirm_expires_at" = CASE WHEN ${mayEmail} THEN excluded."confirm_expires_at" ELSE "signatures"."confirm_expires_at" END,
  "emails_sent" = CASE WHEN ${mayEmail} THEN "signatures"."emails_sent" + 1 ELSE "signatures"."emails_sent" END`;

// The email is queued only if this request's token was stored, i.e. the cap was not reached.
const QUEUE_CONFIRMATION_SQL = `INSERT INTO "outbox" ("id", "kind", "recipient", "message_id", "message", "status", "attempts", "next_attempt_at", "created_at")
SELECT ?, 'confirmation', ?, ?, ?, 'pending', 0, ?, ?
WHERE EXISTS (SELECT 1 FROM "signatures" WHERE "campaign_id" = ? AND "email_normalized" = ? AND "confirm_token_hash" = ?)`;

/**
 * Records a signature as pending and queues its confirmation email, in one
 * atomic write. A repeat with the same email is indistinguishable from a
 * first signature to the caller: same result, a fresh confirmation email
 * (up to MAX_CONFIRMATION_EMAILS per signature), details replaced while pending.
 */
export async function signCampaign(
  ctx: ServiceContext,
  limits: SignLimits,
  slug: string,
  input: SignInput,
  request: { ipHash: string | null },
): Promise<{ status: 'pending' }> {
  const campaign = await findCampaignForSigning(ctx, slug);
  if (!campaign) throw new NotFound('Campaign');
  const now = ctx.clock.now();
  const withinWindow = (campaign.opensAt === null || now >= campaign.opensAt) && (campaign.closesAt === null || now < campaign.closesAt);
  if (campaign.status !== 'open' || !withinWindow) {
    throw new Conflict('CAMPAIGN_NOT_OPEN', 'This campaign is not accepting signatures.');
  }
  if (limits.rateLimit && request.ipHash !== null) {
    const verdict = limits.rateLimiter.hit(`sign:${campaign.id}:${request.ipHash}`, limits.rateLimit.limit, limits.rateLimit.windowMs, now);
    if (!verdict.allowed) throw new RateLimited(Math.max(1, Math.ceil(verdict.retryAfterMs / 1000)));
  }

  const locale = input.locale ?? campaign.locale;
  const token = randomToken(24);
  const tokenHash = await sha256Hex(token);
  const expiresAt = now + ctx.confirmTokenTtlMs;
  const emailNormalized = normalizeEmail(input.email);
  const outboxId = newId(now);
  const campaignTitle = campaign.translations[locale]?.title ?? campaign.title;
  const confirmation: ConfirmationEmailInput = {
    locale,
    supporterName: input.name,
    email: input.email,
    campaignTitle,
    // The page behind the link speaks the language the supporter signed in.
    confirmUrl: `${ctx.publicUrl}/confirm/${token}?lang=${locale}`,
    expiresAt,
    timeZone: campaign.timeZone,
  };
  const message: StoredOutboxMessage = { compose: 'confirmation', input: confirmation };

  const signatureId = newId(now);
  const pendingValues: Record<string, string | number | null> = {
    name: input.name,
    email: input.email,
    country: input.country,
    region: input.region ?? null,
    city: input.city ?? null,
    postal_code: input.postalCode ?? null,
    comment: input.comment ?? null,
    locale,
    name_on_letter: input.consent.nameOnLetter,
    show_publicly: input.consent.showPublicly ? 1 : 0,
    updates: input.consent.updates ? 1 : 0,
    ip_hash: request.ipHash,
    source: input.source ? JSON.stringify(input.source) : null,
  };
  const upsert = ctx.db.statement({
    sql: UPSERT_SIGNATURE_SQL,
    params: [signatureId, campaign.id, emailNormalized, now, tokenHash, expiresAt, ...replaceableWhilePending.map((c) => pendingValues[c] ?? null)],
  });
  const queueEmail = ctx.db.statement({
    sql: QUEUE_CONFIRMATION_SQL,
    params: [outboxId, input.email, newMessageId(ctx.mailFrom, outboxId), JSON.stringify(message), now, now, campaign.id, emailNormalized, tokenHash],
  });

  await ctx.db.atomic([upsert, queueEmail]);
  return { status: 'pending' };
}

export class TokenExpired extends ServiceError {
  constructor(readonly campaign: string) {
    super('TOKEN_EXPIRED', 'This confirmation link has expired. Sign again to receive a new one.', { campaign });
  }
}

/**
 * Confirms the signature that holds this token. Repeating it is harmless.
 * The count changes through a delta row written in the same transaction,
 * and only when this call is the one that moved the status (changes() = 1).
 */
export async function confirmSignature(ctx: ServiceContext, token: string): Promise<{ status: 'confirmed'; campaign: string }> {
  const tokenHash = await sha256Hex(token);
  const [found] = await ctx.db.db
    .select({ id: signatures.id, status: signatures.status, campaignId: signatures.campaignId, expiresAt: signatures.confirmExpiresAt, slug: campaigns.slug })
    .from(signatures)
    .innerJoin(campaigns, eq(campaigns.id, signatures.campaignId))
    .where(eq(signatures.confirmTokenHash, tokenHash));
  if (!found || found.status === 'invalidated' || found.status === 'fraudulent') throw new NotFound('Confirmation token');
  if (found.status === 'confirmed') return { status: 'confirmed', campaign: found.slug };
  const now = ctx.clock.now();
  if (found.expiresAt !== null && found.expiresAt < now) throw new TokenExpired(found.slug);

  await ctx.db.atomic([
    ctx.db.db
      .update(signatures)
      .set({ status: 'confirmed', confirmedAt: now })
      .where(and(eq(signatures.id, found.id), eq(signatures.status, 'pending'))),
    ctx.db.statement(sql`INSERT INTO ${signatureCountDeltas} ("campaign_id", "delta") SELECT ${found.campaignId}, 1 WHERE changes() = 1`),
  ]);
  return { status: 'confirmed', campaign: found.slug };
}

/**
 * Folds the count deltas into campaigns.signature_count. Safe to run from
 * several processes at once: each fold sums and deletes the same rows inside
 * one transaction, so a second fold of the same rows adds nothing.
 */
export async function foldSignatureCounts(ctx: ServiceContext): Promise<number> {
  const [latest] = await ctx.db.db.select({ maxId: sql<number | null>`max(${signatureCountDeltas.id})` }).from(signatureCountDeltas);
  const maxId = latest?.maxId;
  if (maxId === null || maxId === undefined) return 0;
  await ctx.db.atomic([
    ctx.db.statement(sql`
      UPDATE ${campaigns} SET "signature_count" = "signature_count" + (
        SELECT coalesce(sum("delta"), 0) FROM ${signatureCountDeltas} d WHERE d."campaign_id" = ${campaigns}."id" AND d."id" <= ${maxId}
      )
      WHERE "id" IN (SELECT "campaign_id" FROM ${signatureCountDeltas} WHERE "id" <= ${maxId})`),
    ctx.db.db.delete(signatureCountDeltas).where(sql`${signatureCountDeltas.id} <= ${maxId}`),
  ]);
  return maxId;
}

async function campaignIdBySlug(ctx: ServiceContext, slug: string): Promise<{ id: string; timeZone: string }> {
  const [row] = await ctx.db.db.select({ id: campaigns.id, timeZone: campaigns.timeZone }).from(campaigns).where(eq(campaigns.slug, slug));
  if (!row) throw new NotFound('Campaign');
  return row;
}

type SignatureRow = typeof signatures.$inferSelect;

function toOrganiserView(row: SignatureRow) {
  return {
    id: row.id,
    status: row.status,
    name: row.name,
    email: row.email,
    country: row.country,
    region: row.region,
    city: row.city,
    postalCode: row.postalCode,
    comment: row.comment,
    locale: row.locale,
    consent: { nameOnLetter: row.nameOnLetter, showPublicly: row.showPublicly, updates: row.updates },
    source: row.source,
    ipHash: row.ipHash,
    createdAt: new Date(row.createdAt).toISOString(),
    confirmedAt: isoOrNull(row.confirmedAt),
    unsubscribedAt: isoOrNull(row.unsubscribedAt),
  };
}
export type SignatureView = ReturnType<typeof toOrganiserView>;

/** Every field of a campaign's signatures, newest first, for organisers. */
export async function listSignatures(ctx: ServiceContext, slug: string, query: PageQuery & { status?: SignatureRow['status'] | undefined }) {
  const campaign = await campaignIdBySlug(ctx, slug);
  const after = decodeCursor(query.cursor);
  const rows = await ctx.db.db
    .select()
    .from(signatures)
    .where(
      and(
        eq(signatures.campaignId, campaign.id),
        query.status ? eq(signatures.status, query.status) : undefined,
        after ? or(lt(signatures.createdAt, after.createdAt), and(eq(signatures.createdAt, after.createdAt), lt(signatures.id, after.id))) : undefined,
      ),
    )
    .orderBy(desc(signatures.createdAt), desc(signatures.id))
    .limit(query.limit + 1);
  return toPage(rows, query.limit, toOrganiserView);
}

/** Pages through all signatures of a campaign (for exports), newest first. */
export async function* iterateSignatures(ctx: ServiceContext, slug: string, status?: SignatureRow['status']) {
  let cursor: string | undefined;
  do {
    const page = await listSignatures(ctx, slug, { limit: 500, cursor, status });
    yield* page.items;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}

/**
 * The name on the public list: "Jane Doe" → "Jane D."; a Han, kana or Hangul
 * name → its first character and a dot, with or without spaces ("山田 花子" →
 * "山."), since its first word is the family name and showing it whole would
 * say more than the list promises.
 */
export function publicDisplayName(name: string): string {
  if (startsWithEastAsianLetter(name)) return toInitials(name);
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const first = parts[0] ?? '';
  if (parts.length >= 2) return `${first} ${Array.from(parts[parts.length - 1]!)[0]}.`;
  return `${Array.from(first)[0] ?? ''}.`;
}

/** Recent confirmed signatures whose signers chose to be shown: display name and country only. */
export async function listPublicSignatures(ctx: ServiceContext, slug: string, limit: number) {
  const [campaign] = await ctx.db.db.select({ id: campaigns.id, status: campaigns.status }).from(campaigns).where(eq(campaigns.slug, slug));
  if (!campaign || (campaign.status !== 'open' && campaign.status !== 'closed')) throw new NotFound('Campaign');
  const rows = await ctx.db.db
    .select({ name: signatures.name, country: signatures.country, confirmedAt: signatures.confirmedAt })
    .from(signatures)
    .where(and(eq(signatures.campaignId, campaign.id), eq(signatures.status, 'confirmed'), eq(signatures.showPublicly, true)))
    .orderBy(desc(signatures.confirmedAt))
    .limit(limit);
  return { items: rows.map((r) => ({ name: publicDisplayName(r.name), country: r.country, signedAt: isoOrNull(r.confirmedAt) })) };
}

const BUCKET_MS = 15 * 60 * 1000;

/**
 * Counts by status, by country and region (confirmed only), and confirmed
 * per day in the campaign's time zone. SQL groups by 15-minute buckets so
 * zones with :30 and :45 offsets still fall on the right local day.
 */
export async function campaignStats(ctx: ServiceContext, slug: string) {
  const campaign = await campaignIdBySlug(ctx, slug);
  const confirmedHere = and(eq(signatures.campaignId, campaign.id), eq(signatures.status, 'confirmed'));
  const [byStatusRows, byCountryRows, byRegionRows, bucketRows] = await Promise.all([
    ctx.db.db
      .select({ status: signatures.status, count: sql<number>`count(*)` })
      .from(signatures)
      .where(eq(signatures.campaignId, campaign.id))
      .groupBy(signatures.status),
    ctx.db.db
      .select({ country: signatures.country, count: sql<number>`count(*)` })
      .from(signatures)
      .where(confirmedHere)
      .groupBy(signatures.country)
      .orderBy(desc(sql`count(*)`)),
    ctx.db.db
      .select({ country: signatures.country, region: signatures.region, count: sql<number>`count(*)` })
      .from(signatures)
      .where(confirmedHere)
      .groupBy(signatures.country, signatures.region)
      .orderBy(desc(sql`count(*)`)),
    ctx.db.db
      .select({ bucket: sql<number>`${signatures.confirmedAt} / ${BUCKET_MS}`, count: sql<number>`count(*)` })
      .from(signatures)
      .where(confirmedHere)
      .groupBy(sql`1`)
      .orderBy(sql`1`),
  ]);
  const dayOf = new Intl.DateTimeFormat('en-CA', { timeZone: campaign.timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  const perDay = new Map<string, number>();
  for (const row of bucketRows) {
    const day = dayOf.format(new Date(Number(row.bucket) * BUCKET_MS));
    perDay.set(day, (perDay.get(day) ?? 0) + Number(row.count));
  }
  let cumulative = 0;
  const byDay = [...perDay].map(([date, confirmed]) => ({ date, confirmed, cumulative: (cumulative += confirmed) }));
  const byStatus = Object.fromEntries(signatureStatuses.map((s) => [s, 0])) as Record<(typeof signatureStatuses)[number], number>;
  for (const row of byStatusRows) byStatus[row.status] = Number(row.count);
  return {
    timeZone: campaign.timeZone,
    byStatus,
    byDay,
    byCountry: byCountryRows.map((r) => ({ country: r.country, count: Number(r.count) })),
    byRegion: byRegionRows.map((r) => ({ country: r.country, region: r.region, count: Number(r.count) })),
  };
}
