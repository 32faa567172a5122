import { Hono, type Context } from 'hono';
import * as v from 'valibot';
import type { AppEnv } from '../../http/env.js';
import { getPublicCampaign } from '../../services/campaigns.js';
import { nextStepOffer, type NextStepOffer } from '../../services/next-step.js';
import { Conflict, NotFound, RateLimited } from '../../lib/service-errors.js';
import { listPublicReplies } from '../../services/replies.js';
import { publicSupportMap } from '../../services/support-map.js';
import { PartnerCode, signingPartnersOf } from '../../services/partners.js';
import {
  confirmSignature,
  ConfirmInput,
  type ConfirmationPreview,
  describeConfirmation,
  listPublicSignatures,
  publicDisplayName,
  signCampaign,
  TokenExpired,
} from '../../services/signatures.js';
import { toInitials } from '../../letters/template/signatory-names.js';
import { siteStylesheet } from '../assets/index.js';
import { readFormFields } from '../form-body.js';
import { countryCodes, defaultCountry } from '../i18n/countries.js';
import { catalogs, htmlLang, interpolate, isPageLanguage, type Messages, negotiateLanguage, preferredRegion, type PageLanguage } from '../i18n/index.js';
import { isEmbedPath, pageHeaders } from '../page-headers.js';
import type { ShareImage } from '../layout.js';
import type { Organisation } from '../../letters/template/types.js';
import { OG_IMAGE_HEIGHT, OG_IMAGE_WIDTH, type OgCard } from '../og-image/og-image-port.js';
import { OG_IMAGE_MAX_AGE_SECONDS, ogImageVersion } from '../og-image/og-images.js';
import { forbiddenPage, formBodyLimit, rememberLanguageChoice, sameOriginPosts } from './page-guards.js';
import { CampaignPage, campaignTexts, type PagePartner, progressText, signingState, type PublicCampaign, type SignFormState } from './campaign-page.js';
import { EmbedPage, EmbedThanks, embedHtml, renderEmbedMessage } from './embed.js';
import { formTokenRenewsAt, issueFormToken, verifyFormToken } from './form-tokens.js';
import { MessagePage, pageHtml, renderMessage, renderPage, siteOrganisation } from './render.js';
import { NextStepBlock } from './next-step.js';
import { type BuiltPage, builtPage, serveBuiltPage } from './page-cache.js';
import { campaignShareUrl } from './share-links.js';
import { shareScript } from './share-script.js';
import { emptySignForm, FORM_TOKEN_FIELD, HONEYPOT_FIELD, LANGUAGE_FIELD, readSignForm, validateSignForm } from './sign-form.js';

const signFormName = (slug: string) => `sign:${slug}`;
const CONFIRM_FORM = 'confirm';
const campaignPath = (slug: string) => `/c/${encodeURIComponent(slug)}`;

const countryNames = new Map<PageLanguage, Intl.DisplayNames>();

function countryName(code: string, language: PageLanguage): string {
  let names = countryNames.get(language);
  if (!names) {
    names = new Intl.DisplayNames([htmlLang[language]], { type: 'region', fallback: 'code' });
    countryNames.set(language, names);
  }
  return names.of(code) ?? code;
}

/**
 * What confirming records, as the supporter will see it used: the name on
 * the letter under their consent (full: name, city and country; initials:
 * initials and country; none: counted only), the public list, and news by email.
 */
function confirmationDetails(t: Messages, language: PageLanguage, preview: ConfirmationPreview): { term: string; value: string }[] {
  const country = countryName(preview.country, language);
  const { nameOnLetter, showPublicly, updates } = preview.consent;
  const onLetter =
    nameOnLetter === 'full'
      ? [preview.name.trim(), preview.city?.trim(), country].filter(Boolean).join(', ')
      : nameOnLetter === 'initials'
        ? `${toInitials(preview.name)}, ${country}`
        : t.confirmLetterNone;
  return [
    { term: t.confirmLetterTerm, value: onLetter },
    { term: t.confirmPublicTerm, value: showPublicly ? interpolate(t.confirmPublicYes, { display: publicDisplayName(preview.name), country }) : t.confirmNo },
    { term: t.confirmUpdatesTerm, value: updates ? t.confirmYes : t.confirmNo },
    ...(preview.partner ? [{ term: interpolate(t.confirmPartnerTerm, { partner: preview.partner.name }), value: preview.partner.optIn ? t.confirmYes : t.confirmNo }] : []),
  ];
}

function notFoundPage(c: Context<AppEnv>, language: PageLanguage) {
  return renderMessage(c, 404, language, (t) => ({ title: t.notFoundTitle, paragraphs: [t.notFoundBody] }), { private: true });
}

/** What the campaign's share card shows in one language (src/web/og-image/). */
function ogCard(campaign: PublicCampaign, language: PageLanguage, organisation: Organisation | undefined): OgCard {
  const texts = campaignTexts(campaign, language);
  return {
    language,
    title: texts.title,
    titleLanguage: texts.language,
    countText: progressText(catalogs[language], language, campaign),
    progress: campaign.goal ? Math.min(1, campaign.signatureCount / campaign.goal) : null,
    organisation: organisation?.name,
  };
}

/**
 * The og:image of the campaign page: its URL changes as the count grows (ogImageVersion), so
 * sites that keep images by URL show a recent count.
 */
function shareImage(c: Context<AppEnv>, campaign: PublicCampaign, language: PageLanguage, card: OgCard): ShareImage | undefined {
  const { ctx, ogImages } = c.get('services');
  if (!ogImages) return undefined;
  return {
    url: `${ctx.publicUrl}${campaignPath(campaign.slug)}/og.png?lang=${language}&v=${ogImageVersion(campaign.signatureCount)}`,
    width: OG_IMAGE_WIDTH,
    height: OG_IMAGE_HEIGHT,
    alt: interpolate(catalogs[language].ogImageAlt, { title: card.title, count: card.countText }),
  };
}

/** Where the page is shown: the campaign page, or the compact form framed by another site (`/c/:slug/embed`). */
type SignView = 'page' | 'embed';

/** The campaign page or the embed with the given form, as text: nothing in it is read from the request but the language. */
async function campaignHtml(
  c: Context<AppEnv>,
  campaign: PublicCampaign,
  language: PageLanguage,
  form: Omit<SignFormState, 'token'>,
  view: SignView,
  partner: PagePartner | null,
): Promise<string> {
  const ctx = c.get('services').ctx;
  const slug = campaign.slug;
  const [recent, token, organisation, replies, supportMap] = await Promise.all([
    view === 'page' ? listPublicSignatures(ctx, slug, 10) : { items: [] },
    issueFormToken(ctx, signFormName(slug)),
    siteOrganisation(c, language),
    view === 'page' ? listPublicReplies(ctx, slug) : [],
    view === 'page' ? publicSupportMap(ctx, slug) : undefined,
  ]);
  const texts = campaignTexts(campaign, language);
  const t = catalogs[language];
  const title = Object.keys(form.errors).length > 0 ? interpolate(t.errorTitlePrefix, { title: texts.title }) : texts.title;
  const props = {
    t,
    language,
    campaign,
    recent: recent.items,
    state: signingState(campaign, ctx.clock.now(), organisation),
    organisation,
    form: { ...form, token },
    privacy: ctx.privacy,
    shareUrl: campaignShareUrl(ctx.publicUrl, slug, language),
    replies,
    supportMap,
    partner,
  };
  if (view === 'embed') return embedHtml({ language, title }, <EmbedPage {...props} />);
  return pageHtml(
    c,
    {
      language,
      organisation,
      path: campaignPath(slug),
      ref: partner?.code,
      meta: {
        title,
        description: texts.summary || undefined,
        share: {
          title: texts.title,
          description: texts.summary || texts.title,
          siteName: organisation?.name,
          image: shareImage(c, campaign, language, ogCard(campaign, language, organisation)),
        },
      },
    },
    <CampaignPage {...props} />,
  );
}

/** The next moment the page changes by time alone: the campaign opens or closes, or the hour's form token is renewed. */
function pageChangesAt(campaign: PublicCampaign, now: number): number {
  const moments = [campaign.opensAt, campaign.closesAt].map((at) => (at === null ? Infinity : Date.parse(at))).filter((at) => at > now);
  return Math.min(formTokenRenewsAt(now), ...moments);
}

/** A page of an open or closed campaign in the negotiated way, or null for an unknown one (or a draft). */
async function buildCampaignPage(
  c: Context<AppEnv>,
  slug: string,
  make: (campaign: PublicCampaign) => Promise<string>,
  changesAt: (campaign: PublicCampaign, now: number) => number,
): Promise<BuiltPage | null> {
  const ctx = c.get('services').ctx;
  const now = ctx.clock.now();
  let campaign;
  try {
    campaign = await getPublicCampaign(ctx, slug);
  } catch (error) {
    if (error instanceof NotFound) return null;
    throw error;
  }
  return builtPage(await make(campaign), HTML, now, changesAt(campaign, now));
}

const HTML = 'text/html; charset=UTF-8';

/**
 * The language of a page every visitor of the URL shares (`?lang=` chose it), or the one
 * negotiated from the visitor's cookie and Accept-Language: that page is theirs alone (`shared`
 * false), and its form may preselect the country their Accept-Language names.
 */
function pageLanguageOf(c: Context<AppEnv>): { language: PageLanguage; shared: boolean } {
  const chosen = c.req.query('lang');
  return isPageLanguage(chosen) ? { language: chosen, shared: true } : { language: negotiateLanguage(c), shared: false };
}

/** The partners of each campaign as its pages read them, parsed once per built list. */
const parsedPartners = new WeakMap<BuiltPage, PagePartner[]>();

/**
 * The partner a link's `?ref=` names, among the campaign's own, or null: an unknown or malformed
 * ref is ignored. The campaign's partners are read once and kept with its pages (dropped with
 * them on every organiser write), so a ref costs no query and an unknown one adds no page to keep.
 */
async function linkedPartner(c: Context<AppEnv>, slug: string, ref: string | undefined): Promise<PagePartner | null> {
  if (ref === undefined || !v.is(PartnerCode, ref)) return null;
  const code = v.parse(PartnerCode, ref);
  const { ctx, publicPages } = c.get('services');
  const now = ctx.clock.now();
  const list = await publicPages.get(`partners:${slug}`, now, async () => {
    const partners = await signingPartnersOf(ctx, slug);
    // No such campaign: nothing is kept, as for its page.
    if (partners === null) return null;
    return builtPage(JSON.stringify(partners.map(({ code, name, optInText }) => ({ code, name, optInText }))), 'application/json', now);
  });
  if (!list) return null;
  let partners = parsedPartners.get(list);
  if (!partners) {
    partners = JSON.parse(new TextDecoder().decode(list.body)) as PagePartner[];
    parsedPartners.set(list, partners);
  }
  return partners.find((partner) => partner.code === code) ?? null;
}

/**
 * The campaign page or the embed with an empty form, built once per campaign, language, preselected
 * country and partner (public-pages.ts): a partner's link gets the page with its hidden field and
 * box, the same for everyone who follows that link.
 */
async function serveCampaign(c: Context<AppEnv>, view: SignView) {
  const { ctx, publicPages } = c.get('services');
  const slug = c.req.param('slug')!;
  const { language, shared } = pageLanguageOf(c);
  const region = shared ? undefined : preferredRegion(c, language);
  const country = region && countryCodes.has(region) ? region : (defaultCountry[language] ?? '');
  const partner = await linkedPartner(c, slug, c.req.query('ref'));
  const key = `${view}:${slug}:${language}:${country}${partner ? `:ref:${partner.code}` : ''}`;
  const page = await publicPages.get(key, ctx.clock.now(), () =>
    buildCampaignPage(c, slug, (campaign) => campaignHtml(c, campaign, language, { values: emptySignForm(country, partner?.code), errors: {} }, view, partner), pageChangesAt),
  );
  if (!page) return notFoundPage(c, language);
  return serveBuiltPage(c, page, shared ? { shared } : { shared, vary: 'Accept-Language, Cookie' });
}

/** The campaign page or the embed again after a refused post: the visitor's values and errors, for them alone. */
async function renderCampaign(
  c: Context<AppEnv>,
  slug: string,
  language: PageLanguage,
  status: 409 | 422,
  form: Omit<SignFormState, 'token'> | undefined,
  view: SignView,
  ref: string | undefined,
) {
  const ctx = c.get('services').ctx;
  let campaign;
  try {
    campaign = await getPublicCampaign(ctx, slug);
  } catch (error) {
    if (error instanceof NotFound) return notFoundPage(c, language);
    throw error;
  }
  const region = preferredRegion(c, language);
  const country = region && countryCodes.has(region) ? region : (defaultCountry[language] ?? '');
  // The partner of the refused form stays with it, box and all, as the supporter left them.
  const partner = await linkedPartner(c, slug, ref);
  const html = await campaignHtml(c, campaign, language, form ?? { values: emptySignForm(country, partner?.code), errors: {} }, view, partner);
  return c.html(html, status, { 'Cache-Control': 'no-store' });
}

/**
 * A signing form post, from the campaign page or the embed: the same Origin check (the embed's
 * form is a document of this origin, whatever site frames it), form token, honeypot and
 * validation; only where the answer is shown differs.
 */
async function handleSignPost(c: Context<AppEnv>, view: SignView) {
  const services = c.get('services');
  const slug = c.req.param('slug')!;
  const body = await readFormFields(c);
  if (!body) return forbiddenPage(c, negotiateLanguage(c), 400);
  const language = isPageLanguage(body[LANGUAGE_FIELD]) ? body[LANGUAGE_FIELD] : negotiateLanguage(c);
  if (!(await verifyFormToken(services.ctx, signFormName(slug), body[FORM_TOKEN_FIELD]))) return forbiddenPage(c, language);
  const formPage = view === 'embed' ? `${campaignPath(slug)}/embed` : campaignPath(slug);
  const thanks = `${campaignPath(slug)}${view === 'embed' ? '/embed' : ''}/thanks?lang=${language}`;
  // Bots fill every field; answer them as if they had signed, so they learn nothing.
  if (typeof body[HONEYPOT_FIELD] === 'string' && body[HONEYPOT_FIELD] !== '') return c.redirect(thanks, 303);

  // Nobody may sign before the page can say who holds their data (the page shows why instead of the form).
  const values = readSignForm(body);
  const ref = values.ref || undefined;
  if (!(await siteOrganisation(c, language))) return renderCampaign(c, slug, language, 409, undefined, view, ref);
  const checked = validateSignForm(values, language);
  if ('errors' in checked) return renderCampaign(c, slug, language, 422, { values, errors: checked.errors }, view, ref);
  try {
    await signCampaign(services.ctx, services.signLimits, slug, checked.input, { clientIp: services.clientIp(c) });
  } catch (error) {
    if (error instanceof NotFound) return notFoundPage(c, language);
    if (error instanceof Conflict && error.code === 'CAMPAIGN_NOT_OPEN') return renderCampaign(c, slug, language, 409, undefined, view, ref);
    if (error instanceof RateLimited) {
      return (view === 'embed' ? renderEmbedMessage : renderMessage)(
        c,
        429,
        language,
        (t) => ({ title: t.rateLimitedTitle, paragraphs: [t.rateLimitedBody], link: { href: `${formPage}?lang=${language}`, label: t.backToCampaign } }),
        { private: true, headers: { 'Retry-After': String(error.retryAfterSeconds) } },
      );
    }
    throw error;
  }
  services.onMailQueued();
  return c.redirect(thanks, 303);
}

/** A signature confirmed (now, or earlier by the same link): the message, then the campaign's next step in the page's language. */
async function confirmedPage(c: Context<AppEnv>, language: PageLanguage, slug: string, body: string) {
  const ctx = c.get('services').ctx;
  const t = catalogs[language];
  let campaign: PublicCampaign | null;
  try {
    campaign = await getPublicCampaign(ctx, slug);
  } catch (error) {
    if (!(error instanceof NotFound)) throw error;
    campaign = null;
  }
  const offer = campaign ? await nextStepOffer(ctx, slug, language) : null;
  return renderPage(
    c,
    200,
    { language, meta: { title: t.confirmedTitle, private: true } },
    <>
      <MessagePage title={t.confirmedTitle} paragraphs={[body]} link={{ href: `${campaignPath(slug)}?lang=${language}`, label: t.backToCampaign }} />
      {campaign && offer ? (
        <NextStepBlock t={t} language={language} offer={offer} share={{ url: campaignShareUrl(ctx.publicUrl, slug, language), title: campaignTexts(campaign, language).title }} />
      ) : null}
    </>,
  );
}

/**
 * The supporters' pages: `/c/:slug` with its signing form, `/c/:slug/thanks`,
 * `/confirm/:token`, and the stylesheet. Server-rendered, no script; every
 * form post passes the Origin check and carries a form token (form-tokens.ts).
 */
export function publicPageRoutes() {
  const routes = new Hono<AppEnv>();

  routes.get(siteStylesheet.path, (c) =>
    c.body(siteStylesheet.body, 200, { 'Content-Type': 'text/css; charset=utf-8', 'Cache-Control': 'public, max-age=31536000, immutable' }),
  );

  routes.get(shareScript.path, (c) =>
    c.body(shareScript.body, 200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'public, max-age=31536000, immutable' }),
  );

  const supporterPageHeaders = pageHeaders({ frameAncestors: "'none'" });
  const embedPageHeaders = pageHeaders({ frameAncestors: 'embed-origins' });
  const languageChoice = rememberLanguageChoice();
  routes.use('/c/*', (c, next) => (isEmbedPath(c.req.path) ? embedPageHeaders : supporterPageHeaders)(c, next));
  routes.use('/confirm/*', supporterPageHeaders);
  // Not on /c/*: those pages are shared by every visitor of their URL, and a shared cache keeps no
  // response that sets a cookie. The choice travels in the links instead (?lang= on the language
  // switch, the form's language field, the thanks page and the confirmation link).
  routes.use('/confirm/*', languageChoice);

  routes.get('/c/:slug', (c) => serveCampaign(c, 'page'));

  routes.post('/c/:slug/sign', sameOriginPosts(), formBodyLimit(), (c) => handleSignPost(c, 'page'));

  // Nothing on the thanks page is the signer's: every visitor of its URL shares it, like the campaign page.
  const thanksPage = async (c: Context<AppEnv>, view: SignView) => {
    const { ctx, publicPages } = c.get('services');
    const slug = c.req.param('slug')!;
    const { language, shared } = pageLanguageOf(c);
    const t = catalogs[language];
    // Read with the page, so an organiser's change to the next step (which drops every built page) shows at once.
    let offer: NextStepOffer | undefined;
    const make = async (campaign: PublicCampaign) => {
      offer = await nextStepOffer(ctx, slug, language);
      const share = { url: campaignShareUrl(ctx.publicUrl, slug, language), title: campaignTexts(campaign, language).title };
      if (view === 'embed') return embedHtml({ language, title: t.thanksTitle }, <EmbedThanks t={t} language={language} offer={offer} share={share} />);
      return pageHtml(
        c,
        { language, path: `${campaignPath(slug)}/thanks`, meta: { title: t.thanksTitle, private: true } },
        <>
          <MessagePage title={t.thanksTitle} paragraphs={[t.thanksBody, t.thanksSpam]} link={{ href: `${campaignPath(slug)}?lang=${language}`, label: t.backToCampaign }} />
          <NextStepBlock t={t} language={language} offer={offer} share={share} />
        </>,
      );
    };
    const page = await publicPages.get(`${view}-thanks:${slug}:${language}`, ctx.clock.now(), () =>
      buildCampaignPage(c, slug, make, () => offer?.changesAt ?? Infinity),
    );
    if (!page) return notFoundPage(c, language);
    return serveBuiltPage(c, page, shared ? { shared } : { shared, vary: 'Accept-Language, Cookie' });
  };

  routes.get('/c/:slug/thanks', (c) => thanksPage(c, 'page'));

  routes.get('/c/:slug/embed', (c) => serveCampaign(c, 'embed'));
  routes.post('/c/:slug/embed/sign', sameOriginPosts(), formBodyLimit(), (c) => handleSignPost(c, 'embed'));
  routes.get('/c/:slug/embed/thanks', (c) => thanksPage(c, 'embed'));

  // The share card: the language only from ?lang= (else the campaign's own), so one URL is always one image.
  routes.get('/c/:slug/og.png', async (c) => {
    const { ctx, ogImages } = c.get('services');
    const slug = c.req.param('slug');
    const chosen = c.req.query('lang');
    if (!ogImages) return notFoundPage(c, isPageLanguage(chosen) ? chosen : 'en');
    let campaign;
    try {
      campaign = await getPublicCampaign(ctx, slug);
    } catch (error) {
      if (error instanceof NotFound) return notFoundPage(c, isPageLanguage(chosen) ? chosen : 'en');
      throw error;
    }
    const language = isPageLanguage(chosen) ? chosen : campaign.locale;
    const { png, etag } = await ogImages.image(`${slug}:${language}`, ogCard(campaign, language, await siteOrganisation(c, language)));
    const headers = { 'Cache-Control': `public, max-age=${OG_IMAGE_MAX_AGE_SECONDS}`, ETag: etag };
    if (c.req.header('if-none-match')?.split(/\s*,\s*/).includes(etag)) return c.body(null, 304, headers);
    return c.body(png, 200, { ...headers, 'Content-Type': 'image/png' });
  });

  const unknownConfirmLink = (c: Context<AppEnv>, language: PageLanguage) =>
    renderMessage(c, 404, language, (t) => ({ title: t.unknownLinkTitle, paragraphs: [t.unknownConfirmBody] }), { private: true });
  const looksLikeConfirmToken = (token: string) => v.is(ConfirmInput, { token });

  const expiredConfirmLink = (c: Context<AppEnv>, language: PageLanguage, campaign: string) =>
    renderMessage(
      c,
      410,
      language,
      (t) => ({ title: t.expiredTitle, paragraphs: [t.expiredBody], link: { href: `${campaignPath(campaign)}?lang=${language}`, label: t.signAgain } }),
      { private: true },
    );

  // Opening the link (as mail scanners do) confirms nothing: it shows what the button will record.
  routes.get('/confirm/:token', async (c) => {
    const token = c.req.param('token');
    const language = negotiateLanguage(c);
    const ctx = c.get('services').ctx;
    const preview = looksLikeConfirmToken(token) ? await describeConfirmation(ctx, token) : null;
    // Links mailed before 0.2 hold no submission to show; they keep the plain button until they expire.
    if (!preview && !looksLikeConfirmToken(token)) return unknownConfirmLink(c, language);
    if (preview?.state === 'expired') return expiredConfirmLink(c, language, preview.campaign);
    if (preview?.state === 'confirmed') return confirmedPage(c, language, preview.campaign, catalogs[language].confirmUsedBody);
    const formToken = await issueFormToken(ctx, CONFIRM_FORM);
    return renderMessage(
      c,
      200,
      language,
      (t) => ({
        title: t.confirmTitle,
        paragraphs: preview ? [preview.campaignTitle, t.confirmBody] : [t.confirmBody],
        details: preview ? confirmationDetails(t, language, preview) : undefined,
        note: preview ? t.confirmNotYours : undefined,
        form: { action: `/confirm/${token}`, button: t.confirmButton, fields: { [FORM_TOKEN_FIELD]: formToken, [LANGUAGE_FIELD]: language } },
      }),
      { private: true },
    );
  });

  routes.post('/confirm/:token', sameOriginPosts(), formBodyLimit(), async (c) => {
    const ctx = c.get('services').ctx;
    const token = c.req.param('token');
    const body = await readFormFields(c);
    if (!body) return forbiddenPage(c, negotiateLanguage(c), 400);
    const language = isPageLanguage(body[LANGUAGE_FIELD]) ? body[LANGUAGE_FIELD] : negotiateLanguage(c);
    if (!(await verifyFormToken(ctx, CONFIRM_FORM, body[FORM_TOKEN_FIELD]))) return forbiddenPage(c, language);
    if (!looksLikeConfirmToken(token)) return unknownConfirmLink(c, language);
    let confirmed;
    try {
      confirmed = await confirmSignature(ctx, token);
    } catch (error) {
      if (error instanceof NotFound) return unknownConfirmLink(c, language);
      if (error instanceof TokenExpired) return expiredConfirmLink(c, language, error.campaign);
      throw error;
    }
    return confirmedPage(c, language, confirmed.campaign, catalogs[language].confirmedBody);
  });

  return routes;
}
