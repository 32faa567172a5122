import type { Context, MiddlewareHandler } from 'hono';
import { setCookie } from 'hono/cookie';
import { csrf } from 'hono/csrf';
import { HTTPException } from 'hono/http-exception';
import { limitBody } from '../../http/body-limit.js';
import type { AppEnv } from '../../http/env.js';
import { isPageLanguage, LANGUAGE_COOKIE, negotiateLanguage, type PageLanguage } from '../i18n/index.js';
import { isOwnOrigin } from '../page-headers.js';
import { renderMessage } from './render.js';

/** Form posts are a few kilobytes; anything far larger is not a person typing. */
export const MAX_FORM_BYTES = 64 * 1024;
const ONE_YEAR_SECONDS = 365 * 24 * 3600;

/** A visitor's explicit choice (`?lang=`) is remembered, so the next page keeps the language. */
export function rememberLanguageChoice(): MiddlewareHandler<AppEnv> {
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
export function forbiddenPage(c: Context<AppEnv>, language: PageLanguage, status: 400 | 403 = 403) {
  return renderMessage(c, status, language, (t) => ({ title: t.forbiddenTitle, paragraphs: [t.forbiddenBody] }), { private: true });
}

/**
 * Hono's Origin / Sec-Fetch-Site check for form posts, answered with a page
 * rather than a bare 403. PUBLIC_URL's origin counts as our own too (behind a
 * proxy the request URL may name an internal host).
 */
export function sameOriginPosts(): MiddlewareHandler<AppEnv> {
  const check = csrf({ origin: isOwnOrigin });
  return async (c, next) => {
    try {
      return await check(c, next);
    } catch (error) {
      if (error instanceof HTTPException && error.status === 403) return forbiddenPage(c, negotiateLanguage(c));
      throw error;
    }
  };
}

export function formBodyLimit(): MiddlewareHandler<AppEnv> {
  return limitBody<AppEnv>(MAX_FORM_BYTES, (c) => renderMessage(c, 413, negotiateLanguage(c), (t) => ({ title: t.tooLargeTitle, paragraphs: [t.tooLargeBody] }), { private: true }));
}
