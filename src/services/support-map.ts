import { and, eq, inArray, isNotNull, or, sql } from 'drizzle-orm';
import { campaigns, signatures } from '../db/schema.js';
import { mergeSmallRegions, type RegionTally } from '../letters/template/region-totals.js';
import { assertCampaignAccess } from './access.js';
import type { ServiceContext } from './context.js';
import { NotFound } from '../lib/service-errors.js';

/** The country the map draws by prefecture; the others are listed by country. */
export const MAP_COUNTRY = 'JP';

/**
 * Where a campaign's support comes from, as anyone may see it (PRODUCT.md §8, §13): confirmed
 * signatures (erased ones too: their support stands) counted by prefecture of Japan and by
 * country, each line at least `minimum` strong. A prefecture or a country below it is never
 * named: it is counted in `otherPrefectures` or `otherCountries`, with those who named no
 * prefecture, so no line points at a handful of people.
 */
export type SupportMap = {
  /** PUBLIC_REGION_MIN when the map was made. */
  minimum: number;
  /** Every confirmed signature of the campaign. */
  total: number;
  /** Prefectures (ISO 3166-2:JP codes) with at least `minimum` supporters, largest first. */
  prefectures: { code: string; count: number }[];
  /** Supporters in Japan in smaller prefectures or none stated; 0 when Japan itself is below `minimum`. */
  otherPrefectures: number;
  /** Countries (ISO alpha-2, Japan included) with at least `minimum` supporters, largest first. */
  countries: { country: string; count: number }[];
  /** Supporters in the smaller countries. */
  otherCountries: number;
};

/** The map from the tallies of confirmed signatures by country and region (pure: the k-anonymous merge). */
export function supportMapFrom(tallies: readonly RegionTally[], minimum: number): SupportMap {
  const byCountry = new Map<string, number>();
  for (const { country, count } of tallies) byCountry.set(country, (byCountry.get(country) ?? 0) + count);
  const countries: SupportMap['countries'] = [];
  let otherCountries = 0;
  for (const [country, count] of [...byCountry].sort(([a, countA], [b, countB]) => countB - countA || (a < b ? -1 : 1))) {
    if (count >= minimum) countries.push({ country, count });
    else otherCountries += count;
  }
  // Below the minimum Japan is itself merged among the other countries, and so are its prefectures.
  const japanShown = (byCountry.get(MAP_COUNTRY) ?? 0) >= minimum;
  const lines = japanShown ? mergeSmallRegions(tallies.filter((tally) => tally.country === MAP_COUNTRY), minimum) : [];
  return {
    minimum,
    total: tallies.reduce((sum, tally) => sum + tally.count, 0),
    prefectures: lines.flatMap(({ region, count }) => (region === null ? [] : [{ code: region, count }])),
    otherPrefectures: lines.find((line) => line.region === null)?.count ?? 0,
    countries,
    otherCountries,
  };
}

async function confirmedTallies(ctx: ServiceContext, campaignId: string): Promise<RegionTally[]> {
  const rows = await ctx.db.db
    .select({ country: signatures.country, region: signatures.region, count: sql<number>`count(*)` })
    .from(signatures)
    .where(and(eq(signatures.campaignId, campaignId), inArray(signatures.status, ['confirmed', 'erased']), isNotNull(signatures.confirmedAt)))
    .groupBy(signatures.country, signatures.region);
  return rows.map((row) => ({ country: row.country, region: row.region, count: Number(row.count) }));
}

/** The map of an open or closed campaign, for its public page; a draft or an archived campaign answers NotFound like an unknown one. */
export async function publicSupportMap(ctx: ServiceContext, slug: string): Promise<SupportMap> {
  const [campaign] = await ctx.db.db
    .select({ id: campaigns.id })
    .from(campaigns)
    .where(and(eq(campaigns.slug, slug), or(eq(campaigns.status, 'open'), eq(campaigns.status, 'closed'))));
  if (!campaign) throw new NotFound('Campaign');
  return supportMapFrom(await confirmedTallies(ctx, campaign.id), ctx.privacy.publicRegionMin);
}

/** The same map for an organiser who may read the campaign (the dashboard), whatever its status. */
export async function campaignSupportMap(ctx: ServiceContext, slug: string): Promise<SupportMap> {
  const [campaign] = await ctx.db.db.select({ id: campaigns.id }).from(campaigns).where(eq(campaigns.slug, slug));
  if (!campaign) throw new NotFound('Campaign');
  assertCampaignAccess(ctx.access, campaign.id, 'read');
  return supportMapFrom(await confirmedTallies(ctx, campaign.id), ctx.privacy.publicRegionMin);
}
