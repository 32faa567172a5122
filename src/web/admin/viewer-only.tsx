import { eq } from 'drizzle-orm';
import { campaigns } from '../../db/schema.js';
import { principalOf } from '../../http/principal.js';
import { reachesCampaign } from '../../services/access.js';
import type { AdminContext } from './admin-env.js';
import { viewerTexts } from './i18n/viewer.js';
import { useTexts } from './i18n/texts.js';

/**
 * Whether the signed-in user may only read this campaign (a viewer of it).
 * The pages then offer no buttons or forms that change it: the services
 * would refuse them anyway (403), and a page full of refused buttons misleads.
 */
export function readOnlyCampaign(c: AdminContext, campaignId: string): boolean {
  return reachesCampaign(principalOf(c).access, campaignId, 'write') === 'read-only';
}

/** readOnlyCampaign for a page that knows the campaign by its slug (an unknown slug: not read-only; the service answers 404 itself). */
export async function readOnlyCampaignBySlug(c: AdminContext, slug: string): Promise<boolean> {
  const access = principalOf(c).access;
  if (access.kind === 'organisation') return false;
  const [row] = await c.get('services').ctx.db.db.select({ id: campaigns.id }).from(campaigns).where(eq(campaigns.slug, slug));
  return row !== undefined && readOnlyCampaign(c, row.id);
}

/** The short note that explains why a campaign's page offers no changes. */
export function ViewerNote() {
  const t = useTexts(viewerTexts);
  return (
    <p class="notice" id="viewer-note" role="note">
      {t.viewerNote}
    </p>
  );
}
