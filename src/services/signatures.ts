import { and, desc, eq, gte, inArray, isNotNull, isNull, lt, or, sql } from 'drizzle-orm';
import * as v from 'valibot';
import { campaignPartners, campaigns, fraudulentRequests, signatureCountDeltas, signatures, signatureSubmissions, type StoredOutboxMessage } from '../db/schema.js';
import { startsWithEastAsianLetter } from '../letters/template/signatory-names.js';
import { newId } from '../lib/ids.js';
import { isRegionCode, isRegionOf } from '../lib/regions.js';
import { clientKey } from '../lib/ip.js';
import { newNonce, utcDay } from '../lib/keyring.js';
import { sha256Hex } from '../lib/secrets.js';
import { type ConfirmationEmailInput, newMessageId } from '../mail/messages.js';
import { outboxStore } from '../outbox/outbox-store.js';
import { loadBlocklist } from './blocklist.js';
import { findCampaignForSigning } from './campaigns.js';
import { assertCampaignAccess } from './access.js';
import { findSigningPartner } from './partners.js';
import type { ServiceContext } from './context.js';
import { Conflict, NotFound, RateLimited, ServiceError } from '../lib/service-errors.js';
import { afterCursor, decodeCursor, type PageQuery, toPage } from './pagination.js';
import type { RateLimiter } from './rate-limiter.js';
import { CountryCode, isoOrNull, Locale, MultiLine, SingleLine } from './schemas.js';
import { webhookEventWrites } from './webhooks.js';

const Email = v.pipe(
  v.string(),
  v.trim(),
  v.maxLength(254, 'must be at most 254 characters'),
  v.email('must be an email address'),
);

const RegionCode = v.pipe(v.string(), v.trim(), v.toUpperCase(), v.check(isRegionCode, 'must be an ISO 3166-2 region code, e.g. JP-13'));

// Valibot runs an object's checks even after a field failed a check of its own (the value is still
// typed), so this one judges only a known region with a well-formed country: one fault, one message.
const regionOfCountry = ({ country, region }: { country: string; region?: string | undefined }) =>
  region === undefined || !isRegionCode(region) || !/^[A-Z]{2}$/.test(country) || isRegionOf(region, country);

// A region is one of the fixed ISO 3166-2 codes, and of the signer's country, so that region
// totals in letters never carry free text (PRODUCT.md §8).
export const SignInput = v.pipe(v.strictObject({
  name: v.pipe(SingleLine(200), v.minLength(1, 'must not be empty')),
  email: Email,
  country: CountryCode,
  region: v.optional(RegionCode),
  city: v.optional(SingleLine(100)),
  postalCode: v.optional(SingleLine(20)),
  comment: v.optional(MultiLine(1000)),
  locale: v.optional(Locale),
  consent: v.optional(
    v.strictObject({
      nameOnLetter: v.optional(v.picklist(['full', 'initials', 'none']), 'none'),
      showPublicly: v.optional(v.boolean(), false),
      updates: v.optional(v.boolean(), false),
      /** The box of the partner named by `ref`, where it has one (PRODUCT.md §13); ignored otherwise. */
      partner: v.optional(v.boolean(), false),
    }),
    {},
  ),
  /** A coalition partner's code, as in `?ref=` on its links: attributes the signature to it. An unknown code is ignored. */
  ref: v.optional(v.pipe(v.string(), v.maxLength(100))),
  source: v.optional(
    v.strictObject({
      referrer: v.optional(SingleLine(500)),
      utm_source: v.optional(SingleLine(100)),
      utm_medium: v.optional(SingleLine(100)),
      utm_campaign: v.optional(SingleLine(100)),
    }),
  ),
}),
  v.forward(
    v.partialCheck([['country'], ['region']], regionOfCountry, 'must be a region (ISO 3166-2 code) of the given country'),
    ['region'],
  ),
);
export type SignInput = v.InferOutput<typeof SignInput>;

export const ConfirmInput = v.strictObject({
  token: v.pipe(v.string(), v.minLength(16), v.maxLength(128), v.regex(/^[A-Za-z0-9_-]+$/, 'is not a confirmation token')),
});

/** What organisers list and count: signatures by status, and the requests still `pending` or kept as `fraudulent`. */
export const signatureStatuses = ['pending', 'confirmed', 'invalidated', 'fraudulent', 'erased'] as const;
export type SignatureListStatus = (typeof signatureStatuses)[number];

export const SignatureListQuery = v.object({
  status: v.optional(v.picklist(signatureStatuses)),
});

/**
 * How a sign request is limited: per keyed IP hash (an IPv6 client's /64) and
 * campaign. The confirmation emails' limits (per address, per minute) pace
 * the sender, never the request (src/outbox/confirmation-lane.ts).
 */
export type SignLimits = {
  rateLimiter: RateLimiter;
  rateLimit: { limit: number; windowMs: number } | null;
};

/** The confirmation lane's source for a request without a client address (they share one turn). */
export const UNKNOWN_SOURCE = '-';

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** The columns a submission carries, in the order of the SQL below (names as in src/db/schema.ts). */
const submittedColumns = [
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
  'partner_id',
  'partner_opt_in',
] as const;
type SubmittedValues = Record<(typeof submittedColumns)[number], string | number | null>;

const columnList = (columns: readonly string[]) => columns.map((c) => `"${c}"`).join(', ');
const placeholders = (count: number) => Array(count).fill('?').join(', ');

// The sign path is the hottest write there is, so its SQL is written once
// here rather than built by drizzle on every request (which cost more than
// running it). The API tests cover it.

/**
 * Holds the submission, unless an organiser invalidated its signature here.
 * However many requests an address had, each is held: the per-address
 * window and the global rate decide when its email goes
 * (src/outbox/confirmation-lane.ts), never whether it exists. Parameters:
 * the submission row, then the campaign and address.
 */
const HOLD_SUBMISSION_SQL = `INSERT INTO "signature_submissions"
  ("id", "campaign_id", "email_normalized", "created_at", "expires_at", ${columnList(submittedColumns)})
SELECT ${placeholders(5 + submittedColumns.length)}
WHERE NOT EXISTS (SELECT 1 FROM "signatures" WHERE "campaign_id" = ? AND "email_normalized" = ? AND "status" = 'invalidated')`;

/**
 * A blocked request is kept as a fraudulent request, with what was submitted,
 * its IP hash and the kind of entry it matched, for organisers to review: no
 * submission, no email, no count, and nothing of it touches the address's
 * signature or a later request for it (the mark is the request's, never the
 * address's). Parameters: id, campaign, address, time, entry kind, then the
 * submitted values.
 */
const RECORD_FRAUDULENT_SQL = `INSERT INTO "fraudulent_requests" ("id", "campaign_id", "email_normalized", "created_at", "blocked_by", ${columnList(submittedColumns)})
VALUES (${placeholders(5 + submittedColumns.length)})`;

/**
 * Records a signing request and queues its confirmation email, in one atomic
 * write: every 202 is held (PRODUCT.md §8, "Defer, never drop"). The
 * signature itself is written only when the request is confirmed: until
 * then, organisers see the request (`status=pending`), and nothing is
 * decided by it: the submission (details and consent) waits for its own
 * link, and only that link applies it (confirmSignature). The email goes
 * into the confirmation lane under the requester's source, where the
 * address's window and the global rate decide when it is sent. A repeat with
 * the same email is indistinguishable from a first signature to the caller:
 * same answer, a fresh email in its turn. So is a request the block list
 * matches (kept as a fraudulent request, nothing sent).
 */
export async function signCampaign(
  ctx: ServiceContext,
  limits: SignLimits,
  slug: string,
  input: SignInput,
  request: { clientIp: string | null | undefined },
): Promise<{ status: 'pending' }> {
  const campaign = await findCampaignForSigning(ctx, slug);
  // A draft answers like an unknown slug, so drafts cannot be discovered.
  if (!campaign || campaign.status === 'draft') throw new NotFound('Campaign');
  const now = ctx.clock.now();
  const withinWindow = (campaign.opensAt === null || now >= campaign.opensAt) && (campaign.closesAt === null || now < campaign.closesAt);
  if (campaign.status !== 'open' || !withinWindow) {
    throw new Conflict('CAMPAIGN_NOT_OPEN', 'This campaign is not accepting signatures.');
  }
  // An IPv6 client is its /64 here, for the rate limit and for abuse review alike.
  const ipHash = request.clientIp ? await ctx.keys.ipHash(campaign.id, utcDay(now), clientKey(request.clientIp)) : null;
  if (limits.rateLimit && ipHash !== null) {
    const verdict = await limits.rateLimiter.hit(`sign:${campaign.id}:${ipHash}`, limits.rateLimit.limit, limits.rateLimit.windowMs, now);
    if (!verdict.allowed) throw new RateLimited(Math.max(1, Math.ceil(verdict.retryAfterMs / 1000)));
  }

  const locale = input.locale ?? campaign.locale;
  const partner = await findSigningPartner(ctx, campaign.id, input.ref);
  const nonce = newNonce();
  const expiresAt = now + ctx.confirmTokenTtlMs;
  const emailNormalized = normalizeEmail(input.email);
  const outboxId = newId(now);
  const confirmation: ConfirmationEmailInput = {
    locale,
    nonce,
    campaignTitle: campaign.translations[locale]?.title ?? campaign.title,
    expiresAt,
    timeZone: campaign.timeZone,
  };
  const message: StoredOutboxMessage = { compose: 'confirmation', input: confirmation };
  const submitted: SubmittedValues = {
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
    ip_hash: ipHash,
    source: input.source ? JSON.stringify(input.source) : null,
    partner_id: partner?.id ?? null,
    // Only a box the form showed can have been ticked.
    partner_opt_in: partner?.optInText && input.consent.partner ? 1 : 0,
  };
  const submittedValues = submittedColumns.map((c) => submitted[c]);
  // Blocked: the same answer, so it cannot be told from outside (PRODUCT.md §9).
  const blockedBy = (await loadBlocklist(ctx)).blockedBy(emailNormalized, request.clientIp);
  if (blockedBy !== null) {
    await ctx.db.atomic([ctx.db.statement({ sql: RECORD_FRAUDULENT_SQL, params: [newId(now), campaign.id, emailNormalized, now, blockedBy, ...submittedValues] })]);
    return { status: 'pending' };
  }
  const lane = { source: ipHash ?? UNKNOWN_SOURCE, address: emailNormalized, topic: campaign.id, expiresAt };
  await ctx.db.atomic([
    ctx.db.statement({
      sql: HOLD_SUBMISSION_SQL,
      params: [nonce, campaign.id, emailNormalized, now, expiresAt, ...submittedValues, campaign.id, emailNormalized],
    }),
    // The email is queued only if the submission was held.
    ...outboxStore(ctx).enqueue(
      [{ id: outboxId, kind: 'confirmation', recipient: input.email.trim(), messageId: newMessageId(ctx.mailFrom, outboxId), message, dueAt: now, createdAt: now, lane }],
      { kind: 'submission', id: nonce },
    ),
  ]);
  return { status: 'pending' };
}

export class TokenExpired extends ServiceError {
  constructor(readonly campaign: string) {
    super('TOKEN_EXPIRED', 'This confirmation link has expired. Sign again to receive a new one.', { campaign });
  }
}

type SubmissionRow = typeof signatureSubmissions.$inferSelect;

/** The submission a confirmation token stands for, with its campaign, or null for a token that is not ours. */
async function findSubmission(ctx: ServiceContext, token: string): Promise<{ submission: SubmissionRow; slug: string; campaignTitle: string; translations: (typeof campaigns.$inferSelect)['translations']; timeZone: string } | null> {
  const nonce = await ctx.keys.confirmTokens.verify(token);
  if (!nonce) return null;
  const [found] = await ctx.db.db
    .select({ submission: signatureSubmissions, slug: campaigns.slug, campaignTitle: campaigns.title, translations: campaigns.translations, timeZone: campaigns.timeZone })
    .from(signatureSubmissions)
    .innerJoin(campaigns, eq(campaigns.id, signatureSubmissions.campaignId))
    .where(eq(signatureSubmissions.id, nonce));
  return found ?? null;
}

/**
 * What confirming this link will record, for the confirm page to show before
 * the supporter presses the button: the consent and details of this
 * submission, exactly as they will be applied. Reads only.
 */
export async function describeConfirmation(ctx: ServiceContext, token: string) {
  const found = await findSubmission(ctx, token);
  if (!found) return null;
  const { submission } = found;
  const [partner] = submission.partnerId === null ? [] : await ctx.db.db.select().from(campaignPartners).where(eq(campaignPartners.id, submission.partnerId));
  return {
    campaign: found.slug,
    campaignTitle: found.translations[submission.locale]?.title ?? found.campaignTitle,
    state: submission.confirmedAt !== null ? ('confirmed' as const) : submission.expiresAt < ctx.clock.now() ? ('expired' as const) : ('ready' as const),
    name: submission.name,
    country: submission.country,
    city: submission.city,
    consent: { nameOnLetter: submission.nameOnLetter, showPublicly: submission.showPublicly, updates: submission.updates },
    // The partner's box as ticked or not; a partner without a box offered none, so there is nothing to show.
    partner: partner && (partner.optInText || submission.partnerOptIn) ? { name: partner.name, optIn: submission.partnerOptIn } : null,
  };
}
export type ConfirmationPreview = NonNullable<Awaited<ReturnType<typeof describeConfirmation>>>;

// Confirming applies one submission, in one transaction, each statement
// guarded by "this submission is still unused", so a repeated or racing
// confirm changes nothing. Parameters are listed beside each statement.

/** A count delta, only when the signature was not confirmed already (campaign, nonce, campaign, address). */
const COUNT_CONFIRMATION_SQL = `INSERT INTO "signature_count_deltas" ("campaign_id", "delta")
SELECT ?, 1 WHERE EXISTS (SELECT 1 FROM "signature_submissions" WHERE "id" = ? AND "confirmed_at" IS NULL)
  AND NOT EXISTS (SELECT 1 FROM "signatures" WHERE "campaign_id" = ? AND "email_normalized" = ? AND "status" <> 'pending')`;

/**
 * The partner and its opt-in change together, and only when the request came through a partner's
 * link: a signature through a plain link keeps the partner and the box it had, one through another
 * partner's link takes that partner and its box (an opt-in is always about the partner it names).
 */
const partnerColumns: ReadonlySet<string> = new Set(['partner_id', 'partner_opt_in']);

/** The submission's details and consent become the signature's (row values, nonce). */
const confirmedColumns = ['id', 'campaign_id', 'email_normalized', 'created_at', ...submittedColumns, 'status', 'confirmed_at'] as const;
const APPLY_SUBMISSION_SQL = `INSERT INTO "signatures" (${columnList(confirmedColumns)})
SELECT ${placeholders(confirmedColumns.length)} WHERE EXISTS (SELECT 1 FROM "signature_submissions" WHERE "id" = ? AND "confirmed_at" IS NULL)
ON CONFLICT ("campaign_id", "email_normalized") DO UPDATE SET
${submittedColumns.filter((c) => !partnerColumns.has(c)).map((c) => `  "${c}" = excluded."${c}"`).join(',\n')},
  "partner_id" = coalesce(excluded."partner_id", "signatures"."partner_id"),
  "partner_opt_in" = CASE WHEN excluded."partner_id" IS NULL THEN "signatures"."partner_opt_in" ELSE excluded."partner_opt_in" END,
  "confirmed_at" = coalesce("signatures"."confirmed_at", excluded."confirmed_at"),
  "status" = 'confirmed'
WHERE "signatures"."status" IN ('pending', 'confirmed')`;

/**
 * Marks the submission used and keeps none of its details: they live on in
 * the signature. Only the address stays, until the row expires (now,
 * campaign, address, nonce).
 */
const USE_SUBMISSION_SQL = `UPDATE "signature_submissions" SET "confirmed_at" = ?,
  "signature_id" = (SELECT "id" FROM "signatures" WHERE "campaign_id" = ? AND "email_normalized" = ?),
  "name" = '', "email" = '', "city" = NULL, "postal_code" = NULL, "comment" = NULL, "source" = NULL, "ip_hash" = NULL
WHERE "id" = ? AND "confirmed_at" IS NULL`;

/**
 * Confirms exactly the submission this token was made for: its details and
 * consent are recorded, whatever anyone submitted for the same address
 * before or since. Repeating it is harmless. The count changes through a
 * delta row in the same transaction, only when the signature was not
 * confirmed already.
 */
export async function confirmSignature(ctx: ServiceContext, token: string): Promise<{ status: 'confirmed'; campaign: string }> {
  const found = await findSubmission(ctx, token);
  if (!found) return confirmLegacyToken(ctx, token);
  const { submission, slug } = found;
  const [current] = await ctx.db.db
    .select({ id: signatures.id, status: signatures.status })
    .from(signatures)
    .where(and(eq(signatures.campaignId, submission.campaignId), eq(signatures.emailNormalized, submission.emailNormalized)));
  if (current?.status === 'invalidated') throw new NotFound('Confirmation token');
  if (submission.confirmedAt !== null) return { status: 'confirmed', campaign: slug };
  const now = ctx.clock.now();
  if (submission.expiresAt < now) throw new TokenExpired(slug);

  const row: Record<(typeof confirmedColumns)[number], string | number | null> = {
    id: newId(now),
    campaign_id: submission.campaignId,
    email_normalized: submission.emailNormalized,
    created_at: submission.createdAt,
    name: submission.name,
    email: submission.email,
    country: submission.country,
    region: submission.region,
    city: submission.city,
    postal_code: submission.postalCode,
    comment: submission.comment,
    locale: submission.locale,
    name_on_letter: submission.nameOnLetter,
    show_publicly: submission.showPublicly ? 1 : 0,
    updates: submission.updates ? 1 : 0,
    ip_hash: submission.ipHash,
    source: submission.source ? JSON.stringify(submission.source) : null,
    partner_id: submission.partnerId,
    partner_opt_in: submission.partnerOptIn ? 1 : 0,
    status: 'confirmed',
    confirmed_at: now,
  };
  // The signature keeps its id when it existed (a new request for the same address); queued while the submission is still unused.
  const events = await webhookEventWrites(ctx, 'signature.confirmed', [current?.id ?? (row.id as string)], { kind: 'unused-submission', id: submission.id });
  await ctx.db.atomic([
    ...events,
    ctx.db.statement({ sql: COUNT_CONFIRMATION_SQL, params: [submission.campaignId, submission.id, submission.campaignId, submission.emailNormalized] }),
    ctx.db.statement({ sql: APPLY_SUBMISSION_SQL, params: [...confirmedColumns.map((c) => row[c]), submission.id] }),
    ctx.db.statement({ sql: USE_SUBMISSION_SQL, params: [now, submission.campaignId, submission.emailNormalized, submission.id] }),
    // A reminder still waiting in the lane would ask to confirm what is confirmed (src/services/reminders.ts).
    outboxStore(ctx).withdrawReminders(submission.campaignId, submission.emailNormalized, now),
  ]);
  return { status: 'confirmed', campaign: slug };
}

/**
 * Links mailed by versions before 0.2 carry a random token whose SHA-256 is
 * on the signature; they confirm that signature as it stands, until they
 * expire (CONFIRM_TOKEN_TTL_HOURS). The retention job clears the hashes after.
 */
async function confirmLegacyToken(ctx: ServiceContext, token: string): Promise<{ status: 'confirmed'; campaign: string }> {
  const tokenHash = await sha256Hex(token);
  const [found] = await ctx.db.db
    .select({ id: signatures.id, status: signatures.status, campaignId: signatures.campaignId, expiresAt: signatures.confirmExpiresAt, slug: campaigns.slug })
    .from(signatures)
    .innerJoin(campaigns, eq(campaigns.id, signatures.campaignId))
    .where(eq(signatures.confirmTokenHash, tokenHash));
  if (!found || (found.status !== 'pending' && found.status !== 'confirmed')) throw new NotFound('Confirmation token');
  if (found.status === 'confirmed') return { status: 'confirmed', campaign: found.slug };
  const now = ctx.clock.now();
  if (found.expiresAt === null || found.expiresAt < now) throw new TokenExpired(found.slug);
  await ctx.db.atomic([
    ctx.db.db
      .update(signatures)
      .set({ status: 'confirmed', confirmedAt: now, confirmTokenHash: null })
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

/** A campaign the caller may read (organisers' views of signatures only read). */
async function campaignIdBySlug(ctx: ServiceContext, slug: string): Promise<{ id: string; timeZone: string }> {
  const [row] = await ctx.db.db.select({ id: campaigns.id, timeZone: campaigns.timeZone }).from(campaigns).where(eq(campaigns.slug, slug));
  if (!row) throw new NotFound('Campaign');
  assertCampaignAccess(ctx.access, row.id, 'read');
  return row;
}

type SignatureRow = typeof signatures.$inferSelect;

/** What a supporter gave when signing, as organisers and the supporter's own export see it; the same for a signature and a signing request. */
export function supporterDetails(row: Pick<SignatureRow, 'name' | 'email' | 'country' | 'region' | 'city' | 'postalCode' | 'comment' | 'locale' | 'nameOnLetter' | 'showPublicly' | 'updates' | 'source' | 'ipHash'>) {
  return {
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
  };
}

function toOrganiserView(row: SignatureRow) {
  return {
    id: row.id,
    status: row.status,
    ...supporterDetails(row),
    createdAt: new Date(row.createdAt).toISOString(),
    confirmedAt: isoOrNull(row.confirmedAt),
    unsubscribedAt: isoOrNull(row.unsubscribedAt),
  };
}
export type SignatureView = Omit<ReturnType<typeof toOrganiserView>, 'status'> & { status: SignatureListStatus };

/** A signing request still to be confirmed, in the organisers' view of a signature (nothing of it is counted or shown anywhere else). */
function pendingView(row: SubmissionRow): SignatureView {
  return { id: row.id, status: 'pending', ...supporterDetails(row), createdAt: new Date(row.createdAt).toISOString(), confirmedAt: null, unsubscribedAt: null };
}

/** A blocked request, in the same view (never counted, mailed or confirmed). */
function fraudulentView(row: typeof fraudulentRequests.$inferSelect): SignatureView {
  return { id: row.id, status: 'fraudulent', ...supporterDetails(row), createdAt: new Date(row.createdAt).toISOString(), confirmedAt: null, unsubscribedAt: null };
}

/**
 * Every field of a campaign's signatures, newest first, for organisers.
 * `status=pending` lists the signing requests whose link is still unused and
 * valid (each request apart: one address may have several), `status=fraudulent`
 * the requests the block list matched; the others are signatures, written
 * when a request is confirmed.
 */
export async function listSignatures(ctx: ServiceContext, slug: string, query: PageQuery & { status?: SignatureListStatus | undefined }) {
  const campaign = await campaignIdBySlug(ctx, slug);
  const after = decodeCursor(query.cursor);
  if (query.status === 'pending') {
    const requests = await ctx.db.db
      .select()
      .from(signatureSubmissions)
      .where(
        and(
          eq(signatureSubmissions.campaignId, campaign.id),
          isNull(signatureSubmissions.confirmedAt),
          gte(signatureSubmissions.expiresAt, ctx.clock.now()),
          afterCursor(signatureSubmissions.createdAt, signatureSubmissions.id, after),
        ),
      )
      .orderBy(desc(signatureSubmissions.createdAt), desc(signatureSubmissions.id))
      .limit(query.limit + 1);
    return toPage(requests, query.limit, pendingView);
  }
  if (query.status === 'fraudulent') {
    const requests = await ctx.db.db
      .select()
      .from(fraudulentRequests)
      .where(and(eq(fraudulentRequests.campaignId, campaign.id), afterCursor(fraudulentRequests.createdAt, fraudulentRequests.id, after)))
      .orderBy(desc(fraudulentRequests.createdAt), desc(fraudulentRequests.id))
      .limit(query.limit + 1);
    return toPage(requests, query.limit, fraudulentView);
  }
  const rows = await ctx.db.db
    .select()
    .from(signatures)
    .where(
      and(
        eq(signatures.campaignId, campaign.id),
        query.status ? eq(signatures.status, query.status) : undefined,
        afterCursor(signatures.createdAt, signatures.id, after),
      ),
    )
    .orderBy(desc(signatures.createdAt), desc(signatures.id))
    .limit(query.limit + 1);
  return toPage(rows, query.limit, toOrganiserView);
}

/** Pages through all signatures of a campaign (for exports), newest first. */
export async function* iterateSignatures(ctx: ServiceContext, slug: string, status?: SignatureListStatus) {
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
 * say more than the list promises. The signing form quotes this rule, so it stays
 * apart from the letters' initials, which may show a given name's first character.
 */
export function publicDisplayName(name: string): string {
  if (startsWithEastAsianLetter(name)) return `${/\p{L}/u.exec(name.normalize('NFC'))![0]}.`;
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const first = parts[0] ?? '';
  if (parts.length >= 2) return `${first} ${Array.from(parts[parts.length - 1]!)[0]}.`;
  return `${Array.from(first)[0] ?? ''}.`;
}

/**
 * Recent confirmed signatures whose signers chose to be shown: display name, country and the day
 * (in the campaign's time zone) only; a time to the second would help tie a name to a person.
 */
export async function listPublicSignatures(ctx: ServiceContext, slug: string, limit: number) {
  const [campaign] = await ctx.db.db
    .select({ id: campaigns.id, status: campaigns.status, timeZone: campaigns.timeZone })
    .from(campaigns)
    .where(eq(campaigns.slug, slug));
  if (!campaign || (campaign.status !== 'open' && campaign.status !== 'closed')) throw new NotFound('Campaign');
  const rows = await ctx.db.db
    .select({ name: signatures.name, country: signatures.country, confirmedAt: signatures.confirmedAt })
    .from(signatures)
    .where(and(eq(signatures.campaignId, campaign.id), eq(signatures.status, 'confirmed'), eq(signatures.showPublicly, true)))
    .orderBy(desc(signatures.confirmedAt))
    .limit(limit);
  const dayOf = new Intl.DateTimeFormat('en-CA', { timeZone: campaign.timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  return {
    items: rows.map((r) => ({ name: publicDisplayName(r.name), country: r.country, signedAt: r.confirmedAt === null ? null : dayOf.format(r.confirmedAt) })),
  };
}

const BUCKET_MS = 15 * 60 * 1000;

/**
 * Signing requests made per day in the campaign's time zone, and how many of
 * them were confirmed (so far), for the days whose every request is still
 * held: a request is kept only while its link works (CONFIRM_TOKEN_TTL_HOURS),
 * so older days cannot be told. A rate well below other days' means mail is
 * not arriving (or is filtered). Returns the first day covered and the days
 * with requests.
 */
async function requestsByDay(ctx: ServiceContext, campaign: { id: string; timeZone: string }, dayOf: Intl.DateTimeFormat) {
  const heldSince = ctx.clock.now() - ctx.confirmTokenTtlMs;
  // The day the oldest held requests fall on lost some to the retention job already.
  const partialDay = dayOf.format(heldSince);
  const rows = await ctx.db.db
    .select({
      bucket: sql<number>`${signatureSubmissions.createdAt} / ${BUCKET_MS}`,
      requested: sql<number>`count(*)`,
      confirmed: sql<number>`count(${signatureSubmissions.confirmedAt})`,
    })
    .from(signatureSubmissions)
    .where(and(eq(signatureSubmissions.campaignId, campaign.id), gte(signatureSubmissions.createdAt, heldSince)))
    .groupBy(sql`1`)
    .orderBy(sql`1`);
  const perDay = new Map<string, { requested: number; confirmed: number }>();
  for (const row of rows) {
    const day = dayOf.format(new Date(Number(row.bucket) * BUCKET_MS));
    if (day <= partialDay) continue;
    const counts = perDay.get(day) ?? { requested: 0, confirmed: 0 };
    counts.requested += Number(row.requested);
    counts.confirmed += Number(row.confirmed);
    perDay.set(day, counts);
  }
  const since = dayOf.format(heldSince + 86_400_000);
  return {
    since,
    byDay: [...perDay].map(([date, { requested, confirmed }]) => ({ date, requested, confirmed, rate: Math.round((confirmed / requested) * 1000) / 1000 })),
  };
}

/**
 * Counts by status, by country and region (confirmed only), confirmed per
 * day in the campaign's time zone, and the confirmation rate: requests made
 * and confirmed per day (requestsByDay). SQL groups by 15-minute buckets so
 * zones with :30 and :45 offsets still fall on the right local day.
 */
export async function campaignStats(ctx: ServiceContext, slug: string) {
  const campaign = await campaignIdBySlug(ctx, slug);
  // Erased signatures were confirmed and still count (as on the campaign and in letters); only their details are gone.
  const confirmedHere = and(eq(signatures.campaignId, campaign.id), inArray(signatures.status, ['confirmed', 'erased']), isNotNull(signatures.confirmedAt));
  const [byStatusRows, [waiting], [blocked], byCountryRows, byRegionRows, bucketRows] = await Promise.all([
    ctx.db.db
      .select({ status: signatures.status, count: sql<number>`count(*)` })
      .from(signatures)
      .where(eq(signatures.campaignId, campaign.id))
      .groupBy(signatures.status),
    // Pending: addresses with a request whose link is still unused and valid, and no signature yet.
    ctx.db.db
      .select({ count: sql<number>`count(DISTINCT ${signatureSubmissions.emailNormalized})` })
      .from(signatureSubmissions)
      .where(
        and(
          eq(signatureSubmissions.campaignId, campaign.id),
          isNull(signatureSubmissions.confirmedAt),
          gte(signatureSubmissions.expiresAt, ctx.clock.now()),
          sql`NOT EXISTS (SELECT 1 FROM ${signatures} WHERE ${signatures.campaignId} = ${signatureSubmissions.campaignId} AND ${signatures.emailNormalized} = ${signatureSubmissions.emailNormalized})`,
        ),
      ),
    ctx.db.db.select({ count: sql<number>`count(*)` }).from(fraudulentRequests).where(eq(fraudulentRequests.campaignId, campaign.id)),
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
  const confirmationRate = await requestsByDay(ctx, campaign, dayOf);
  const perDay = new Map<string, number>();
  for (const row of bucketRows) {
    const day = dayOf.format(new Date(Number(row.bucket) * BUCKET_MS));
    perDay.set(day, (perDay.get(day) ?? 0) + Number(row.count));
  }
  let cumulative = 0;
  const byDay = [...perDay].map(([date, confirmed]) => ({ date, confirmed, cumulative: (cumulative += confirmed) }));
  const byStatus = Object.fromEntries(signatureStatuses.map((s) => [s, 0])) as Record<(typeof signatureStatuses)[number], number>;
  for (const row of byStatusRows) byStatus[row.status] = Number(row.count);
  // Signatures left pending by versions before 0.2, plus today's requests.
  byStatus.pending += Number(waiting?.count ?? 0);
  byStatus.fraudulent = Number(blocked?.count ?? 0);
  return {
    timeZone: campaign.timeZone,
    byStatus,
    byDay,
    byCountry: byCountryRows.map((r) => ({ country: r.country, count: Number(r.count) })),
    byRegion: byRegionRows.map((r) => ({ country: r.country, region: r.region, count: Number(r.count) })),
    confirmationRate,
  };
}
