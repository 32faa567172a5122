import { getCampaign, type CampaignView } from '../../services/campaigns.js';
import type { ServiceContext } from '../../services/context.js';
import { Forbidden, NotFound } from '../../lib/service-errors.js';
import type { DashboardLanguage } from './i18n/texts.js';

type Titled = Pick<CampaignView, 'title' | 'locale' | 'translations'>;

/**
 * A campaign's title as the organiser reads it: its translation in the dashboard's language where
 * there is one, else the original, with the language it is written in (for `lang`).
 */
export function campaignTitle(campaign: Titled, language: DashboardLanguage): { text: string; lang: string } {
  const translated = campaign.translations[language]?.title;
  return translated ? { text: translated, lang: language } : { text: campaign.title, lang: campaign.locale };
}

/** What a list needs of the campaigns its rows name by slug: title and time zone. */
export type CampaignNames = { title(slug: string, language: DashboardLanguage): { text: string; lang?: string }; timeZone(slug: string): string };

/**
 * Looks up each campaign a list names by slug, once per campaign (a page lists a few campaigns at
 * most). A campaign the caller no longer reaches keeps its slug and UTC, stated as such.
 */
export async function campaignNames(ctx: ServiceContext, slugs: Iterable<string>): Promise<CampaignNames> {
  const found = new Map<string, CampaignView>();
  await Promise.all(
    [...new Set(slugs)].map(async (slug) => {
      try {
        found.set(slug, await getCampaign(ctx, slug));
      } catch (error) {
        // Out of reach since: shown by its slug; the list itself decides which rows are visible.
        if (!(error instanceof NotFound || error instanceof Forbidden)) throw error;
      }
    }),
  );
  return {
    title: (slug, language) => {
      const campaign = found.get(slug);
      return campaign ? campaignTitle(campaign, language) : { text: slug };
    },
    timeZone: (slug) => found.get(slug)?.timeZone ?? 'UTC',
  };
}

/** A link to a campaign's page under its title in the organiser's language. */
export function CampaignLink(props: { slug: string; title: { text: string; lang?: string } }) {
  return (
    <a href={`/admin/campaigns/${encodeURIComponent(props.slug)}`} lang={props.title.lang}>
      {props.title.text}
    </a>
  );
}
