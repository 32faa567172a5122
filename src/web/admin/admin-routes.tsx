import { Hono, type ErrorHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { csrf } from 'hono/csrf';
import { HTTPException } from 'hono/http-exception';
import { ServiceError } from '../../services/errors.js';
import { createAdminSession, deleteAdminSession, resolveAdminSession, SESSION_LIFETIME_MS } from '../../services/admin-sessions.js';
import { authenticateToken } from '../../services/tokens.js';
import { readFormFields } from '../form-body.js';
import { isOwnOrigin, pageHeaders } from '../page-headers.js';
import { adminAssetRoutes } from './admin-assets.js';
import { type AdminContext, type AdminEnv, requireSession, safeNext, sessionCookie } from './admin-env.js';
import { forbiddenPage, messagePage, renderPage, statusOf } from './admin-page.js';
import { campaignPages } from './campaign-pages.js';
import { deliveryPages } from './delivery-pages.js';
import { letterPages } from './letter-pages.js';
import { mailingPages } from './mailing-pages.js';
import { privacyPages } from './privacy-pages.js';
import { abusePages } from './abuse-pages.js';
import { auditPages } from './audit-pages.js';
import { clientKey } from '../../lib/ip.js';
import { negotiateDashboardLanguage } from './i18n/texts.js';
import { utcDay } from '../../lib/keyring.js';

/** Sign-in attempts per client address (keyed hash) in a window; every attempt counts, so a right guess after many wrong ones is refused too. */
const SIGN_IN_LIMIT = 10;
const SIGN_IN_WINDOW_MS = 15 * 60_000;

function LoginForm(props: { next: string; error?: string | undefined }) {
  return (
    <div class="login card">
      <h1>Sign in</h1>
      <p class="muted">Sign in to the organisers' dashboard with an API token (or the ADMIN_TOKEN setting). What you can do here follows the token's scopes, as in the API.</p>
      {props.error ? (
        <p class="error" role="alert" id="login-error">
          {props.error}
        </p>
      ) : null}
      <form method="post" action="/admin/login">
        <input type="hidden" name="next" value={props.next} />
        <div class={props.error ? 'field invalid' : 'field'}>
          <label for="f-token">API token</label>
          <input id="f-token" name="token" type="password" autocomplete="current-password" required aria-describedby={props.error ? 'login-error' : undefined} />
        </div>
        <button type="submit">Sign in</button>
      </form>
    </div>
  );
}

function authRoutes() {
  const routes = new Hono<AdminEnv>();

  routes.get('/login', async (c) => {
    const next = safeNext(c.req.query('next'));
    const services = c.get('services');
    const secret = getCookie(c, sessionCookie(c).name);
    if (secret && (await resolveAdminSession(services.ctx, secret, services.adminToken))) return c.redirect(next, 303);
    return renderPage(c, { title: 'Sign in' }, <LoginForm next={next} />);
  });

  routes.post('/login', async (c) => {
    const services = c.get('services');
    const body = (await readFormFields(c)) ?? {};
    const token = body.token?.trim() ?? '';
    const next = safeNext(body.next);
    const now = services.ctx.clock.now();
    // An IPv6 client is its /64: it could try each of its addresses in turn.
    const ipHash = await services.ctx.keys.ipHash('admin-sign-in', utcDay(now), clientKey(services.clientIp(c) ?? 'unknown'));
    const attempt = services.signLimits.rateLimiter.hit(`admin-sign-in:${ipHash}`, SIGN_IN_LIMIT, SIGN_IN_WINDOW_MS, now);
    if (!attempt.allowed) {
      const minutes = Math.ceil(attempt.retryAfterMs / 60_000);
      c.header('Retry-After', String(Math.ceil(attempt.retryAfterMs / 1000)));
      return renderPage(c, { title: 'Sign in', status: 429 }, <LoginForm next={next} error={`Too many sign-in attempts from your address. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`} />);
    }
    const principal = token && token.length <= 256 ? await authenticateToken(services.ctx, token, services.adminToken) : null;
    if (!principal) {
      return renderPage(c, { title: 'Sign in', status: 401 }, <LoginForm next={next} error="That token is not valid or has been revoked." />);
    }
    c.set('principal', principal);
    const { secret } = await createAdminSession(services.ctx, principal);
    const cookie = sessionCookie(c);
    setCookie(c, cookie.name, secret, { ...cookie.options, maxAge: SESSION_LIFETIME_MS / 1000 });
    return c.redirect(next, 303);
  });

  routes.post('/logout', async (c) => {
    await deleteAdminSession(c.get('services').ctx, c.var.session.id);
    const cookie = sessionCookie(c);
    deleteCookie(c, cookie.name, cookie.options);
    return c.redirect('/admin/login', 303);
  });

  return routes;
}

const handleAdminError: ErrorHandler<AdminEnv> = (error, c) => {
  if (error instanceof HTTPException && error.status === 403) {
    return forbiddenPage(c, 'The request came from another site (its Origin did not match this dashboard), so it was refused.');
  }
  if (error instanceof ServiceError) {
    const status = statusOf(error);
    return messagePage(c, status, status === 404 ? 'Not found' : 'Something is not right', error.message);
  }
  if (error instanceof HTTPException) return messagePage(c, 400, 'Bad request', error.message || 'The request could not be read.');
  c.get('logger')?.error('unhandled error', { requestId: c.get('requestId'), error: error.name, message: error.message, stack: error.stack });
  return messagePage(c, 500, 'Something went wrong', `Something went wrong on our side (request ${c.get('requestId')}).`);
};

/**
 * The organisers' dashboard under /admin: server-rendered pages over the same
 * service verbs and schemas as the API, a cookie session opened with an API
 * token, and form tokens plus an Origin check on every POST.
 */
export function adminRoutes() {
  const admin = new Hono<AdminEnv>();
  admin.onError(handleAdminError);
  admin.route('/', adminAssetRoutes());
  admin.use(pageHeaders({ frameAncestors: "'self'" }));
  admin.use(bodyLimit({ maxSize: 256 * 1024, onError: (c) => c.text('The form is too large.', 413) }));
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
    if (c.req.path === '/admin/login' || c.req.path.startsWith('/admin/assets/')) return next();
    return requireSession((ctx: AdminContext, message: string) => forbiddenPage(ctx, message))(c, next);
  });
  admin.route('/', authRoutes());
  admin.route('/', campaignPages());
  admin.route('/', letterPages());
  admin.route('/', deliveryPages());
  admin.route('/', mailingPages());
  admin.route('/', privacyPages());
  admin.route('/', abusePages());
  admin.route('/', auditPages());
  return admin;
}
