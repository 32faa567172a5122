import { and, asc, desc, eq, inArray, lt, or, sql } from 'drizzle-orm';
import * as v from 'valibot';
import { rowsPerInsert, type WriteStatement } from '../db/database.js';
import { campaigns, campaignTargets, targets } from '../db/schema.js';
import { newId } from '../lib/ids.js';
import type { ServiceContext, SigningCampaign } from './context.js';
import { assertCampaignAccess, assertOrganisationAccess, listableCampaignIds } from './access.js';
import { Conflict, NotFound, ValidationFailed } from '../lib/service-errors.js';
import { afterCursor, decodeCursor, type PageQuery, toPage } from './pagination.js';
import { assertNextStepCampaigns, NextStepInput, storedNextStep } from './next-step.js';
import { IsoDateTime, isoOrNull, Locale, MultiLine, SingleLine, TemplateName, TimeZone, Uuid } from './schemas.js';

export const campaignStatuses = ['draft', 'open', 'closed', 'archived'] as const;
export type CampaignStatus = (typeof campaignStatuses)[number];

/** The allowed status changes: draft → open → closed → archived, and open ↔ closed. */
const transitions: Record<CampaignStatus, CampaignStatus[]> = {
  draft: ['open'],
  open: ['closed'],
  closed: ['open', 'archived'],
  archived: [],
};

const Slug = v.pipe(v.string(), v.regex(/^[a-z0-9-]{3,64}$/, 'must be 3-64 characters: a-z, 0-9 and -'));

const Translation = v.strictObject({
  title: v.pipe(SingleLine(200), v.minLength(1)),
  summary: v.optional(MultiLine(1000)),
  body: v.optional(MultiLine(50_000)),
});

const campaignFields = {
  title: v.pipe(SingleLine(200), v.minLength(1, 'must not be empty')),
  summary: v.optional(MultiLine(1000)),
  body: v.optional(MultiLine(50_000)),
  translations: v.optional(v.record(Locale, Translation)),
  goal: v.optional(v.nullable(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1_000_000_000)))),
  opensAt: v.optional(v.nullable(IsoDateTime)),
  closesAt: v.optional(v.nullable(IsoDateTime)),
  timeZone: v.optional(TimeZone),
  targetIds: v.optional(v.pipe(v.array(Uuid), v.maxLength(500))),
  letterTemplate: v.optional(v.nullable(TemplateName)),
  /** What the thanks and confirmed pages offer after signing, per page language (src/services/next-step.ts). */
  nextStep: v.optional(NextStepInput),
};

export const CreateCampaignInput = v.strictObject({
  slug: Slug,
  locale: Locale,
  ...campaignFields,
});
export type CreateCampaignInput = v.InferOutput<typeof CreateCampaignInput>;

export const UpdateCampaignInput = v.strictObject({
  ...v.partial(v.strictObject(campaignFields)).entries,
  locale: v.optional(Locale),
  status: v.optional(v.picklist(campaignStatuses)),
});
export type UpdateCampaignInput = v.InferOutput<typeof UpdateCampaignInput>;

/** Next year's campaign from this year's: a new slug, and dates of its own (the old ones have passed). */
export const CloneCampaignInput = v.strictObject({
  slug: Slug,
  title: v.optional(campaignFields.title),
  opensAt: campaignFields.opensAt,
  closesAt: campaignFields.closesAt,
});
export type CloneCampaignInput = v.InferOutput<typeof CloneCampaignInput>;

export const CampaignListQuery = v.object({
  status: v.optional(v.picklist(campaignStatuses)),
  /** A slug: that campaign alone (as every list across campaigns accepts; outside the caller's campaigns, 404). */
  campaign: v.optional(v.pipe(v.string(), v.maxLength(64))),
});

type CampaignRow = typeof campaigns.$inferSelect;

/** Confirmed signatures: the folded count plus the deltas not yet folded in by the reconciler. */
// Written out in full: drizzle leaves columns unqualified here, and an unqualified "id" would bind to the subquery's table.
const liveCount = sql<number>`"campaigns"."signature_count" + coalesce((select sum(d."delta") from "signature_count_deltas" d where d."campaign_id" = "campaigns"."id"), 0)`;

function toOrganiserView(row: CampaignRow, signatureCount: number, targetIds: string[]) {
  return {
    id: row.id,
    slug: row.slug,
    title: row.title,
    summary: row.summary,
    body: row.body,
    locale: row.locale,
    translations: row.translations,
    status: row.status,
    goal: row.goal,
    opensAt: isoOrNull(row.opensAt),
    closesAt: isoOrNull(row.closesAt),
    timeZone: row.timeZone,
    targetIds,
    letterTemplate: row.letterTemplate,
    nextStep: row.nextStep,
    signatureCount,
    createdAt: new Date(row.createdAt).toISOString(),
    updatedAt: new Date(row.updatedAt).toISOString(),
  };
}
export type CampaignView = ReturnType<typeof toOrganiserView>;

export async function targetIdsOf(ctx: ServiceContext, campaignId: string): Promise<string[]> {
  const rows = await ctx.db.db
    .select({ targetId: campaignTargets.targetId })
    .from(campaignTargets)
    .where(eq(campaignTargets.campaignId, campaignId))
    .orderBy(asc(campaignTargets.position));
  return rows.map((r) => r.targetId);
}

async function findBySlug(ctx: ServiceContext, slug: string) {
  const [found] = await ctx.db.db
    .select({ campaign: campaigns, signatureCount: liveCount })
    .from(campaigns)
    .where(eq(campaigns.slug, slug));
  return found;
}

/**
 * Refuses a list naming a target that does not exist, naming each such id. The list is bound as
 * one JSON parameter: 500 ids would pass D1's 100 bound parameters as an `in (?, ?, …)` list.
 */
export async function assertTargetsExist(ctx: ServiceContext, targetIds: string[]) {
  if (targetIds.length === 0) return;
  const found = await ctx.db.db
    .select({ id: targets.id })
    .from(targets)
    .where(sql`${targets.id} in (select value from json_each(${JSON.stringify([...new Set(targetIds)])}))`);
  const known = new Set(found.map((r) => r.id));
  const missing = targetIds.flatMap((id, index) => (known.has(id) ? [] : [{ path: `targetIds.${index}`, message: `no target has the id ${id}` }]));
  if (missing.length > 0) throw new ValidationFailed(missing);
}

function assertWindow(opensAt: number | null | undefined, closesAt: number | null | undefined) {
  if (opensAt != null && closesAt != null && closesAt <= opensAt) {
    throw new ValidationFailed([{ path: 'closesAt', message: 'must be after opensAt' }]);
  }
}

/** The statements that make `targetIds` the campaign's targets, in that order. */
export function linkTargets(ctx: ServiceContext, campaignId: string, targetIds: string[]): WriteStatement[] {
  const unique = [...new Set(targetIds)];
  const statements: WriteStatement[] = [ctx.db.db.delete(campaignTargets).where(eq(campaignTargets.campaignId, campaignId))];
  const rows = unique.map((targetId, position) => ({ campaignId, targetId, position }));
  const perInsert = rowsPerInsert(campaignTargets);
  for (let start = 0; start < rows.length; start += perInsert) statements.push(ctx.db.db.insert(campaignTargets).values(rows.slice(start, start + perInsert)));
  return statements;
}

/**
 * `previousCampaignId`: set by cloneCampaign, so the new round can invite the last round's supporters.
 * Organisation access only: a campaign-limited caller could not reach the campaign it made.
 */
export async function createCampaign(ctx: ServiceContext, input: CreateCampaignInput, previousCampaignId: string | null = null): Promise<CampaignView> {
  assertOrganisationAccess(ctx.access);
  assertWindow(input.opensAt, input.closesAt);
  const targetIds = [...new Set(input.targetIds ?? [])];
  await assertTargetsExist(ctx, targetIds);
  if (input.nextStep) await assertNextStepCampaigns(ctx, input.nextStep, input.slug);
  if (await findBySlug(ctx, input.slug)) throw new Conflict('SLUG_TAKEN', `The slug "${input.slug}" is taken.`, [{ path: 'slug', message: 'is taken' }]);
  const now = ctx.clock.now();
  const row: CampaignRow = {
    id: newId(now),
    slug: input.slug,
    title: input.title,
    summary: input.summary ?? '',
    body: input.body ?? '',
    locale: input.locale,
    translations: input.translations ?? {},
    status: 'draft',
    goal: input.goal ?? null,
    opensAt: input.opensAt ?? null,
    closesAt: input.closesAt ?? null,
    timeZone: input.timeZone ?? 'UTC',
    letterTemplate: input.letterTemplate ?? null,
    previousCampaignId,
    signatureCount: 0,
    closedAt: null,
    nextStep: storedNextStep(input.nextStep ?? {}),
    createdAt: now,
    updatedAt: now,
  };
  try {
    await ctx.db.atomic([ctx.db.db.insert(campaigns).values(row), ...linkTargets(ctx, row.id, targetIds)]);
  } catch (error) {
    // Two creates with one slug can race past the check above; the unique index decides.
    if (String(error).includes('UNIQUE constraint failed: campaigns.slug')) {
      throw new Conflict('SLUG_TAKEN', `The slug "${input.slug}" is taken.`, [{ path: 'slug', message: 'is taken' }]);
    }
    throw error;
  }
  ctx.signingCampaigns?.delete(row.slug);
  return toOrganiserView(row, 0, targetIds);
}

/**
 * A draft copy of a campaign for the next round (PRODUCT.md §11, year to year): its texts and
 * translations, goal, time zone, letter template and targets in their order. Nothing of its
 * supporters is copied; they are invited separately, and only those who consented to updates.
 * The source must be within the caller's reach (404 otherwise); making the copy is a new
 * campaign, so it takes organisation access (403 for a campaign-limited caller).
 */
export async function cloneCampaign(ctx: ServiceContext, sourceSlug: string, input: CloneCampaignInput): Promise<CampaignView> {
  const found = await findBySlug(ctx, sourceSlug);
  if (!found) throw new NotFound('Campaign');
  assertCampaignAccess(ctx.access, found.campaign.id, 'read');
  assertOrganisationAccess(ctx.access);
  const source = found.campaign;
  return createCampaign(ctx, {
    slug: input.slug,
    locale: source.locale,
    title: input.title ?? source.title,
    summary: source.summary,
    body: source.body,
    // Stored translations may hold null texts; the input schema leaves them out instead.
    translations: Object.fromEntries(
      Object.entries(source.translations).map(([locale, text]) => [locale, { title: text.title, ...(text.summary != null ? { summary: text.summary } : {}), ...(text.body != null ? { body: text.body } : {}) }]),
    ) as CreateCampaignInput['translations'],
    goal: source.goal,
    opensAt: input.opensAt ?? null,
    closesAt: input.closesAt ?? null,
    timeZone: source.timeZone,
    letterTemplate: source.letterTemplate,
    targetIds: await targetIdsOf(ctx, source.id),
    // The donation links and sharing carry over; the campaign offered may have closed since, so it is chosen again.
    nextStep: Object.fromEntries(Object.entries(source.nextStep).map(([locale, step]) => [locale, { ...step, campaign: null }])),
  }, source.id);
}

export async function getCampaign(ctx: ServiceContext, slug: string): Promise<CampaignView> {
  const found = await findBySlug(ctx, slug);
  if (!found) throw new NotFound('Campaign');
  assertCampaignAccess(ctx.access, found.campaign.id, 'read');
  return toOrganiserView(found.campaign, Number(found.signatureCount), await targetIdsOf(ctx, found.campaign.id));
}

/** Campaigns newest first: every one with organisation access, else only the caller's. */
export async function listCampaigns(ctx: ServiceContext, query: PageQuery & { status?: CampaignStatus | undefined; campaign?: string | undefined }) {
  const after = decodeCursor(query.cursor);
  const visible = await listableCampaignIds(ctx, query.campaign);
  const rows = await ctx.db.db
    .select({ campaign: campaigns, signatureCount: liveCount })
    .from(campaigns)
    .where(
      and(
        query.status ? eq(campaigns.status, query.status) : undefined,
        query.campaign !== undefined ? eq(campaigns.slug, query.campaign) : undefined,
        visible === null ? undefined : inArray(campaigns.id, visible),
        afterCursor(campaigns.createdAt, campaigns.id, after),
      ),
    )
    .orderBy(desc(campaigns.createdAt), desc(campaigns.id))
    .limit(query.limit + 1);
  const links = rows.length
    ? await ctx.db.db
        .select()
        .from(campaignTargets)
        .where(inArray(campaignTargets.campaignId, rows.map((r) => r.campaign.id)))
        .orderBy(asc(campaignTargets.position))
    : [];
  return toPage(
    rows.map((r) => ({ ...r, createdAt: r.campaign.createdAt, id: r.campaign.id })),
    query.limit,
    (r) => toOrganiserView(r.campaign, Number(r.signatureCount), links.filter((l) => l.campaignId === r.id).map((l) => l.targetId)),
  );
}

export async function updateCampaign(ctx: ServiceContext, slug: string, input: UpdateCampaignInput): Promise<CampaignView> {
  const found = await findBySlug(ctx, slug);
  if (!found) throw new NotFound('Campaign');
  assertCampaignAccess(ctx.access, found.campaign.id, 'write');
  const current = found.campaign;
  if (input.status !== undefined && input.status !== current.status && !transitions[current.status].includes(input.status)) {
    throw new Conflict('INVALID_TRANSITION', `A campaign cannot go from ${current.status} to ${input.status}.`, {
      from: current.status,
      to: input.status,
      allowed: transitions[current.status],
    });
  }
  assertWindow(input.opensAt !== undefined ? input.opensAt : current.opensAt, input.closesAt !== undefined ? input.closesAt : current.closesAt);
  if (input.targetIds) await assertTargetsExist(ctx, input.targetIds);
  if (input.nextStep) await assertNextStepCampaigns(ctx, input.nextStep, slug);
  const { targetIds, nextStep, ...fields } = input;
  const now = ctx.clock.now();
  const statusChanges =
    input.status === undefined || input.status === current.status
      ? {}
      : // The retention period (RETENTION_DAYS) runs from the close; reopening stops it.
        { closedAt: input.status === 'closed' || input.status === 'archived' ? (current.status === 'closed' ? (current.closedAt ?? now) : now) : null };
  const changes = { ...fields, ...statusChanges, ...(nextStep ? { nextStep: storedNextStep(nextStep) } : {}), updatedAt: now };
  // Guarded by the status read above, so two racing transitions cannot both apply.
  const statements: WriteStatement[] = [
    ctx.db.db.update(campaigns).set(changes).where(and(eq(campaigns.id, current.id), eq(campaigns.status, current.status))),
  ];
  if (targetIds) statements.push(...linkTargets(ctx, current.id, targetIds));
  await ctx.db.atomic(statements);
  ctx.signingCampaigns?.delete(slug);
  const updated = await getCampaign(ctx, slug);
  if (input.status !== undefined && updated.status !== input.status) {
    throw new Conflict('INVALID_TRANSITION', 'The campaign changed status meanwhile; read it again and retry.');
  }
  return updated;
}

/** What anyone may see of an open or closed campaign: no personal data. */
export async function getPublicCampaign(ctx: ServiceContext, slug: string) {
  const found = await findBySlug(ctx, slug);
  if (!found || (found.campaign.status !== 'open' && found.campaign.status !== 'closed')) throw new NotFound('Campaign');
  const { campaign } = found;
  const targetRows = await ctx.db.db
    .select({
      name: targets.name,
      title: targets.title,
      organisation: targets.organisation,
      kind: targets.kind,
      // The country only (the signing form offers its regions), never the rest of the address.
      country: sql<string>`json_extract(${targets.postalAddress}, '$.country')`,
    })
    .from(campaignTargets)
    .innerJoin(targets, eq(targets.id, campaignTargets.targetId))
    .where(eq(campaignTargets.campaignId, campaign.id))
    .orderBy(asc(campaignTargets.position));
  return {
    slug: campaign.slug,
    title: campaign.title,
    summary: campaign.summary,
    body: campaign.body,
    locale: campaign.locale,
    translations: campaign.translations,
    status: campaign.status,
    goal: campaign.goal,
    opensAt: isoOrNull(campaign.opensAt),
    closesAt: isoOrNull(campaign.closesAt),
    timeZone: campaign.timeZone,
    signatureCount: Number(found.signatureCount),
    targets: targetRows,
  };
}

/** The few fields the sign path needs, by slug (cached briefly: it is read on every signature). */
export async function findCampaignForSigning(ctx: ServiceContext, slug: string): Promise<SigningCampaign | null> {
  const now = ctx.clock.now();
  const cached = ctx.signingCampaigns?.get(slug, now);
  if (cached !== undefined) return cached;
  const [row] = await ctx.db.db
    .select({
      id: campaigns.id,
      status: campaigns.status,
      title: campaigns.title,
      locale: campaigns.locale,
      translations: campaigns.translations,
      opensAt: campaigns.opensAt,
      closesAt: campaigns.closesAt,
      timeZone: campaigns.timeZone,
    })
    .from(campaigns)
    .where(eq(campaigns.slug, slug));
  const found = row ?? null;
  ctx.signingCampaigns?.set(slug, found, now);
  return found;
}
