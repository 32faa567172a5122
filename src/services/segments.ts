import { and, eq, type SQL, sql } from 'drizzle-orm';
import * as v from 'valibot';
import { campaignPartners, type MailingSegment, signatures } from '../db/schema.js';
import { isRegionCode } from '../lib/regions.js';
import type { ServiceContext } from './context.js';
import { type FieldIssue, ValidationFailed } from '../lib/service-errors.js';
import { PartnerCode } from './partners.js';

/**
 * Updates to a segment (PRODUCT.md §13): an update mailing limited to the supporters of given
 * regions, partners or sources. Within a list any value matches; lists given together must all
 * match (Tokyo or Osaka, and through Amnesty's link). The segment only ever narrows who gets an
 * update: consent, unsubscribes and suppressions apply as to every update.
 */

/** Where a signature came from: `paper` for imported street sheets, `web` for the signing form and the API. */
export const segmentSources = ['web', 'paper'] as const;

const RegionCode = v.pipe(v.string(), v.trim(), v.toUpperCase(), v.check(isRegionCode, 'must be an ISO 3166-2 region code, e.g. JP-13'));

const list = <T extends v.GenericSchema<unknown, string>>(item: T, max: number) =>
  v.optional(v.pipe(v.array(item), v.minLength(1, 'must name at least one (leave it out for all)'), v.maxLength(max), v.transform((items) => [...new Set(items)])));

/** `segment: { regions?, partners?, sources? }` of an update mailing (at least one list). */
export const SegmentInput = v.pipe(
  v.strictObject({
    regions: list(RegionCode, 100),
    /** Partner codes of the mailing's campaign. */
    partners: list(PartnerCode, 50),
    sources: list(v.picklist(segmentSources, 'must be web or paper'), segmentSources.length),
  }),
  v.check((segment) => segment.regions !== undefined || segment.partners !== undefined || segment.sources !== undefined, 'must name regions, partners or sources (leave it out for every supporter)'),
);
export type SegmentInput = v.InferOutput<typeof SegmentInput>;

/** The segment as stored: partner codes become the campaign's partner ids (an unknown code fails validation at `segment.partners.N`). */
export async function resolveSegment(ctx: ServiceContext, campaignId: string, input: SegmentInput): Promise<MailingSegment> {
  const segment: MailingSegment = {};
  if (input.regions) segment.regions = input.regions;
  if (input.sources) segment.sources = input.sources;
  if (input.partners) {
    const rows = await ctx.db.db.select({ id: campaignPartners.id, code: campaignPartners.code }).from(campaignPartners).where(eq(campaignPartners.campaignId, campaignId));
    const byCode = new Map(rows.map((row) => [row.code, row]));
    const issues: FieldIssue[] = input.partners.flatMap((code, i) => (byCode.has(code) ? [] : [{ path: `segment.partners.${i}`, message: `The campaign has no partner "${code}".` }]));
    if (issues.length > 0) throw new ValidationFailed(issues);
    segment.partners = input.partners.map((code) => byCode.get(code)!);
  }
  return segment;
}

/** A signature's source kind, as segments read it: only imported sheets say `paper`. */
const sourceKind = sql`coalesce(json_extract(${signatures.source}, '$.kind'), 'web')`;

/**
 * The condition on `signatures` a segment adds to an update's audience, or undefined for none.
 * Lists travel as one JSON parameter each (json_each), so a long list stays within D1's 100 bound parameters.
 */
export function segmentCondition(segment: MailingSegment | null): SQL | undefined {
  if (!segment) return undefined;
  const conditions: SQL[] = [];
  if (segment.regions) conditions.push(sql`${signatures.region} in (select value from json_each(${JSON.stringify(segment.regions)}))`);
  if (segment.partners) conditions.push(sql`${signatures.partnerId} in (select value from json_each(${JSON.stringify(segment.partners.map((partner) => partner.id))}))`);
  if (segment.sources) {
    const web = segment.sources.includes('web');
    const paper = segment.sources.includes('paper');
    if (web !== paper) conditions.push(paper ? sql`${sourceKind} = 'paper'` : sql`${sourceKind} <> 'paper'`);
  }
  return conditions.length === 0 ? undefined : and(...conditions);
}

/** The segment as the API shows it: partners by code. */
export function segmentView(segment: MailingSegment | null): { regions?: string[]; partners?: string[]; sources?: string[] } | null {
  if (!segment) return null;
  return {
    ...(segment.regions ? { regions: segment.regions } : {}),
    ...(segment.partners ? { partners: segment.partners.map((partner) => partner.code) } : {}),
    ...(segment.sources ? { sources: segment.sources } : {}),
  };
}

