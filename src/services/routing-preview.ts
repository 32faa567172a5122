import { eq } from 'drizzle-orm';
import * as v from 'valibot';
import { campaigns } from '../db/schema.js';
import { mergeSmallRegions, type RegionLine, type RegionTally } from '../letters/template/region-totals.js';
import { assertCampaignAccess } from './access.js';
import type { ServiceContext } from './context.js';
import { NotFound, ValidationFailed } from '../lib/service-errors.js';
import { emptyTargetChoices, getsLetter, letterShare, unservedTallies, type EmptyTargets } from './letter-routing.js';
import { linkedTargets, signatureTotals, splitRouting } from './letters.js';
import { IsoDateTime } from './schemas.js';

export const RoutingPreviewQuery = v.object({
  cutoffAt: v.optional(IsoDateTime),
  /** As for the batch: `skip` marks the targets whose letter would count no one as getting none. */
  emptyTargets: v.optional(v.picklist(emptyTargetChoices, 'must be write or skip')),
});
export type RoutingPreviewQuery = v.InferOutput<typeof RoutingPreviewQuery>;

/** Supporters counted per country and region (the region code as stored, null when none was given). */
export type RegionShare = { country: string; region: string | null; count: number };

export type RoutedTargetPreview = {
  id: string;
  name: string;
  kind: string;
  jurisdiction: string[];
  /** Whether it also takes the supporters no target's jurisdiction covers, and the shares folded out of small districts. */
  takesUnserved: boolean;
  /** Supporters its letter counts, after folding: the number the letter prints. */
  count: number;
  /** Whether it gets a letter: always, unless `emptyTargets` is `skip` and its letter would count no one. */
  letter: boolean;
  /** Its letter's region table: regions by code, those below `minimum` merged into one line (region null). */
  byRegion: RegionLine[];
  /**
   * For the organiser only (no letter shows it): its district's supporters not named in full,
   * when fewer than `minimum` and so folded into the embassies' letters; 0 otherwise.
   */
  folded: number;
  /** For the organiser only: supporters folded out of other districts that its letter counts. */
  foldedIn: number;
};

export type RoutingPreview = {
  campaign: string;
  cutoffAt: string;
  /** Every signature the letters would count, each counted once: the total every letter states. */
  total: number;
  /** PUBLIC_REGION_MIN: a district's share of supporters not named in full below it is folded, a region below it merged. */
  minimum: number;
  emptyTargets: EmptyTargets;
  targets: RoutedTargetPreview[];
  /**
   * The supporters no jurisdiction covers (no region, another country, a region nobody serves)
   * and the targets they go to. Their regions are listed as stored, for the organiser to see why
   * (the letters merge them like any other region).
   */
  unserved: { count: number; byRegion: RegionShare[]; targetIds: string[] };
};

/** Largest first, then by code, so the list reads the same on every refresh. */
function byRegion(tallies: readonly RegionTally[]): RegionShare[] {
  const merged = new Map<string, RegionShare>();
  for (const { country, region, count } of tallies) {
    const key = `${country}:${region ?? ''}`;
    const share = merged.get(key);
    if (share) share.count += count;
    else merged.set(key, { country, region, count });
  }
  return [...merged.values()].sort((a, b) => b.count - a.count || `${a.country}:${a.region ?? ''}`.localeCompare(`${b.country}:${b.region ?? ''}`));
}

const sum = (tallies: readonly RegionTally[]) => tallies.reduce((total, tally) => total + tally.count, 0);

/**
 * What routing by jurisdiction would write at `cutoffAt` (default now): per target what its
 * letter would count and show, computed by the same split as the letters (folding included), and
 * the supporters no jurisdiction covers. Counts only, never a name. Read access to the campaign
 * is enough.
 */
export async function previewRouting(ctx: ServiceContext, slug: string, query: RoutingPreviewQuery = {}): Promise<RoutingPreview> {
  const [campaign] = await ctx.db.db.select({ id: campaigns.id, slug: campaigns.slug }).from(campaigns).where(eq(campaigns.slug, slug));
  if (!campaign) throw new NotFound('Campaign');
  assertCampaignAccess(ctx.access, campaign.id, 'read');
  const now = ctx.clock.now();
  const cutoffAt = query.cutoffAt ?? now;
  if (cutoffAt > now) throw new ValidationFailed([{ path: 'cutoffAt', message: 'must not be in the future' }]);
  const emptyTargets = query.emptyTargets ?? 'write';

  const campaignTargets = await linkedTargets(ctx, campaign.id);
  const totals = await signatureTotals(ctx, campaign.id, cutoffAt);
  const split = splitRouting(ctx, campaignTargets, totals);
  const unserved = unservedTallies(split.plan, totals.tallies);
  return {
    campaign: campaign.slug,
    cutoffAt: new Date(cutoffAt).toISOString(),
    total: totals.count,
    minimum: split.minimum,
    emptyTargets,
    targets: campaignTargets.map((target) => {
      const share = letterShare(split, target.id, totals.tallies);
      return {
        id: target.id,
        name: target.name,
        kind: target.kind,
        jurisdiction: target.jurisdiction,
        takesUnserved: split.plan.byTarget.get(target.id)?.takesUnserved ?? false,
        count: share.count,
        letter: getsLetter(share.count, emptyTargets),
        byRegion: mergeSmallRegions(share.tallies, split.minimum),
        folded: share.foldedOut,
        foldedIn: share.foldedIn,
      };
    }),
    unserved: { count: sum(unserved), byRegion: byRegion(unserved), targetIds: [...split.plan.fallbackTargetIds] },
  };
}
