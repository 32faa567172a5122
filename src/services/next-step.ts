/**
 * The next step after signing (issue #21, PRODUCT.md §13): what the thanks
 * page and the confirmed page offer a supporter, set by organisers per page
 * language: a donation link with its label, another open campaign of theirs,
 * and the share links (on unless turned off). A language without a setting
 * offers sharing only: a label written for one language is never shown in
 * another.
 */
import { and, eq, sql } from 'drizzle-orm';
import * as v from 'valibot';
import { campaigns, type NextStep } from '../db/schema.js';
import type { ServiceContext } from './context.js';
import { ValidationFailed } from '../lib/service-errors.js';
import { Locale, SingleLine } from './schemas.js';
import type { locales } from '../lib/locales.js';

type PageLocale = (typeof locales)[number];

/** https only, with a host and no user name or password: a thanks page never sends supporters over plain http or to a link with credentials in it. */
function isHttpsLink(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return url.protocol === 'https:' && url.hostname !== '' && url.username === '' && url.password === '';
}

const HttpsLink = v.pipe(v.string(), v.trim(), v.maxLength(2000, 'must be at most 2000 characters'), v.check(isHttpsLink, 'must be an https:// link, e.g. https://example.org/donate'));

const CampaignSlug = v.pipe(v.string(), v.regex(/^[a-z0-9-]{3,64}$/, 'must be a campaign slug: 3-64 characters, a-z, 0-9 and -'));

/** One page language's next step, as the API takes it: what is left out is none (sharing: on). */
const NextStepEntry = v.strictObject({
  donation: v.optional(
    v.nullable(
      v.strictObject({
        url: HttpsLink,
        label: v.pipe(SingleLine(100), v.minLength(1, 'must not be empty')),
      }),
    ),
    null,
  ),
  campaign: v.optional(v.nullable(CampaignSlug), null),
  sharing: v.optional(v.boolean(), true),
});

/** `nextStep` on a campaign: per page language; the whole set is replaced, so a language left out goes back to sharing only. */
export const NextStepInput = v.record(Locale, NextStepEntry);
export type NextStepInput = v.InferOutput<typeof NextStepInput>;

/**
 * Refuses a next step naming a campaign that is not another open campaign
 * (a supporter would be sent to a page without a form), naming each such
 * language. The slugs are bound as one JSON parameter.
 */
export async function assertNextStepCampaigns(ctx: ServiceContext, nextStep: NextStepInput, ownSlug: string): Promise<void> {
  const named = Object.entries(nextStep).flatMap(([locale, step]) => (step.campaign ? [{ locale, slug: step.campaign }] : []));
  if (named.length === 0) return;
  const open = await ctx.db.db
    .select({ slug: campaigns.slug })
    .from(campaigns)
    .where(and(eq(campaigns.status, 'open'), sql`${campaigns.slug} in (select value from json_each(${JSON.stringify([...new Set(named.map((n) => n.slug))])}))`));
  const openSlugs = new Set(open.map((row) => row.slug));
  const wrong = named.flatMap(({ locale, slug }) =>
    slug === ownSlug
      ? [{ path: `nextStep.${locale}.campaign`, message: 'must be another campaign than this one' }]
      : openSlugs.has(slug)
        ? []
        : [{ path: `nextStep.${locale}.campaign`, message: `no open campaign has the slug ${slug}` }],
  );
  if (wrong.length > 0) throw new ValidationFailed(wrong);
}

/** The stored form of a valid input. */
export function storedNextStep(input: NextStepInput): Partial<Record<PageLocale, NextStep>> {
  return Object.fromEntries(
    Object.entries(input).map(([locale, step]) => [locale, { donation: step.donation ?? null, campaign: step.campaign ?? null, sharing: step.sharing ?? true }]),
  );
}

/** What a thanks or confirmed page shows after signing, in its language. */
export type NextStepOffer = {
  donation: { url: string; label: string } | null;
  /** Shown only while that campaign is open and accepting signatures. */
  campaign: { slug: string; title: string } | null;
  sharing: boolean;
  /** When the offer changes by time alone (the campaign offered opens or closes); Infinity: nothing scheduled. */
  changesAt: number;
};

const SHARING_ONLY: NextStepOffer = { donation: null, campaign: null, sharing: true, changesAt: Infinity };

/**
 * The next step of campaign `slug` for a page in `language`, with the other
 * campaign's title in that language (or its own). Reads only; a campaign
 * unknown here offers sharing only.
 */
export async function nextStepOffer(ctx: ServiceContext, slug: string, language: PageLocale): Promise<NextStepOffer> {
  const [row] = await ctx.db.db.select({ nextStep: campaigns.nextStep }).from(campaigns).where(eq(campaigns.slug, slug));
  const step = row?.nextStep[language];
  if (!step) return SHARING_ONLY;
  let campaign: NextStepOffer['campaign'] = null;
  let changesAt = Infinity;
  if (step.campaign) {
    const [other] = await ctx.db.db
      .select({ slug: campaigns.slug, title: campaigns.title, translations: campaigns.translations, status: campaigns.status, opensAt: campaigns.opensAt, closesAt: campaigns.closesAt })
      .from(campaigns)
      .where(eq(campaigns.slug, step.campaign));
    const now = ctx.clock.now();
    if (other && other.status === 'open') {
      const accepting = (other.opensAt === null || other.opensAt <= now) && (other.closesAt === null || now < other.closesAt);
      if (accepting) campaign = { slug: other.slug, title: other.translations[language]?.title ?? other.title };
      changesAt = Math.min(...[other.opensAt, other.closesAt].filter((at): at is number => at !== null && at > now));
    }
  }
  return { donation: step.donation, campaign, sharing: step.sharing, changesAt };
}
