import { eq, inArray } from 'drizzle-orm';
import { campaigns } from '../db/schema.js';
import type { Access, ServiceContext } from './context.js';
import { Forbidden, NotFound, ValidationFailed } from '../lib/service-errors.js';


export const organisationAccess: Access = Object.freeze({ kind: 'organisation' });

export type AccessNeed = 'read' | 'write';

/** Whether the caller reaches the campaign with this id for `need`; no database read. */
export function reachesCampaign(access: Access, campaignId: string, need: AccessNeed): 'yes' | 'hidden' | 'read-only' {
  if (access.kind === 'organisation') return 'yes';
  if (access.kind === 'partner') return 'hidden';
  const role = access.campaigns.get(campaignId);
  if (role === undefined) return 'hidden';
  if (need === 'write' && role !== 'editor') return 'read-only';
  return 'yes';
}

/**
 * Throws unless the caller reaches the campaign with this id: NotFound (named
 * `what`, e.g. 'Campaign', 'Mailing') when it is hidden, Forbidden when a
 * viewer asks to change it.
 */
export function assertCampaignAccess(access: Access, campaignId: string, need: AccessNeed, what = 'Campaign'): void {
  const reach = reachesCampaign(access, campaignId, need);
  if (reach === 'hidden') throw new NotFound(what);
  if (reach === 'read-only') throw new Forbidden('You can view this campaign but not change it (your role is viewer).', { role: 'viewer' });
}

/** The campaign ids a list may show: null for every campaign. */
export function visibleCampaignIds(access: Access): string[] | null {
  if (access.kind === 'organisation') return null;
  return access.kind === 'partner' ? [] : [...access.campaigns.keys()];
}

/** Organisation-wide resources (directory writes, tokens, users, block list, privacy, audit): refused to campaign-limited callers. */
export function assertOrganisationAccess(access: Access): void {
  if (access.kind !== 'organisation') {
    throw new Forbidden('Only organisation owners and admins (or an API token not limited to campaigns) can do this.', { needs: 'organisation' });
  }
}

/**
 * The campaigns a list across campaigns may show: null for any (organisation
 * access), else the caller's. A `campaign` filter (a slug) narrows it to that
 * campaign, and names one outside the caller's reach only to get 404, as an
 * unknown one does. With organisation access the filter is left to the list's
 * own query (an unknown slug there is simply an empty list).
 */
export async function listableCampaignIds(ctx: ServiceContext, campaignSlug?: string): Promise<string[] | null> {
  if (ctx.access.kind === 'organisation') return null;
  if (campaignSlug !== undefined) return [await campaignIdForSlug(ctx, ctx.access, campaignSlug, 'read')];
  return visibleCampaignIds(ctx.access);
}

/** The campaign id for a slug the caller reaches, or NotFound. */
export async function campaignIdForSlug(ctx: ServiceContext, access: Access, slug: string, need: AccessNeed): Promise<string> {
  const [row] = await ctx.db.db.select({ id: campaigns.id }).from(campaigns).where(eq(campaigns.slug, slug));
  if (!row) throw new NotFound('Campaign');
  assertCampaignAccess(access, row.id, need);
  return row.id;
}

/** Campaign ids for slugs (e.g. a token limited to `campaigns: [slug]`); an unknown slug fails validation at `field.i`. */
export async function campaignIdsForSlugs(ctx: ServiceContext, slugs: readonly string[], field = 'campaigns'): Promise<Map<string, string>> {
  if (slugs.length === 0) return new Map();
  const rows = await ctx.db.db.select({ id: campaigns.id, slug: campaigns.slug }).from(campaigns).where(inArray(campaigns.slug, [...slugs]));
  const bySlug = new Map(rows.map((row) => [row.slug, row.id]));
  const unknown = slugs.flatMap((slug, i) => (bySlug.has(slug) ? [] : [{ path: `${field}.${i}`, message: `There is no campaign "${slug}".` }]));
  if (unknown.length > 0) throw new ValidationFailed(unknown);
  return bySlug;
}
