import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { setCookie } from 'hono/cookie';
import { csrf } from 'hono/csrf';
import { HTTPException } from 'hono/http-exception';
import * as v from 'valibot';
import type { AppEnv } from '../../http/env.js';
import { getPublicCampaign } from '../../services/campaigns.js';
import { Conflict, NotFound, RateLimited } from '../../services/errors.js';
import { confirmSignature, ConfirmInput, listPublicSignatures, signCampaign, TokenExpired } from '../../services/signatures.js';
import { siteStylesheet } from '../assets/index.js';
import { readFormFields } from '../form-body.js';
import { countryCodes, defaultCountry } from '../i18n/countries.js';
import { catalogs, interpolate, isPageLanguage, LANGUAGE_COOKIE, negotiateLanguage, preferredRegion, type PageLanguage } from '../i18n/index.js';
import { isOwnOrigin, pageHeaders } from '../page-headers.js';
import { CampaignPage, campaignTexts, signingState, type SignFormState } from './campaign-page.js';
import { issueFormToken, verifyFormToken } from './form-tokens.js';
import { renderMessage, renderPage, siteOrganisation } from './render.js';
import { emptySignForm, FORM_TOKEN_FIELD, HONEYPOT_FIELD, LANGUAGE_FIELD, readSignForm, validateSignForm } from './sign-form.js';

/** Form posts are a few kilobytes; anything far larger is not a person typing. */
const MAX_FORM_BYTES = 64 * 1024;
const ONE_YEAR_SECONDS = 365 * 24 * 3600;

const signFormName = (slug: string) => `sign:${slug}`;
const CONFIRM_FORM = 'confirm';
const campaignPath = (slug: string) => `/c/${encodeURIComponent(slug)}`;

/** A visitor's explicit choice (`?lang=`) is remembered, so the next page keeps the language. */
function rememberLanguageChoice(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const chosen = c.req.query('lang');
    if (c.req.method === 'GET' && isPageLanguage(chosen)) {
      setCookie(c, LANGUAGE_COOKIE, chosen, {
        path: '/',
        maxAge: ONE_YEAR_SECONDS,
        sameSite: 'Lax',
        httpOnly: true,
        secure: c.get('services').ctx.publicUrl.startsWith('https:'),
      });
    }
    await next();
  };
}

/** A missing or stale form token, or a body that is not our form (400): either way, send the form again. */
function forbiddenPage(c: Context<AppEnv>, language: PageLanguage, status: 400 | 403 = 403) {
  return renderMessage(c, status, language, (t) => ({ title: t.forbiddenTitle, paragraphs: [t.forbiddenBody] }), { private: true });
}

function notFoundPage(c: Context<AppEnv>, language: PageLanguage) {
  return renderMessage(c, 404, language, (t) => ({ title: t.notFoundTitle, paragraphs: [t.notFoundBody] }), { private: true });
}

/**
 * Hono's Origin / Sec-Fetch-Site check for form posts, answered with a page
 * rather than a bare 403. PUBLIC_URL's origin counts as our own too (behind a
 * proxy the request URL may name an internal host).
 */
function sameOriginPosts(): MiddlewareHandler<AppEnv> {
  const check = csrf({
    origin: isOwnOrigin,
  });
  return async (c, next) => {
    try {
      return await check(c, next);
    } catch (error) {
      if (error instanceof HTTPException && error.status === 403) return forbiddenPage(c, negotiateLanguage(c));
      throw error;
    }
  };
}

function formBodyLimit(): MiddlewareHandler<AppEnv> {
  return bodyLimit({
    maxSize: MAX_FORM_BYTES,
    onError: (c) =>
      renderMessage(c as Context<AppEnv>, 413, negotiateLanguage(c), (t) => ({ title: t.tooLargeTitle, paragraphs: [t.tooLargeBody] }), { private: true }),
  });
}

async function renderCampaign(c: Context<AppEnv>, slug: string, language: PageLanguage, status: 200 | 409 | 422, form?: Omit<SignFormState, 'token'>) {
  const ctx = c.get('services').ctx;
  let campaign;
  try {
    campaign = await getPublicCampaign(ctx, slug);
  } catch (error) {
    if (error instanceof NotFound) return notFoundPage(c, language);
    throw error;
  }
  const [recent, token, organisation] = await Promise.all([
    listPublicSignatures(ctx, slug, 10),
    issueFormToken(ctx, signFormName(slug)),
    siteOrganisation(c),
  ]);
  const region = preferredRegion(c, language);
  const country = region && countryCodes.has(region) ? region : (defaultCountry[language] ?? '');
  const texts = campaignTexts(campaign, language);
  const t = catalogs[language];
  const title = form && Object.keys(form.errors).length > 0 ? interpolate(t.errorTitlePrefix, { title: texts.title }) : texts.title;
  return renderPage(
    c,
    status,
    {
      language,
      organisation,
      meta: {
        title,
        description: texts.summary || undefined,
        share: { title: texts.title, description: texts.summary || texts.title, siteName: organisation?.name },
      },
    },
    <CampaignPage
      t={t}
      language={language}
      campaign={campaign}
      recent={recent.items}
      state={signingState(campaign, ctx.clock.now())}
      organisation={organisation}
      form={{ values: form?.values ?? emptySignForm(country), errors: form?.errors ?? {}, token }}
    />,
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

  for (const path of ['/c/*', '/confirm/*']) {
    routes.use(path, pageHeaders({ frameAncestors: "'none'" }));
    routes.use(path, rememberLanguageChoice());
  }

  routes.get('/c/:slug', (c) => renderCampaign(c, c.req.param('slug'), negotiateLanguage(c), 200));

  routes.post('/c/:slug/sign', sameOriginPosts(), formBodyLimit(), async (c) => {
    const services = c.get('services');
    const slug = c.req.param('slug');
    const body = await readFormFields(c);
    if (!body) return forbiddenPage(c, negotiateLanguage(c), 400);
    const language = isPageLanguage(body[LANGUAGE_FIELD]) ? body[LANGUAGE_FIELD] : negotiateLanguage(c);
    if (!(await verifyFormToken(services.ctx, signFormName(slug), body[FORM_TOKEN_FIELD]))) return forbiddenPage(c, language);
    const thanks = `${campaignPath(slug)}/thanks?lang=${language}`;
    // Bots fill every field; answer them as if they had signed, so they learn nothing.
    if (typeof body[HONEYPOT_FIELD] === 'string' && body[HONEYPOT_FIELD] !== '') return c.redirect(thanks, 303);

    const values = readSignForm(body);
    const checked = validateSignForm(values, language);
    if ('errors' in checked) return renderCampaign(c, slug, language, 422, { values, errors: checked.errors });
    try {
      const ip = services.clientIp(c);
      const ipHash = ip ? await services.ipHasher.hash(ip) : null;
      await signCampaign(services.ctx, services.signLimits, slug, checked.input, { ipHash });
    } catch (error) {
      if (error instanceof NotFound) return notFoundPage(c, language);
      if (error instanceof Conflict && error.code === 'CAMPAIGN_NOT_OPEN') return renderCampaign(c, slug, language, 409);
      if (error instanceof RateLimited) {
        return renderMessage(c, 429, language, (t) => ({ title: t.rateLimitedTitle, paragraphs: [t.rateLimitedBody], link: { href: campaignPath(slug), label: t.backToCampaign } }), {
          private: true,
          headers: { 'Retry-After': String(error.retryAfterSeconds) },
        });
      }
      throw error;
    }
    services.onMailQueued();
    return c.redirect(thanks, 303);
  });

  routes.get('/c/:slug/thanks', async (c) => {
    const slug = c.req.param('slug');
    const language = negotiateLanguage(c);
    try {
      await getPublicCampaign(c.get('services').ctx, slug);
    } catch (error) {
      if (error instanceof NotFound) return notFoundPage(c, language);
      throw error;
    }
    return renderMessage(
      c,
      200,
      language,
      (t) => ({ title: t.thanksTitle, paragraphs: [t.thanksBody, t.thanksSpam], link: { href: `${campaignPath(slug)}?lang=${language}`, label: t.backToCampaign } }),
      { private: true },
    );
  });

  const unknownConfirmLink = (c: Context<AppEnv>, language: PageLanguage) =>
    renderMessage(c, 404, language, (t) => ({ title: t.unknownLinkTitle, paragraphs: [t.unknownConfirmBody] }), { private: true });
  const looksLikeConfirmToken = (token: string) => v.is(ConfirmInput, { token });

  // Only the shape is checked here: opening the link (as mail scanners do) must confirm nothing and reveal nothing.
  routes.get('/confirm/:token', async (c) => {
    const token = c.req.param('token');
    const language = negotiateLanguage(c);
    if (!looksLikeConfirmToken(token)) return unknownConfirmLink(c, language);
    const formToken = await issueFormToken(c.get('services').ctx, CONFIRM_FORM);
    return renderMessage(
      c,
      200,
      language,
      (t) => ({
        title: t.confirmTitle,
        paragraphs: [t.confirmBody],
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
      if (error instanceof TokenExpired) {
        return renderMessage(
          c,
          410,
          language,
          (t) => ({ title: t.expiredTitle, paragraphs: [t.expiredBody], link: { href: `${campaignPath(error.campaign)}?lang=${language}`, label: t.signAgain } }),
          { private: true },
        );
      }
      throw error;
    }
    return renderMessage(
      c,
      200,
      language,
      (t) => ({
        title: t.confirmedTitle,
        paragraphs: [t.confirmedBody],
        link: { href: `${campaignPath(confirmed.campaign)}?lang=${language}`, label: t.backToCampaign },
      }),
      { private: true },
    );
  });

  return routes;
}
