import { and, desc, eq, lt, or, sql } from 'drizzle-orm';
import * as v from 'valibot';
import { bounces, campaignPartners, campaigns, emailSuppressions, fraudulentRequests, privacyRequests, signatureSubmissions, signatures, type StoredOutboxMessage } from '../db/schema.js';
import { newId } from '../lib/ids.js';
import { clientKey } from '../lib/ip.js';
import { newNonce, utcDay } from '../lib/keyring.js';
import { newMessageId } from '../mail/messages.js';
import type { PrivacyEmailInput } from '../mail/privacy-email.js';
import { messagesToAddress } from '../outbox/outbox-lookups.js';
import { outboxStore } from '../outbox/outbox-store.js';
import { flushErasedData, planAddressErasure } from './anonymise.js';
import { erasureEntry } from './erasure-ledger.js';
import { assertOrganisationAccess } from './access.js';
import type { ServiceContext } from './context.js';
import { RateLimited, ValidationFailed } from '../lib/service-errors.js';
import type { PageQuery } from './pagination.js';
import { isoOrNull, Locale } from './schemas.js';
import { normalizeEmail, type SignLimits, supporterDetails, UNKNOWN_SOURCE } from './signatures.js';
import { actorLabel, type Principal } from './tokens.js';

/** How long a mailed privacy link works. */
export const PRIVACY_LINK_TTL_MS = 24 * 3_600_000;

export const privacyKinds = ['export', 'erase', 'manage'] as const;
export type PrivacyKind = (typeof privacyKinds)[number];

const Email = v.pipe(v.string(), v.trim(), v.maxLength(254, 'must be at most 254 characters'), v.email('must be an email address'));

export const PrivacyRequestInput = v.strictObject({
  email: Email,
  kind: v.picklist(privacyKinds, `must be one of ${privacyKinds.join(', ')}`),
  locale: v.optional(Locale),
});
export type PrivacyRequestInput = v.InferOutput<typeof PrivacyRequestInput>;

/** An address given by an organiser (a request received by post). */
export const PrivacyAddressInput = v.strictObject({ email: Email });
export type PrivacyAddressInput = v.InferOutput<typeof PrivacyAddressInput>;

/** The choices a supporter may change on each confirmed signature. */
export const ManageChange = v.strictObject({
  signatureId: v.pipe(v.string(), v.uuid('must be a signature id')),
  nameOnLetter: v.picklist(['full', 'initials', 'none']),
  showPublicly: v.boolean(),
  updates: v.boolean(),
  /** false withdraws the opt-in given to the signature's coalition partner; it can only be given on the signing form, next to the partner's own words. */
  partnerOptIn: v.optional(v.boolean()),
});
export type ManageChange = v.InferOutput<typeof ManageChange>;
export const ManageChanges = v.pipe(v.array(ManageChange), v.maxLength(1000));

// One write decides and records: the request is held only for an address
// that has signatures or signing requests holding its details (a used request
// keeps only the address, for the email window; a fraudulent request keeps what
// was sent in its name), and the email
// is queued only if the request was held. Known and unknown addresses cost
// the caller the same, and nothing is stored about an unknown one.
const HOLD_REQUEST_SQL = `INSERT INTO "privacy_requests" ("id", "kind", "origin", "email_normalized", "locale", "status", "created_at", "expires_at")
SELECT ?, ?, 'supporter', ?, ?, 'pending', ?, ?
WHERE EXISTS (SELECT 1 FROM "signatures" WHERE "email_normalized" = ? AND "status" <> 'erased')
    OR EXISTS (SELECT 1 FROM "signature_submissions" WHERE "email_normalized" = ? AND "name" <> '')
    OR EXISTS (SELECT 1 FROM "fraudulent_requests" WHERE "email_normalized" = ?)`;

/**
 * A supporter asks for a link to export, erase or manage what is held about
 * an address. The answer never depends on the address: the request is held
 * and its link mailed only if the address has signatures, and nothing is
 * kept otherwise. Limited per client address as signing is. The link goes
 * through the confirmation lane as a signing link does: the address's
 * window (shared with signing links) and the global rate decide when it is
 * sent, never whether (src/outbox/confirmation-lane.ts).
 */
export async function requestPrivacyLink(
  ctx: ServiceContext,
  limits: SignLimits,
  input: PrivacyRequestInput,
  request: { clientIp: string | null | undefined },
): Promise<{ status: 'accepted' }> {
  const now = ctx.clock.now();
  const ipHash = request.clientIp ? await ctx.keys.ipHash('privacy-requests', utcDay(now), clientKey(request.clientIp)) : null;
  if (limits.rateLimit && ipHash !== null) {
    const verdict = await limits.rateLimiter.hit(`privacy:${ipHash}`, limits.rateLimit.limit, limits.rateLimit.windowMs, now);
    if (!verdict.allowed) throw new RateLimited(Math.max(1, Math.ceil(verdict.retryAfterMs / 1000)));
  }
  const nonce = newNonce();
  const locale = input.locale ?? 'en';
  const emailNormalized = normalizeEmail(input.email);
  const expiresAt = now + PRIVACY_LINK_TTL_MS;
  const outboxId = newId(now);
  const email: PrivacyEmailInput = { locale, nonce, kind: input.kind, expiresAt };
  const message: StoredOutboxMessage = { compose: 'privacy', input: email };
  const lane = { source: ipHash ?? UNKNOWN_SOURCE, address: emailNormalized, topic: `privacy:${input.kind}`, expiresAt };
  await ctx.db.atomic([
    ctx.db.statement({
      sql: HOLD_REQUEST_SQL,
      params: [nonce, input.kind, emailNormalized, locale, now, expiresAt, emailNormalized, emailNormalized, emailNormalized],
    }),
    ...outboxStore(ctx).enqueue(
      [{ id: outboxId, kind: 'privacy', recipient: input.email.trim(), messageId: newMessageId(ctx.mailFrom, outboxId), message, dueAt: now, createdAt: now, lane }],
      { kind: 'privacy-request', id: nonce },
    ),
  ]);
  return { status: 'accepted' };
}

type OpenRequest = { id: string; kind: PrivacyKind; locale: Locale; emailNormalized: string; expiresAt: number };

/** The open supporter request a token stands for, or null (not ours, used, expired). */
async function findOpenRequest(ctx: ServiceContext, token: string): Promise<OpenRequest | null> {
  const nonce = await ctx.keys.privacyTokens.verify(token);
  if (!nonce) return null;
  const [row] = await ctx.db.db.select().from(privacyRequests).where(eq(privacyRequests.id, nonce));
  if (!row || row.origin !== 'supporter' || row.status !== 'pending' || row.emailNormalized === null || row.expiresAt < ctx.clock.now()) return null;
  return { id: row.id, kind: row.kind, locale: row.locale, emailNormalized: row.emailNormalized, expiresAt: row.expiresAt };
}

/** Marks a request done and drops its address; the caller learns whether this call was the one that did. */
function completeStatement(ctx: ServiceContext, id: string, signatureCount: number) {
  return ctx.db.statement({
    sql: `UPDATE "privacy_requests" SET "status" = 'completed', "completed_at" = ?, "signature_count" = ?, "email_normalized" = NULL WHERE "id" = ? AND "status" = 'pending'`,
    params: [ctx.clock.now(), signatureCount, id],
  });
}

async function claimRequest(ctx: ServiceContext, id: string, signatureCount: number): Promise<boolean> {
  const rows = await ctx.db.writeReturning({
    sql: `UPDATE "privacy_requests" SET "status" = 'completed', "completed_at" = ?, "signature_count" = ?, "email_normalized" = NULL WHERE "id" = ? AND "status" = 'pending' RETURNING "id"`,
    params: [ctx.clock.now(), signatureCount, id],
  });
  return rows.length === 1;
}

/** A confirmed signature as the manage page shows it. */
export type ManagedSignature = {
  id: string;
  campaign: string;
  campaignTitle: string;
  confirmedAt: string | null;
  nameOnLetter: 'full' | 'initials' | 'none';
  showPublicly: boolean;
  updates: boolean;
  /** The coalition partner the supporter let have their details, while they still do (null otherwise). */
  partnerOptIn: { name: string } | null;
};

async function managedSignatures(ctx: ServiceContext, emailNormalized: string): Promise<ManagedSignature[]> {
  const rows = await ctx.db.db
    .select({
      id: signatures.id,
      slug: campaigns.slug,
      title: campaigns.title,
      translations: campaigns.translations,
      locale: signatures.locale,
      confirmedAt: signatures.confirmedAt,
      nameOnLetter: signatures.nameOnLetter,
      showPublicly: signatures.showPublicly,
      updates: signatures.updates,
      unsubscribedAt: signatures.unsubscribedAt,
      partnerOptIn: signatures.partnerOptIn,
      partnerName: campaignPartners.name,
    })
    .from(signatures)
    .innerJoin(campaigns, eq(campaigns.id, signatures.campaignId))
    .leftJoin(campaignPartners, eq(campaignPartners.id, signatures.partnerId))
    .where(and(eq(signatures.emailNormalized, emailNormalized), eq(signatures.status, 'confirmed')))
    .orderBy(desc(signatures.confirmedAt));
  return rows.map((row) => ({
    id: row.id,
    campaign: row.slug,
    campaignTitle: row.translations[row.locale]?.title ?? row.title,
    confirmedAt: isoOrNull(row.confirmedAt),
    nameOnLetter: row.nameOnLetter,
    showPublicly: row.showPublicly,
    // An unsubscribe link used since counts as "no news".
    updates: row.updates && row.unsubscribedAt === null,
    partnerOptIn: row.partnerOptIn && row.partnerName !== null ? { name: row.partnerName } : null,
  }));
}

/**
 * What a privacy link will do, for its page (GET): reads only, so mail
 * scanners opening the link change nothing. A manage request also lists the
 * confirmed signatures with their current choices. Null for a link that is
 * not ours, used or expired.
 */
export async function describePrivacyRequest(ctx: ServiceContext, token: string) {
  const request = await findOpenRequest(ctx, token);
  if (!request) return null;
  return {
    kind: request.kind,
    expiresAt: new Date(request.expiresAt).toISOString(),
    signatures: request.kind === 'manage' ? await managedSignatures(ctx, request.emailNormalized) : [],
  };
}

const omitNonce = <T extends { id: string }>({ id: _nonce, ...rest }: T) => rest;

/**
 * Everything stored about an address, as one JSON-ready object: every field
 * of its signatures (with their campaign), its signing requests still held,
 * the fraudulent requests made in its name, suppressions, bounces, open
 * privacy requests, and the emails sent to it
 * (without bodies). Nonces (the halves of tokens) are left out.
 */
export async function exportAddressData(ctx: ServiceContext, emailNormalized: string) {
  const [signatureRows, submissionRows, fraudulentRows, suppressionRows, bounceRows, requestRows] = await Promise.all([
    ctx.db.db
      .select({ signature: signatures, slug: campaigns.slug, title: campaigns.title, partnerCode: campaignPartners.code, partnerName: campaignPartners.name })
      .from(signatures)
      .innerJoin(campaigns, eq(campaigns.id, signatures.campaignId))
      .leftJoin(campaignPartners, eq(campaignPartners.id, signatures.partnerId))
      .where(eq(signatures.emailNormalized, emailNormalized))
      .orderBy(signatures.createdAt),
    ctx.db.db
      .select({ submission: signatureSubmissions, slug: campaigns.slug, title: campaigns.title })
      .from(signatureSubmissions)
      .innerJoin(campaigns, eq(campaigns.id, signatureSubmissions.campaignId))
      .where(eq(signatureSubmissions.emailNormalized, emailNormalized))
      .orderBy(signatureSubmissions.createdAt),
    ctx.db.db
      .select({ request: fraudulentRequests, slug: campaigns.slug, title: campaigns.title })
      .from(fraudulentRequests)
      .innerJoin(campaigns, eq(campaigns.id, fraudulentRequests.campaignId))
      .where(eq(fraudulentRequests.emailNormalized, emailNormalized))
      .orderBy(fraudulentRequests.createdAt),
    ctx.db.db.select().from(emailSuppressions).where(eq(emailSuppressions.emailNormalized, emailNormalized)),
    ctx.db.db.select().from(bounces).where(eq(bounces.emailNormalized, emailNormalized)).orderBy(bounces.createdAt),
    ctx.db.db.select().from(privacyRequests).where(eq(privacyRequests.emailNormalized, emailNormalized)).orderBy(privacyRequests.createdAt),
  ]);
  const recipients = new Set([emailNormalized]);
  for (const { signature } of signatureRows) recipients.add(signature.email.trim());
  for (const { submission } of submissionRows) if (submission.email !== '') recipients.add(submission.email.trim());
  const emailRows = await messagesToAddress(ctx.db, [...recipients], emailNormalized);
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    format: 'signet-personal-data/1',
    generatedAt: iso(ctx.clock.now()),
    email: emailNormalized,
    signatures: signatureRows.map(({ signature: s, slug, title, partnerCode, partnerName }) => ({
      id: s.id,
      campaign: { slug, title },
      status: s.status,
      ...supporterDetails(s),
      // The coalition partner whose link it came through, and whether the supporter let it have their details.
      partner: partnerCode === null ? null : { code: partnerCode, name: partnerName, optedIn: s.partnerOptIn },
      createdAt: iso(s.createdAt),
      confirmedAt: isoOrNull(s.confirmedAt),
      unsubscribedAt: isoOrNull(s.unsubscribedAt),
    })),
    signingRequests: submissionRows.map(({ submission: s, slug, title }) => ({
      campaign: { slug, title },
      ...supporterDetails(s),
      createdAt: iso(s.createdAt),
      expiresAt: iso(s.expiresAt),
      confirmedAt: isoOrNull(s.confirmedAt),
    })),
    fraudulentRequests: fraudulentRows.map(({ request: r, slug, title }) => ({
      campaign: { slug, title },
      ...supporterDetails(r),
      createdAt: iso(r.createdAt),
    })),
    suppressions: suppressionRows.map((row) => ({ reason: row.reason, detail: row.detail, createdAt: iso(row.createdAt) })),
    bounces: bounceRows.map((row) => ({ kind: row.kind, messageId: row.messageId, diagnostic: row.diagnostic, createdAt: iso(row.createdAt) })),
    privacyRequests: requestRows.map((row) => omitNonce({ ...row, createdAt: iso(row.createdAt), expiresAt: iso(row.expiresAt), completedAt: isoOrNull(row.completedAt) })),
    emails: emailRows.map((row) => ({ kind: row.kind, status: row.status, attempts: row.attempts, createdAt: iso(row.createdAt), sentAt: isoOrNull(row.sentAt) })),
  };
}
export type AddressData = Awaited<ReturnType<typeof exportAddressData>>;

/** The export a link stands for, once: the request is completed as it is handed out. Null for a link that is not usable. */
export async function exportByLink(ctx: ServiceContext, token: string): Promise<AddressData | null> {
  const request = await findOpenRequest(ctx, token);
  if (!request || request.kind !== 'export') return null;
  const data = await exportAddressData(ctx, request.emailNormalized);
  return (await claimRequest(ctx, request.id, data.signatures.length)) ? data : null;
}

/**
 * Records an erasure in the ledger (where the runtime keeps one) before it is
 * committed: an entry for an erasure that then failed only erases again, at a
 * restore, someone who asked for it; a committed erasure missing from the
 * ledger would let a restore bring them back. No ledger write, no erasure.
 */
async function recordInLedger(ctx: ServiceContext, emailNormalized: string): Promise<void> {
  if (!ctx.erasureLedger) return;
  await ctx.erasureLedger.append(await erasureEntry(ctx.keys, emailNormalized, ctx.clock.now()));
}

/** After an erasure is committed: the log truncated, and the letters that may name the person rendered again soon. */
async function afterErasure(ctx: ServiceContext): Promise<void> {
  await flushErasedData(ctx);
  ctx.onLettersToRedact?.();
}

/** Erases everything held about a link's address (see anonymise.ts). Null for a link that is not usable. */
export async function eraseByLink(ctx: ServiceContext, token: string): Promise<{ erased: number } | null> {
  const request = await findOpenRequest(ctx, token);
  if (!request || request.kind !== 'erase') return null;
  const erasure = await planAddressErasure(ctx, request.emailNormalized);
  await recordInLedger(ctx, request.emailNormalized);
  // Completed first: the erasure then clears every request's address, this one's included.
  await ctx.db.atomic([completeStatement(ctx, request.id, erasure.signatureCount), ...erasure.statements]);
  await afterErasure(ctx);
  return { erased: erasure.signatureCount };
}

/**
 * Applies a supporter's choices to their confirmed signatures, in one write
 * guarded by the request still being open; only signatures of the link's
 * address change. Choosing news again undoes an earlier unsubscribe.
 */
export async function manageByLink(ctx: ServiceContext, token: string, changes: ManageChange[]): Promise<{ changed: number } | null> {
  const request = await findOpenRequest(ctx, token);
  if (!request || request.kind !== 'manage') return null;
  const own = new Set((await managedSignatures(ctx, request.emailNormalized)).map((s) => s.id));
  const applied = changes.filter((change) => own.has(change.signatureId));
  const stillOpen = `EXISTS (SELECT 1 FROM "privacy_requests" WHERE "id" = ? AND "status" = 'pending')`;
  await ctx.db.atomic([
    ...applied.map((change) =>
      ctx.db.statement({
        sql: `UPDATE "signatures" SET "name_on_letter" = ?, "show_publicly" = ?, "updates" = ?,
  "unsubscribed_at" = CASE WHEN ? = 1 THEN NULL ELSE "unsubscribed_at" END,
  "partner_opt_in" = CASE WHEN ? = 1 THEN 0 ELSE "partner_opt_in" END
WHERE "id" = ? AND "email_normalized" = ? AND "status" = 'confirmed' AND ${stillOpen}`,
        params: [change.nameOnLetter, change.showPublicly ? 1 : 0, change.updates ? 1 : 0, change.updates ? 1 : 0, change.partnerOptIn === false ? 1 : 0, change.signatureId, request.emailNormalized, request.id],
      }),
    ),
    completeStatement(ctx, request.id, own.size),
  ]);
  return { changed: applied.length };
}

function handledBy(principal: Principal): string {
  return actorLabel(principal);
}

function organiserRecord(ctx: ServiceContext, principal: Principal, kind: PrivacyKind, signatureCount: number) {
  const now = ctx.clock.now();
  return ctx.db.db.insert(privacyRequests).values({
    id: newId(now),
    kind,
    origin: 'organiser',
    emailNormalized: null,
    status: 'completed',
    signatureCount,
    handledBy: handledBy(principal),
    createdAt: now,
    expiresAt: now,
    completedAt: now,
  });
}

/** An organiser erases an address (a request received by post), recorded with who did it and without the address. */
export async function eraseAddressForOrganiser(ctx: ServiceContext, principal: Principal, input: PrivacyAddressInput): Promise<{ erased: number }> {
  assertOrganisationAccess(ctx.access);
  const emailNormalized = normalizeEmail(input.email);
  const erasure = await planAddressErasure(ctx, emailNormalized);
  await recordInLedger(ctx, emailNormalized);
  await ctx.db.atomic([organiserRecord(ctx, principal, 'erase', erasure.signatureCount), ...erasure.statements]);
  await afterErasure(ctx);
  return { erased: erasure.signatureCount };
}

/** An organiser exports what is held about an address (to send it by post), recorded without the address. */
export async function exportAddressForOrganiser(ctx: ServiceContext, principal: Principal, input: PrivacyAddressInput): Promise<AddressData> {
  assertOrganisationAccess(ctx.access);
  const data = await exportAddressData(ctx, normalizeEmail(input.email));
  await ctx.db.atomic([organiserRecord(ctx, principal, 'export', data.signatures.length)]);
  return data;
}

/** A request as organisers see it: what, from whom, how it ended. Never its address or its token's nonce. */
export type PrivacyRequestView = {
  kind: PrivacyKind;
  origin: 'supporter' | 'organiser';
  status: 'pending' | 'completed' | 'expired';
  signatureCount: number | null;
  handledBy: string | null;
  createdAt: string;
  expiresAt: string;
  completedAt: string | null;
};

// The cursor is the row's position (created_at, rowid): the id of a supporter request is its token's nonce.
function encodeRequestCursor(createdAt: number, seq: number): string {
  return btoa(`${createdAt}:${seq}`).replace(/=+$/, '');
}

function decodeRequestCursor(cursor: string | undefined): { createdAt: number; seq: number } | null {
  if (cursor === undefined) return null;
  let decoded = '';
  try {
    decoded = atob(cursor);
  } catch {
    // Reported below.
  }
  const match = /^(\d{1,16}):(\d{1,16})$/.exec(decoded);
  if (!match) throw new ValidationFailed([{ path: 'cursor', message: 'is not a cursor returned by this list' }]);
  return { createdAt: Number(match[1]), seq: Number(match[2]) };
}

/** Privacy requests, newest first, a page at a time. */
export async function listPrivacyRequests(ctx: ServiceContext, query: PageQuery): Promise<{ items: PrivacyRequestView[]; nextCursor: string | null }> {
  assertOrganisationAccess(ctx.access);
  const after = decodeRequestCursor(query.cursor);
  const seq = sql<number>`"privacy_requests"."rowid"`;
  const rows = await ctx.db.db
    .select({
      seq,
      kind: privacyRequests.kind,
      origin: privacyRequests.origin,
      status: privacyRequests.status,
      signatureCount: privacyRequests.signatureCount,
      handledBy: privacyRequests.handledBy,
      createdAt: privacyRequests.createdAt,
      expiresAt: privacyRequests.expiresAt,
      completedAt: privacyRequests.completedAt,
    })
    .from(privacyRequests)
    .where(after ? or(lt(privacyRequests.createdAt, after.createdAt), and(eq(privacyRequests.createdAt, after.createdAt), sql`${seq} < ${after.seq}`)) : undefined)
    .orderBy(desc(privacyRequests.createdAt), desc(seq))
    .limit(query.limit + 1);
  const shown = rows.slice(0, query.limit);
  const last = shown[shown.length - 1];
  return {
    items: shown.map((row) => ({
      kind: row.kind,
      origin: row.origin,
      status: row.status,
      signatureCount: row.signatureCount,
      handledBy: row.handledBy,
      createdAt: new Date(row.createdAt).toISOString(),
      expiresAt: new Date(row.expiresAt).toISOString(),
      completedAt: isoOrNull(row.completedAt),
    })),
    nextCursor: rows.length > query.limit && last ? encodeRequestCursor(last.createdAt, Number(last.seq)) : null,
  };
}
