import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie } from 'hono/cookie';
import type { AppEnv } from '../../http/env.js';
import { type AdminSession, csrfTokenMatches, resolveAdminSession } from '../../services/admin-sessions.js';
import { hasScope, type Scope } from '../../services/tokens.js';
import { readFormFields, type FormFields } from '../form-body.js';
import { type DashboardLanguage, isDashboardLanguage, negotiateDashboardLanguage, textsFor } from './i18n/texts.js';
import { commonTexts } from './i18n/common.js';

/** The dashboard's context: the app's, plus the signed-in session and the parsed form of a POST. */
export type AdminEnv = {
  Variables: AppEnv['Variables'] & {
    session: AdminSession;
    form: FormValues;
    /** The page language (src/web/admin/i18n/texts.ts), set before any dashboard route runs. */
    language: DashboardLanguage;
  };
};
export type AdminContext = Context<AdminEnv>;

/** A submitted form: every field as text (file fields are ignored; the dashboard has none). */
export type FormValues = FormFields;

/**
 * Over https the cookie is `__Secure-signet_session`: the prefix makes browsers
 * refuse it unless it is Secure and set from https. `__Host-` would also pin it
 * to this host, but requires Path=/, which would send the session with every
 * public page and API call; a cookie limited to /admin is the smaller exposure.
 */
export function sessionCookie(c: AdminContext) {
  const secure = c.get('services').ctx.publicUrl.startsWith('https:');
  return {
    name: secure ? '__Secure-signet_session' : 'signet_session',
    options: { path: '/admin', httpOnly: true, secure, sameSite: 'Strict' as const },
  };
}

/** A `next` target after sign-in: only a path inside the dashboard, never another site. */
export function safeNext(next: string | undefined): string {
  if (!next || !/^\/admin(?:[/?#]|$)/.test(next) || /[\\\p{Cc}]/u.test(next)) return '/admin/campaigns';
  return next;
}

async function readForm(c: AdminContext): Promise<FormValues> {
  // Not a form (or a broken one): no fields, so the CSRF check refuses it.
  return (await readFormFields(c)) ?? {};
}

/**
 * Every dashboard route but the sign-in page and the assets: a live session
 * (its token not revoked), and for a POST the session's form token in `_csrf`.
 * Without a session a page goes to the sign-in page (303, coming back after),
 * the event stream answers 401 (an EventSource cannot follow a sign-in).
 */
export function requireSession(onForbidden: (c: AdminContext, message: string) => Response | Promise<Response>): MiddlewareHandler<AdminEnv> {
  return async (c, next) => {
    const services = c.get('services');
    const cookie = sessionCookie(c);
    const secret = getCookie(c, cookie.name);
    const session = secret ? await resolveAdminSession(services.ctx, secret, services.adminToken) : null;
    if (!session) {
      if (secret) deleteCookie(c, cookie.name, cookie.options);
      if (c.req.path.endsWith('/events')) return c.text('Sign in again.', 401, { 'Cache-Control': 'no-store' });
      const back = c.req.method === 'GET' ? `?next=${encodeURIComponent(safeNext(c.req.path + new URL(c.req.url).search))}` : '';
      return c.redirect(`/admin/login${back}`, 303);
    }
    c.set('session', session);
    // A signed-in user's saved language, unless this request or the language cookie chose one (?lang= was already handled).
    if (session.locale && !isDashboardLanguage(c.req.query('lang'))) c.set('language', negotiateDashboardLanguage(c, session.locale));
    // The session acts for its token or user: request logs and the audit log name it as the API's principal.
    c.set('principal', session.principal);
    if (c.req.method === 'POST') {
      const form = await readForm(c);
      if (!csrfTokenMatches(session, form._csrf)) {
        return onForbidden(c, textsFor(c, commonTexts).formTokenMismatch);
      }
      c.set('form', form);
    }
    await next();
  };
}

/** Whether the signed-in token or user holds a scope (or `admin`). */
export function can(c: AdminContext, scope: Scope): boolean {
  return hasScope(c.get('session').principal, scope);
}

/** The same scopes as the API: a page that needs `scope` refuses a session whose token lacks it, saying so. */
export function requireAdminScope(scope: Scope, onMissing: (c: AdminContext, scope: Scope) => Response | Promise<Response>): MiddlewareHandler<AdminEnv> {
  return async (c, next) => {
    if (!can(c, scope)) return onMissing(c, scope);
    await next();
  };
}
