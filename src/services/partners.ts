import { and, asc, eq, gt, isNotNull, or, sql } from 'drizzle-orm';
import * as v from 'valibot';
import { apiTokens, campaignPartners, campaigns, signatures, signatureSubmissions } from '../db/schema.js';
import { newId } from '../lib/ids.js';
import { assertCampaignAccess, reachesCampaign } from './access.js';
import type { ServiceContext } from './context.js';
import { Conflict, NotFound } from '../lib/service-errors.js';
import { isoOrNull, oneLine, SingleLine } from './schemas.js';

/**
 * Coalition partners (PRODUCT.md §13). Each partner of a campaign has a code for its links
 * (`/c/:slug?ref=<code>`): a signature made through one is attributed to it. A partner with an
 * opt-in text gets its own box on the form, separate and unticked, worded as the partner gave it;
 * only the supporters who tick it may be handed to the partner, through a token limited to it.
 *
 * A signature names at most one partner, and its opt-in is always about that partner: a later
 * signature through another partner's link moves both together (the newer box was the one the
 * supporter saw), and one through a plain link changes neither.
 */

/** Codes that already mean something in a link: the signature sheet's QR code carries `ref=paper`. */
const reservedCodes = new Set(['paper']);

export const PartnerCode = v.pipe(
  v.string(),
  v.trim(),
  v.toLowerCase(),
  v.regex(/^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/, 'must be 1 to 40 lower-case letters, digits and hyphens, e.g. amnesty-tokyo'),
  v.check((code) => !reservedCodes.has(code), 'is reserved (the signature sheet\'s QR code uses ref=paper)'),
);

const PartnerName = v.pipe(SingleLine(200), v.minLength(1, 'must not be empty'));
/** One paragraph, as it stands beside the box. */
const OptInText = v.pipe(v.string(), v.trim(), oneLine(), v.minLength(1, 'must not be empty (leave it out for no opt-in box)'), v.maxLength(500));

export const CreatePartnerInput = v.strictObject({
  code: PartnerCode,
  name: PartnerName,
  /** The partner's own consent wording, shown as given in every page language; left out, the form shows no box. */
  optInText: v.optional(OptInText),
});
export type CreatePartnerInput = v.InferOutput<typeof CreatePartnerInput>;

/** The code is fixed: links with it are out in the world. `optInText: null` removes the box (opt-ins given stay). */
export const UpdatePartnerInput = v.strictObject({
  name: v.optional(PartnerName),
  optInText: v.optional(v.nullable(OptInText)),
});
export type UpdatePartnerInput = v.InferOutput<typeof UpdatePartnerInput>;

type PartnerRow = typeof campaignPartners.$inferSelect;

/** A partner as organisers see it: with how many signatures its links brought and how many supporters opted in. */
export type PartnerView = {
  code: string;
  name: string;
  optInText: string | null;
  signatures: number;
  optedIn: number;
  createdAt: string;
  updatedAt: string;
};

async function campaignFor(ctx: ServiceContext, slug: string, need: 'read' | 'write'): Promise<{ id: string; slug: string }> {
  const [row] = await ctx.db.db.select({ id: campaigns.id, slug: campaigns.slug }).from(campaigns).where(eq(campaigns.slug, slug));
  if (!row) throw new NotFound('Campaign');
  assertCampaignAccess(ctx.access, row.id, need);
  return row;
}

async function partnerOf(ctx: ServiceContext, campaignId: string, code: string): Promise<PartnerRow | undefined> {
  const [row] = await ctx.db.db
    .select()
    .from(campaignPartners)
    .where(and(eq(campaignPartners.campaignId, campaignId), eq(campaignPartners.code, code.trim().toLowerCase())));
  return row;
}

/** A signature counts for its partner as for the goal: confirmed, or confirmed before it was erased. */
const counted = or(eq(signatures.status, 'confirmed'), and(eq(signatures.status, 'erased'), isNotNull(signatures.confirmedAt)));

async function countsOf(ctx: ServiceContext, campaignId: string, partnerId?: string): Promise<Map<string, { signatures: number; optedIn: number }>> {
  const rows = await ctx.db.db
    .select({
      partnerId: signatures.partnerId,
      signatures: sql<number>`count(*)`,
      optedIn: sql<number>`coalesce(sum(case when ${signatures.status} = 'confirmed' and ${signatures.partnerOptIn} = 1 then 1 else 0 end), 0)`,
    })
    .from(signatures)
    .where(and(eq(signatures.campaignId, campaignId), partnerId === undefined ? isNotNull(signatures.partnerId) : eq(signatures.partnerId, partnerId), counted))
    .groupBy(signatures.partnerId);
  return new Map(rows.map((row) => [row.partnerId!, { signatures: Number(row.signatures), optedIn: Number(row.optedIn) }]));
}

function toView(row: PartnerRow, counts: { signatures: number; optedIn: number } | undefined): PartnerView {
  return {
    code: row.code,
    name: row.name,
    optInText: row.optInText,
    signatures: counts?.signatures ?? 0,
    optedIn: counts?.optedIn ?? 0,
    createdAt: new Date(row.createdAt).toISOString(),
    updatedAt: new Date(row.updatedAt).toISOString(),
  };
}

const codeTaken = (code: string) => new Conflict('PARTNER_CODE_TAKEN', `This campaign has a partner "${code}" already.`, [{ path: 'code', message: 'is taken' }]);

/** Adds a partner to a campaign (editors of it); 409 PARTNER_CODE_TAKEN for a code the campaign has. */
export async function createPartner(ctx: ServiceContext, slug: string, input: CreatePartnerInput): Promise<PartnerView> {
  const campaign = await campaignFor(ctx, slug, 'write');
  if (await partnerOf(ctx, campaign.id, input.code)) throw codeTaken(input.code);
  const now = ctx.clock.now();
  const row: PartnerRow = { id: newId(now), campaignId: campaign.id, code: input.code, name: input.name, optInText: input.optInText ?? null, createdAt: now, updatedAt: now };
  try {
    await ctx.db.atomic([ctx.db.db.insert(campaignPartners).values(row)]);
  } catch (error) {
    // Two creates of one code can race past the check above; the unique index decides.
    if (String(error).includes('UNIQUE constraint failed')) throw codeTaken(input.code);
    throw error;
  }
  return toView(row, undefined);
}

/** A campaign's partners in the order they were added (by code within one millisecond), each with its counts. */
export async function listPartners(ctx: ServiceContext, slug: string): Promise<PartnerView[]> {
  const campaign = await campaignFor(ctx, slug, 'read');
  const [rows, counts] = await Promise.all([
    ctx.db.db.select().from(campaignPartners).where(eq(campaignPartners.campaignId, campaign.id)).orderBy(asc(campaignPartners.createdAt), asc(campaignPartners.code)),
    countsOf(ctx, campaign.id),
  ]);
  return rows.map((row) => toView(row, counts.get(row.id)));
}

/** One partner with its counts. */
export async function getPartner(ctx: ServiceContext, slug: string, code: string): Promise<PartnerView> {
  const campaign = await campaignFor(ctx, slug, 'read');
  const row = await partnerOf(ctx, campaign.id, code);
  if (!row) throw new NotFound('Partner');
  return toView(row, (await countsOf(ctx, campaign.id, row.id)).get(row.id));
}

/**
 * Renames a partner or changes (or removes) its opt-in text. The opt-ins already given stay:
 * each was given to this partner; the new wording is what later signers see.
 */
export async function updatePartner(ctx: ServiceContext, slug: string, code: string, input: UpdatePartnerInput): Promise<PartnerView> {
  const campaign = await campaignFor(ctx, slug, 'write');
  const row = await partnerOf(ctx, campaign.id, code);
  if (!row) throw new NotFound('Partner');
  const changes: Partial<PartnerRow> = { updatedAt: ctx.clock.now() };
  if (input.name !== undefined) changes.name = input.name;
  if (input.optInText !== undefined) changes.optInText = input.optInText;
  await ctx.db.atomic([ctx.db.db.update(campaignPartners).set(changes).where(eq(campaignPartners.id, row.id))]);
  return toView({ ...row, ...changes }, (await countsOf(ctx, campaign.id, row.id)).get(row.id));
}

/**
 * Removes a partner, in one write: its signatures stay (and stay counted) but are no longer
 * attributed to it, the opt-ins given to it lapse with it (no one can be handed to a partner
 * that is gone), requests still to be confirmed through its link lose it too, and every token
 * limited to it is revoked. A later partner with the same code starts from nothing.
 */
export async function deletePartner(ctx: ServiceContext, slug: string, code: string): Promise<void> {
  const campaign = await campaignFor(ctx, slug, 'write');
  const row = await partnerOf(ctx, campaign.id, code);
  if (!row) throw new NotFound('Partner');
  const now = ctx.clock.now();
  await ctx.db.atomic([
    ctx.db.db.update(signatures).set({ partnerId: null, partnerOptIn: false }).where(and(eq(signatures.campaignId, campaign.id), eq(signatures.partnerId, row.id))),
    ctx.db.db
      .update(signatureSubmissions)
      .set({ partnerId: null, partnerOptIn: false })
      .where(and(eq(signatureSubmissions.campaignId, campaign.id), eq(signatureSubmissions.partnerId, row.id))),
    ctx.db.db.update(apiTokens).set({ revokedAt: now }).where(and(eq(apiTokens.partnerId, row.id), sql`${apiTokens.revokedAt} is null`)),
    ctx.db.db.delete(campaignPartners).where(eq(campaignPartners.id, row.id)),
  ]);
}

/** What the signing form needs of a partner: its code, name and the wording of its box (null: no box). */
export type SigningPartner = { id: string; code: string; name: string; optInText: string | null };

/** The partner of a campaign (by id) a `?ref=` names, or null for any code it has not: an unknown ref is ignored, never an error. */
export async function findSigningPartner(ctx: ServiceContext, campaignId: string, ref: string | undefined): Promise<SigningPartner | null> {
  if (ref === undefined || !v.is(PartnerCode, ref)) return null;
  const row = await partnerOf(ctx, campaignId, ref);
  return row ? { id: row.id, code: row.code, name: row.name, optInText: row.optInText } : null;
}

/** The partners of an open or closed campaign, for its public pages (a link's ref is looked up here, never trusted); null for no such campaign. */
export async function signingPartnersOf(ctx: ServiceContext, slug: string): Promise<SigningPartner[] | null> {
  const [campaign] = await ctx.db.db.select({ id: campaigns.id, status: campaigns.status }).from(campaigns).where(eq(campaigns.slug, slug));
  if (!campaign || campaign.status === 'draft') return null;
  return ctx.db.db
    .select({ id: campaignPartners.id, code: campaignPartners.code, name: campaignPartners.name, optInText: campaignPartners.optInText })
    .from(campaignPartners)
    .where(eq(campaignPartners.campaignId, campaign.id));
}

export const PartnerSupportersQuery = v.object({
  limit: v.optional(v.pipe(v.string(), v.regex(/^\d+$/, 'must be a whole number'), v.transform(Number), v.minValue(1), v.maxValue(500)), '100'),
  /** The `nextCursor` of the previous page. */
  cursor: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,64}$/, 'is not a cursor returned by this list'))),
});
export type PartnerSupportersQuery = v.InferOutput<typeof PartnerSupportersQuery>;

/**
 * The supporters who ticked this partner's box and are still signed (confirmed, not erased or
 * invalidated), oldest first, with what a partner needs to write to them. This is the one verb a
 * partner token reaches, and only for its own partner; organisers who may read the campaign's
 * signatures see it too. Any other caller gets 404, as for an unknown partner.
 */
export async function listPartnerSupporters(ctx: ServiceContext, slug: string, code: string, query: PartnerSupportersQuery) {
  const access = ctx.access;
  const [campaign] = await ctx.db.db.select({ id: campaigns.id }).from(campaigns).where(eq(campaigns.slug, slug));
  const reached = campaign !== undefined && (access.kind === 'partner' ? access.campaignId === campaign.id : reachesCampaign(access, campaign.id, 'read') === 'yes');
  if (!reached) throw new NotFound('Campaign');
  const partner = await partnerOf(ctx, campaign.id, code);
  // Another partner's list answers as an unknown one does.
  if (!partner || (access.kind === 'partner' && access.partnerId !== partner.id)) throw new NotFound('Partner');
  const rows = await ctx.db.db
    .select({
      id: signatures.id,
      name: signatures.name,
      email: signatures.email,
      country: signatures.country,
      region: signatures.region,
      city: signatures.city,
      postalCode: signatures.postalCode,
      locale: signatures.locale,
      confirmedAt: signatures.confirmedAt,
    })
    .from(signatures)
    .where(
      and(
        eq(signatures.partnerId, partner.id),
        eq(signatures.partnerOptIn, true),
        eq(signatures.status, 'confirmed'),
        eq(signatures.campaignId, campaign.id),
        query.cursor === undefined ? undefined : gt(signatures.id, query.cursor),
      ),
    )
    .orderBy(asc(signatures.id))
    .limit(query.limit + 1);
  const shown = rows.slice(0, query.limit);
  return {
    partner: { code: partner.code, name: partner.name },
    items: shown.map(({ id: _id, confirmedAt, ...row }) => ({ ...row, confirmedAt: isoOrNull(confirmedAt) })),
    nextCursor: rows.length > query.limit ? shown[shown.length - 1]!.id : null,
  };
}

/** Partners by code for a list of codes of one campaign (segments name partners by code). */
export async function partnerIdsByCode(ctx: ServiceContext, campaignId: string): Promise<Map<string, string>> {
  const rows = await ctx.db.db.select({ id: campaignPartners.id, code: campaignPartners.code }).from(campaignPartners).where(eq(campaignPartners.campaignId, campaignId));
  return new Map(rows.map((row) => [row.code, row.id]));
}
