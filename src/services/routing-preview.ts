import { eq } from 'drizzle-orm';
import * as v from 'valibot';
import { campaigns } from '../db/schema.js';
import type { RegionTally } from '../letters/template/region-totals.js';
import { assertCampaignAccess } from './access.js';
import type { ServiceContext } from './context.js';
import { NotFound, ValidationFailed } from './errors.js';
import { planRouting, routedTallies, unservedTallies } from './letter-routing.js';
import { linkedTargets, signatureTotals } from './letters.js';
import { IsoDateTime } from './schemas.js';

export const RoutingPreviewQuery = v.object({
  cutoffAt: v.optional(IsoDateTime),
});
export type RoutingPreviewQuery = v.InferOutput<typeof RoutingPreviewQuery>;

/** Supporters counted per country and region (the region code as stored, null when none was given). */
export type RegionShare = { country: string; region: string | null; count: number };

export type RoutedTargetPreview = {
  id: string;
  name: string;
  kind: string;
  jurisdiction: string[];
  /** Whether it also takes the supporters no target's jurisdiction covers. */
  takesUnserved: boolean;
  /** Supporters its letter would count; 0: it would get no letter. */
  count: number;
  byRegion: RegionShare[];
};

export type RoutingPreview = {
  campaign: string;
  cutoffAt: string;
  /** Every signature the letters would count, each counted once. */
  total: number;
  targets: RoutedTargetPreview[];
  /** The supporters no jurisdiction covers (no region, another country, a region nobody serves), and the targets they go to. */
  unserved: { count: number; byRegion: RegionShare[]; targetIds: string[] };
};

/** Largest first, then by code, so the table reads the same on every refresh. */
function byRegion(tallies: readonly RegionTally[]): RegionShare[] {
  return tallies
    .map((tally) => ({ country: tally.country, region: tally.region, count: tally.count }))
    .sort((a, b) => b.count - a.count || `${a.country}:${a.region ?? ''}`.localeCompare(`${b.country}:${b.region ?? ''}`));
}

const sum = (tallies: readonly RegionTally[]) => tallies.reduce((total, tally) => total + tally.count, 0);

/**
 * Where routing by jurisdiction would send a campaign's supporters at `cutoffAt` (default now):
 * per target its count and the regions they come from, and the supporters no jurisdiction
 * covers. Counts only, never a name. Read access to the campaign is enough.
 */
export async function previewRouting(ctx: ServiceContext, slug: string, query: RoutingPreviewQuery = {}): Promise<RoutingPreview> {
  const [campaign] = await ctx.db.db.select({ id: campaigns.id, slug: campaigns.slug }).from(campaigns).where(eq(campaigns.slug, slug));
  if (!campaign) throw new NotFound('Campaign');
  assertCampaignAccess(ctx.access, campaign.id, 'read');
  const now = ctx.clock.now();
  const cutoffAt = query.cutoffAt ?? now;
  if (cutoffAt > now) throw new ValidationFailed([{ path: 'cutoffAt', message: 'must not be in the future' }]);

  const campaignTargets = await linkedTargets(ctx, campaign.id);
  const totals = await signatureTotals(ctx, campaign.id, cutoffAt);
  const plan = planRouting(campaignTargets);
  const unserved = unservedTallies(plan, totals.tallies);
  return {
    campaign: campaign.slug,
    cutoffAt: new Date(cutoffAt).toISOString(),
    total: totals.count,
    targets: campaignTargets.map((target) => {
      const routed = routedTallies(plan, target.id, totals.tallies);
      return {
        id: target.id,
        name: target.name,
        kind: target.kind,
        jurisdiction: target.jurisdiction,
        takesUnserved: plan.byTarget.get(target.id)?.takesUnserved ?? false,
        count: sum(routed),
        byRegion: byRegion(routed),
      };
    }),
    unserved: { count: sum(unserved), byRegion: byRegion(unserved), targetIds: [...plan.fallbackTargetIds] },
  };
}
