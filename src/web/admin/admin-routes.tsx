import { Hono, type ErrorHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { deleteCookie } from 'hono/cookie';
import { csrf } from 'hono/csrf';
import { HTTPException } from 'hono/http-exception';
import { ServiceError } from '../../lib/service-errors.js';
import { deleteAdminSession } from '../../services/admin-sessions.js';
import { isOwnOrigin, pageHeaders } from '../page-headers.js';
import { adminAssetRoutes } from './admin-assets.js';
import { type AdminContext, type AdminEnv, requireSession, sessionCookie } from './admin-env.js';
import { accountPages, isPublicAccountPath, publicAccountRoutes } from './account-pages.js';
import { forbiddenPage, messagePage, statusOf } from './admin-page.js';
import { campaignPages } from './campaign-pages.js';
import { deliveryPages } from './delivery-pages.js';
import { letterPages } from './letter-pages.js';
import { mailingPages } from './mailing-pages.js';
import { privacyPages } from './privacy-pages.js';
import { abusePages } from './abuse-pages.js';
import { auditPages } from './audit-pages.js';
import { targetPages } from './target-pages.js';
import { isReplyUploadPage, replyPages, replyUploadBodyLimit } from './reply-pages.js';
import { invitePreviousPages } from './invite-previous.js';
import { negotiateDashboardLanguage, textsFor } from './i18n/texts.js';
import { commonTexts } from './i18n/common.js';
import { interpolate } from '../i18n/index.js';
import { clonePages } from './clone-pages.js';
import { organisationPages } from './organisation-pages.js';
import { templatePages } from './template-pages.js';
import { paperPages } from './paper-pages.js';
import { webhookPages } from './webhook-pages.js';
import { partnerPages } from './partner-pages.js';

/** Signing out; signing in lives with the accounts (account-pages.tsx). */
function signOutRoute() {
  const routes = new Hono<AdminEnv>();
  routes.post('/logout', async (c) => {
    await deleteAdminSession(c.get('services').ctx, c.var.session.id);
    const cookie = sessionCookie(c);
    deleteCookie(c, cookie.name, cookie.options);
    return c.redirect('/admin/login', 303);
  });
  return routes;
}

const handleAdminError: ErrorHandler<AdminEnv> = (error, c) => {
  // The services' own messages stay as they are (English); the page around them follows the viewer's language.
  const t = textsFor(c, commonTexts);
  if (error instanceof HTTPException && error.status === 403) return forbiddenPage(c, t.otherSite);
  if (error instanceof ServiceError) {
    const status = statusOf(error);
    return messagePage(c, status, status === 404 ? t.notFound : t.somethingNotRight, error.message);
  }
  if (error instanceof HTTPException) return messagePage(c, 400, t.badRequest, error.message || t.requestUnreadable);
  c.get('logger')?.error('unhandled error', { requestId: c.get('requestId'), error: error.name, message: error.message, stack: error.stack });
  return messagePage(c, 500, t.somethingWentWrong, interpolate(t.serverError, { requestId: c.get('requestId') ?? '' }));
};

/**
 * The organisers' dashboard under /admin: server-rendered pages over the same
 * service verbs and schemas as the API, a cookie session opened by a user's
 * sign-in (or an API token), and form tokens plus an Origin check on every POST.
 */
export function adminRoutes() {
  const admin = new Hono<AdminEnv>();
  admin.onError(handleAdminError);
  admin.route('/', adminAssetRoutes());
  admin.use(pageHeaders({ frameAncestors: "'self'" }));
  const formLimit = bodyLimit({ maxSize: 256 * 1024, onError: (c) => c.text(textsFor(c, commonTexts).formTooLarge, 413) });
  // A reply's scan is the one upload: up to 10 MiB on its own route, every other form stays small.
  admin.use((c, next) => (isReplyUploadPage(c.req.method, c.req.path) ? replyUploadBodyLimit(c, next) : formLimit(c, next)));
  admin.use(async (c, next) => {
    await next();
    if (!c.res.headers.has('Cache-Control')) c.res.headers.set('Cache-Control', 'no-store');
  });
  // Origin (or Sec-Fetch-Site) of every form POST: this origin, or the public URL's when behind a proxy.
  admin.use(
    csrf({
      origin: isOwnOrigin,
    }),
  );
  admin.use(async (c, next) => {
    c.set('language', negotiateDashboardLanguage(c));
    await next();
  });
  admin.get('/', (c) => c.redirect('/admin/campaigns', 303));
  admin.use(async (c, next) => {
    if (isPublicAccountPath(c.req.path) || c.req.path.startsWith('/admin/assets/')) return next();
    return requireSession((ctx: AdminContext, message: string) => forbiddenPage(ctx, message))(c, next);
  });
  admin.route('/', publicAccountRoutes());
  admin.route('/', signOutRoute());
  admin.route('/', accountPages());
  admin.route('/', organisationPages());
  admin.route('/', clonePages());
  admin.route('/', targetPages());
  admin.route('/', campaignPages());
  admin.route('/', letterPages());
  admin.route('/', templatePages());
  admin.route('/', deliveryPages());
  admin.route('/', mailingPages());
  admin.route('/', privacyPages());
  admin.route('/', abusePages());
  admin.route('/', auditPages());
  admin.route('/', replyPages());
  admin.route('/', invitePreviousPages());
  admin.route('/', paperPages());
  admin.route('/', webhookPages());
  admin.route('/', partnerPages());
  return admin;
}
