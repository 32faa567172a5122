import { getCampaign } from '../../services/campaigns.js';
import { Forbidden, NotFound } from '../../lib/service-errors.js';
import { listLetterBatches } from '../../services/letters.js';
import { serviceContextOf } from '../../http/principal.js';
import type { AdminContext } from './admin-env.js';

/**
 * The choices of a campaign's last letter batch as form values (mode, routing, empty targets,
 * languages, template), so the letters and mailing forms start where the organiser left off:
 * letters made by jurisdiction in Japanese and Chinese are made and mailed so again unless they say
 * otherwise. Also the campaign's time zone. Nothing for a campaign out of reach: the form then offers
 * its plain defaults and the page itself says what is wrong.
 */
export async function lastBatchChoices(c: AdminContext, slug: string): Promise<Record<string, string>> {
  if (!slug) return {};
  const ctx = serviceContextOf(c);
  try {
    const campaign = await getCampaign(ctx, slug);
    const [lastBatch] = await listLetterBatches(ctx, campaign.id, 1);
    if (!lastBatch) return { timeZone: campaign.timeZone };
    const campaignTemplate = campaign.letterTemplate ?? 'embassy-petition';
    return {
      timeZone: campaign.timeZone,
      mode: lastBatch.mode,
      routing: lastBatch.routing,
      ...(lastBatch.emptyTargets === 'skip' ? { emptyTargets: 'skip' } : {}),
      ...(lastBatch.languages ? { languages: lastBatch.languages.join(',') } : {}),
      ...(lastBatch.template !== campaignTemplate ? { template: lastBatch.template } : {}),
    };
  } catch (error) {
    if (error instanceof NotFound || error instanceof Forbidden) return {};
    throw error;
  }
}
