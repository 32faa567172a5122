import type { Child } from 'hono/jsx';
import { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { clientKey } from '../../lib/ip.js';
import { utcDay } from '../../lib/keyring.js';
import { PASSWORD_MAX_LENGTH } from '../../lib/passwords.js';
import {
  acceptInvitation,
  campaignChoices,
  changePassword,
  completeTotpSignIn,
  confirmTotpSetup,
  createOwner,
  disableTotp,
  hasUsers,
  inviteUser,
  listUsers,
  openInvitation,
  openOwnerSetup,
  openPasswordReset,
  openSignInLink,
  ownAccount,
  readPendingTotp,
  removeUser,
  requestAccountLink,
  resendInvitation,
  resetPassword,
  resetUserTotp,
  setUserRoles,
  signInWithLink,
  SIGN_IN_PER_SOURCE,
  signInWithPassword,
  startTotpSetup,
  totpStatus,
  updateOwnAccount,
  type NewSession,
  type UserView,
} from '../../services/accounts.js';
import { createAdminSession, resolveAdminSession, SESSION_LIFETIME_MS } from '../../services/admin-sessions.js';
import { RateLimited, ServiceError } from '../../lib/service-errors.js';
import { organisationNotSet } from '../../services/organisation.js';
import { rememberDevice } from '../../services/sign-in-throttle.js';
import { authenticateToken, type Principal } from '../../services/tokens.js';
import { readFormFields } from '../form-body.js';
import { interpolate } from '../i18n/index.js';
import { type AdminContext, type AdminEnv, type FormValues, safeNext, sessionCookie } from './admin-env.js';
import { CsrfField, ErrorSummary, Field, type FieldErrors, SelectField, TextField } from './admin-layout.js';
import { formErrorOf, renderPage } from './admin-page.js';
import { accountTexts } from './i18n/accounts.js';
import { DASHBOARD_LANGUAGE_COOKIE, textsFor, useDashboardLanguage, useTexts } from './i18n/texts.js';
import { serviceContextOf } from '../../http/principal.js';

/** Mailed-link requests (sign-in link, password reset) per client address in a window. */
const LINK_REQUEST_LIMIT = 5;
const LINK_REQUEST_WINDOW_MS = 15 * 60_000;

/** The cookie holding the state between the password and the TOTP code (not a session: it opens nothing else). */
const TOTP_PENDING_COOKIE = 'signet_totp_pending';

/** Paths that work without a session: signing in, and the pages behind one-time links. */
export function isPublicAccountPath(path: string): boolean {
  return /^\/admin\/(?:login(?:\/(?:totp|link|token))?|forgot|(?:setup|invitation|link|reset)\/[^/]+)$/.test(path);
}

type Status = 200 | 400 | 401 | 403 | 404 | 409 | 410 | 422 | 429;

/** The client as a limit counts it: a keyed hash of its address (an IPv6 client as its /64), for one bucket and day. */
function sourceOf(c: AdminContext, bucket: string): Promise<string> {
  const services = c.get('services');
  return services.ctx.keys.ipHash(bucket, utcDay(services.ctx.clock.now()), clientKey(services.clientIp(c) ?? 'unknown'));
}

/** The wait (Retry-After) and the minutes to say, for a request over its limit. */
function waitMinutes(c: AdminContext, retryAfterMs: number): number {
  c.header('Retry-After', String(Math.ceil(retryAfterMs / 1000)));
  return Math.ceil(retryAfterMs / 60_000);
}

/** Counts one attempt from the client's address; the minutes to wait when over the limit. */
async function overLimit(c: AdminContext, bucket: string, limit: number, windowMs: number): Promise<number | null> {
  const services = c.get('services');
  const attempt = await services.signLimits.rateLimiter.hit(`${bucket}:${await sourceOf(c, bucket)}`, limit, windowMs, services.ctx.clock.now());
  return attempt.allowed ? null : waitMinutes(c, attempt.retryAfterMs);
}

function startSession(c: AdminContext, secret: string) {
  const cookie = sessionCookie(c);
  setCookie(c, cookie.name, secret, { ...cookie.options, maxAge: SESSION_LIFETIME_MS / 1000 });
}

function pendingCookieOptions(c: AdminContext) {
  const secure = c.get('services').ctx.publicUrl.startsWith('https:');
  return { path: '/admin/login', httpOnly: true, secure, sameSite: 'Strict' as const };
}

/** The user as the audit log should name them for the request that signed them in. */
function actAs(c: AdminContext, session: NewSession) {
  c.set('principal', { kind: 'user', id: session.principalId, name: session.name, scopes: [], access: { kind: 'campaigns', campaigns: new Map() } });
}

/**
 * Marks this browser as a device the user signs in from
 * (src/services/sign-in-throttle.ts): its password sign-ins then count only
 * against its own failures, whatever strangers try on the account. Sent
 * only to the sign-in pages.
 */
async function trustThisDevice(c: AdminContext, userId: string) {
  const device = await rememberDevice(c.get('services').ctx, userId, getCookie(c));
  if (!device) return;
  const secure = c.get('services').ctx.publicUrl.startsWith('https:');
  setCookie(c, device.name, device.value, { path: '/admin/login', httpOnly: true, secure, sameSite: 'Strict', maxAge: device.maxAgeMs / 1000 });
}

/** The hasher's line full for this client (its `RateLimited`) as an outcome the form can answer. */
async function unlessHasherBusy<T>(work: () => Promise<T>): Promise<T | { kind: 'busy'; retryAfterSeconds: number }> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof RateLimited) return { kind: 'busy', retryAfterSeconds: error.retryAfterSeconds };
    throw error;
  }
}

/** A user signed in in this browser: the audit's principal, the session, the device cookie. */
async function signedIn(c: AdminContext, session: NewSession) {
  actAs(c, session);
  startSession(c, session.sessionSecret);
  await trustThisDevice(c, session.principalId);
}

async function form(c: AdminContext): Promise<FormValues> {
  return (await readFormFields(c)) ?? {};
}

/** A service error on a form: its field errors, or its message. Anything else is rethrown. */
function errorsOf(error: unknown, c: AdminContext): { status: Status; errors: FieldErrors; message: string | undefined } {
  const mapped = formErrorOf(error, c);
  if (!mapped) throw error;
  return { status: mapped.status as Status, errors: mapped.errors, message: mapped.message };
}

function Alert(props: { text: string | undefined; kind?: 'error' | 'notice' }) {
  if (!props.text) return null;
  return props.kind === 'notice' ? (
    <p class="notice" role="status">
      {props.text}
    </p>
  ) : (
    <p class="error" role="alert" id="form-error">
      {props.text}
    </p>
  );
}

function PasswordField(props: { name: string; label: string; errors: FieldErrors; autocomplete: 'new-password' | 'current-password'; hint?: string }) {
  return (
    <Field name={props.name} label={props.label} errors={props.errors} {...(props.hint ? { hint: props.hint } : {})}>
      {(describedBy, invalid) => (
        <input
          id={`f-${props.name}`}
          name={props.name}
          type="password"
          autocomplete={props.autocomplete}
          required
          maxlength={PASSWORD_MAX_LENGTH}
          aria-describedby={describedBy}
          aria-invalid={invalid ? 'true' : undefined}
        />
      )}
    </Field>
  );
}

/** The frame of the sign-in steps: a card with a heading, a lead, the alerts, one form carrying `next`, and links after it. */
function SignInCard(props: { title: string; lead: string; error?: string | undefined; notice?: string | undefined; action: string; next: string; submit: string; after?: Child; children: Child }) {
  return (
    <div class="login card">
      <h1>{props.title}</h1>
      <p class="muted">{props.lead}</p>
      <Alert text={props.error} />
      <Alert text={props.notice} kind="notice" />
      <form method="post" action={props.action}>
        <input type="hidden" name="next" value={props.next} />
        {props.children}
        <button type="submit">{props.submit}</button>
      </form>
      {props.after ?? null}
    </div>
  );
}

function LoginPage(props: { next: string; email?: string; error?: string | undefined; notice?: string | undefined }) {
  const t = useTexts(accountTexts);
  return (
    <SignInCard
      title={t.signIn}
      lead={t.signInLead}
      error={props.error}
      notice={props.notice}
      action="/admin/login"
      next={props.next}
      submit={t.signIn}
      after={
        <p>
          <a href="/admin/forgot">{t.forgotPassword}</a> · <a href="/admin/login/link">{t.emailMeLink}</a> · <a href={`/admin/login/token?next=${encodeURIComponent(props.next)}`}>{t.withToken}</a>
        </p>
      }
    >
      <TextField name="email" label={t.email} type="email" values={{ email: props.email ?? '' }} errors={{}} required />
      <PasswordField name="password" label={t.password} errors={{}} autocomplete="current-password" />
    </SignInCard>
  );
}

function TokenLoginPage(props: { next: string; error?: string | undefined }) {
  const t = useTexts(accountTexts);
  return (
    <SignInCard
      title={t.withToken}
      lead={t.tokenLead}
      error={props.error}
      action="/admin/login"
      next={props.next}
      submit={t.signIn}
      after={
        <p>
          <a href="/admin/login">{t.backToSignIn}</a>
        </p>
      }
    >
      <div class={props.error ? 'field invalid' : 'field'}>
        <label for="f-token">{t.apiToken}</label>
        <input id="f-token" name="token" type="password" autocomplete="current-password" required aria-describedby={props.error ? 'form-error' : undefined} />
      </div>
    </SignInCard>
  );
}

function TotpPage(props: { next: string; error?: string | undefined }) {
  const t = useTexts(accountTexts);
  return (
    <SignInCard title={t.totpTitle} lead={t.totpLead} error={props.error} action="/admin/login/totp" next={props.next} submit={t.verify}>
      <div class="field">
        <label for="f-code">{t.totpCode}</label>
        <input id="f-code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" required />
      </div>
    </SignInCard>
  );
}

function RequestLinkPage(props: { kind: 'sign_in' | 'password_reset'; sent?: boolean; error?: string | undefined }) {
  const t = useTexts(accountTexts);
  const action = props.kind === 'sign_in' ? '/admin/login/link' : '/admin/forgot';
  return (
    <div class="login card">
      <h1>{props.kind === 'sign_in' ? t.requestLinkTitle : t.forgotTitle}</h1>
      <p class="muted">{props.kind === 'sign_in' ? t.requestLinkLead : t.forgotLead}</p>
      <Alert text={props.error} />
      {props.sent ? (
        <Alert text={t.linkSent} kind="notice" />
      ) : (
        <form method="post" action={action}>
          <TextField name="email" label={t.email} type="email" values={{}} errors={{}} required />
          <button type="submit">{t.sendLink}</button>
        </form>
      )}
      <p>
        <a href="/admin/login">{t.backToSignIn}</a>
      </p>
    </div>
  );
}

function InvalidLinkPage() {
  const t = useTexts(accountTexts);
  return (
    <div class="login card">
      <h1>{t.linkInvalidTitle}</h1>
      <p class="error" role="alert">
        {t.linkInvalid}
      </p>
      <p>
        <a href="/admin/login">{t.backToSignIn}</a>
      </p>
    </div>
  );
}

/** One form behind a one-time link: the secret stays in the path, so the POST goes back to the same address. */
function LinkFormPage(props: {
  title: string;
  lead: string;
  action: string;
  submit: string;
  fields: ('name' | 'email' | 'password' | 'locale')[];
  values: Record<string, string>;
  errors: FieldErrors;
  message?: string | undefined;
}) {
  const t = useTexts(accountTexts);
  return (
    <div class="login card">
      <h1>{props.title}</h1>
      <p class="muted">{props.lead}</p>
      <ErrorSummary errors={props.errors} message={props.message} labels={{ name: t.name, email: t.email, password: t.password }} />
      <form method="post" action={props.action}>
        {props.fields.includes('name') ? <TextField name="name" label={t.name} hint={t.nameHint} values={props.values} errors={props.errors} required /> : null}
        {props.fields.includes('email') ? <TextField name="email" label={t.email} type="email" values={props.values} errors={props.errors} required /> : null}
        {props.fields.includes('password') ? <PasswordField name="password" label={t.newPassword} hint={t.passwordHint} errors={props.errors} autocomplete="new-password" /> : null}
        {props.fields.includes('locale') ? (
          <SelectField
            name="locale"
            label={t.language}
            values={props.values}
            errors={props.errors}
            options={[
              { value: 'en', label: t.english },
              { value: 'ja', label: t.japanese },
            ]}
          />
        ) : null}
        <button type="submit">{props.submit}</button>
      </form>
    </div>
  );
}

/**
 * Signing in and the pages behind one-time links: no session needed. A GET
 * on a link only shows its form (mail scanners prefetch links); the POST
 * does what the link is for and uses it up.
 */
export function publicAccountRoutes() {
  const routes = new Hono<AdminEnv>();

  routes.get('/login', async (c) => {
    const next = safeNext(c.req.query('next'));
    const services = c.get('services');
    const secret = getCookie(c, sessionCookie(c).name);
    if (secret && (await resolveAdminSession(services.ctx, secret, services.adminToken))) return c.redirect(next, 303);
    const t = textsFor(c, accountTexts);
    // Before the owner exists nobody can sign in: say where the way in is rather than offer a form that cannot work.
    const notice = c.req.query('done') === 'reset' ? t.passwordReset : (await hasUsers(services.ctx)) ? undefined : t.noOwnerYet;
    return renderPage(c, { title: t.signIn }, <LoginPage next={next} notice={notice} />);
  });

  routes.get('/login/token', (c) => renderPage(c, { title: textsFor(c, accountTexts).withToken }, <TokenLoginPage next={safeNext(c.req.query('next'))} />));

  /** One endpoint for both forms: `token` (scripts, older setups) or `email` and `password`. */
  routes.post('/login', async (c) => {
    const services = c.get('services');
    const t = textsFor(c, accountTexts);
    const body = await form(c);
    const next = safeNext(body.next);
    if (body.token !== undefined) {
      const minutes = await overLimit(c, 'admin-sign-in', SIGN_IN_PER_SOURCE.limit, SIGN_IN_PER_SOURCE.windowMs);
      if (minutes !== null) return renderPage(c, { title: t.signIn, status: 429 }, <TokenLoginPage next={next} error={interpolate(t.tooManyAttempts, { minutes })} />);
      const token = body.token!.trim();
      const authenticated = token && token.length <= 256 ? await authenticateToken(services.ctx, token, services.adminToken) : null;
      // A partner's token reads one list through the API; the dashboard is the organisers'.
      const principal = authenticated?.access.kind === 'partner' ? null : authenticated;
      if (!principal) return renderPage(c, { title: t.withToken, status: 401 }, <TokenLoginPage next={next} error={t.tokenRefused} />);
      c.set('principal', principal);
      const { secret } = await createAdminSession(services.ctx, principal, services.adminToken);
      startSession(c, secret);
      return c.redirect(next, 303);
    }
    const attempt = { email: body.email ?? '', password: body.password ?? '', source: await sourceOf(c, 'admin-sign-in'), cookies: getCookie(c) };
    const outcome = await unlessHasherBusy(() => signInWithPassword(services.ctx, services.signLimits.rateLimiter, attempt));
    if (outcome.kind === 'busy') {
      c.header('Retry-After', String(outcome.retryAfterSeconds));
      return renderPage(c, { title: t.signIn, status: 429 }, <LoginPage next={next} email={body.email} error={t.signInBusy} />);
    }
    if (outcome.kind === 'limited') {
      const minutes = waitMinutes(c, outcome.retryAfterMs);
      return renderPage(c, { title: t.signIn, status: 429 }, <LoginPage next={next} email={body.email} error={interpolate(t.tooManyAttempts, { minutes })} />);
    }
    if (outcome.kind === 'refused') return renderPage(c, { title: t.signIn, status: 401 }, <LoginPage next={next} email={body.email} error={t.wrongPassword} />);
    if (outcome.kind === 'totp') {
      setCookie(c, TOTP_PENDING_COOKIE, outcome.pending, { ...pendingCookieOptions(c), maxAge: 300 });
      return c.redirect(`/admin/login/totp?next=${encodeURIComponent(next)}`, 303);
    }
    await signedIn(c, outcome.session);
    return c.redirect(next, 303);
  });

  routes.get('/login/totp', async (c) => {
    const t = textsFor(c, accountTexts);
    const pending = await readPendingTotp(c.get('services').ctx, getCookie(c, TOTP_PENDING_COOKIE));
    if (!pending) return renderPage(c, { title: t.signIn, status: 401 }, <LoginPage next={safeNext(c.req.query('next'))} error={t.totpExpired} />);
    return renderPage(c, { title: t.totpTitle }, <TotpPage next={safeNext(c.req.query('next'))} />);
  });

  routes.post('/login/totp', async (c) => {
    const services = c.get('services');
    const t = textsFor(c, accountTexts);
    const body = await form(c);
    const next = safeNext(body.next);
    const pending = await readPendingTotp(services.ctx, getCookie(c, TOTP_PENDING_COOKIE));
    if (!pending) return renderPage(c, { title: t.signIn, status: 401 }, <LoginPage next={next} error={t.totpExpired} />);
    const outcome = await completeTotpSignIn(services.ctx, services.signLimits.rateLimiter, pending, (body.code ?? '').slice(0, 16), await sourceOf(c, 'admin-sign-in'));
    if (outcome.kind === 'limited') {
      const minutes = waitMinutes(c, outcome.retryAfterMs);
      return renderPage(c, { title: t.totpTitle, status: 429 }, <TotpPage next={next} error={interpolate(t.tooManyAttempts, { minutes })} />);
    }
    if (outcome.kind !== 'signed-in') return renderPage(c, { title: t.totpTitle, status: 401 }, <TotpPage next={next} error={t.totpRefused} />);
    deleteCookie(c, TOTP_PENDING_COOKIE, pendingCookieOptions(c));
    await signedIn(c, outcome.session);
    return c.redirect(next, 303);
  });

  for (const [path, kind] of [
    ['/login/link', 'sign_in'],
    ['/forgot', 'password_reset'],
  ] as const) {
    routes.get(path, (c) => {
      const t = textsFor(c, accountTexts);
      return renderPage(c, { title: kind === 'sign_in' ? t.requestLinkTitle : t.forgotTitle }, <RequestLinkPage kind={kind} />);
    });
    routes.post(path, async (c) => {
      const t = textsFor(c, accountTexts);
      const title = kind === 'sign_in' ? t.requestLinkTitle : t.forgotTitle;
      const minutes = await overLimit(c, 'admin-link-request', LINK_REQUEST_LIMIT, LINK_REQUEST_WINDOW_MS);
      if (minutes !== null) return renderPage(c, { title, status: 429 }, <RequestLinkPage kind={kind} error={interpolate(t.tooManyRequests, { minutes })} />);
      const body = await form(c);
      try {
        await requestAccountLink(c.get('services').ctx, kind, body.email ?? '');
      } catch (error) {
        const { status, errors } = errorsOf(error, c);
        return renderPage(c, { title, status }, <RequestLinkPage kind={kind} error={`${t.email}: ${(errors.email ?? []).join('; ')}`} />);
      }
      c.get('services').onMailQueued();
      return renderPage(c, { title }, <RequestLinkPage kind={kind} sent />);
    });
  }

  const invalid = (c: AdminContext) => renderPage(c, { title: textsFor(c, accountTexts).linkInvalidTitle, status: 404 }, <InvalidLinkPage />);

  routes.get('/setup/:secret', async (c) => {
    const t = textsFor(c, accountTexts);
    if (!(await openOwnerSetup(c.get('services').ctx, c.req.param('secret')))) return invalid(c);
    return renderPage(
      c,
      { title: t.setupTitle },
      <LinkFormPage title={t.setupTitle} lead={t.setupLead} action={c.req.path} submit={t.createOwner} fields={['name', 'email', 'password', 'locale']} values={{ locale: c.var.language }} errors={{}} />,
    );
  });

  routes.post('/setup/:secret', async (c) => {
    const t = textsFor(c, accountTexts);
    const body = await form(c);
    try {
      const session = await createOwner(c.get('services').ctx, c.req.param('secret'), { name: body.name, email: body.email, password: body.password, locale: body.locale || 'en' });
      if (!session) return invalid(c);
      await signedIn(c, session);
      // The next step of a new installation: who the organisation is (letters and signing wait for it).
      const organisationPending = await organisationNotSet(serviceContextOf(c), c.get('services').letters);
      return c.redirect(organisationPending ? '/admin/organisation?setup=1' : '/admin/campaigns', 303);
    } catch (error) {
      const { status, errors, message } = errorsOf(error, c);
      const { password: _password, ...values } = body;
      return renderPage(
        c,
        { title: t.setupTitle, status },
        <LinkFormPage title={t.setupTitle} lead={t.setupLead} action={c.req.path} submit={t.createOwner} fields={['name', 'email', 'password', 'locale']} values={values} errors={errors} message={message} />,
      );
    }
  });

  routes.get('/invitation/:secret', async (c) => {
    const t = textsFor(c, accountTexts);
    const holder = await openInvitation(c.get('services').ctx, c.req.param('secret'));
    if (!holder) return invalid(c);
    const lead = interpolate(t.invitationLead, { email: holder.user.email });
    return renderPage(c, { title: t.invitationTitle }, <LinkFormPage title={t.invitationTitle} lead={lead} action={c.req.path} submit={t.acceptInvitation} fields={['name', 'password']} values={{ name: holder.user.name }} errors={{}} />);
  });

  routes.post('/invitation/:secret', async (c) => {
    const t = textsFor(c, accountTexts);
    const ctx = c.get('services').ctx;
    const body = await form(c);
    const holder = await openInvitation(ctx, c.req.param('secret'));
    if (!holder) return invalid(c);
    try {
      const session = await acceptInvitation(ctx, c.req.param('secret'), { name: body.name, password: body.password });
      if (!session) return invalid(c);
      await signedIn(c, session);
      // The invited user's language, unless they chose one on the page.
      return c.redirect('/admin/campaigns', 303);
    } catch (error) {
      const { status, errors, message } = errorsOf(error, c);
      const lead = interpolate(t.invitationLead, { email: holder.user.email });
      return renderPage(
        c,
        { title: t.invitationTitle, status },
        <LinkFormPage title={t.invitationTitle} lead={lead} action={c.req.path} submit={t.acceptInvitation} fields={['name', 'password']} values={{ name: body.name ?? '' }} errors={errors} message={message} />,
      );
    }
  });

  routes.get('/link/:secret', async (c) => {
    const t = textsFor(c, accountTexts);
    const holder = await openSignInLink(c.get('services').ctx, c.req.param('secret'));
    if (!holder) return invalid(c);
    const lead = interpolate(t.linkSignInLead, { email: holder.user.email });
    return renderPage(c, { title: t.linkSignInTitle }, <LinkFormPage title={t.linkSignInTitle} lead={lead} action={c.req.path} submit={t.signIn} fields={[]} values={{}} errors={{}} />);
  });

  routes.post('/link/:secret', async (c) => {
    const outcome = await signInWithLink(c.get('services').ctx, c.req.param('secret'));
    if (outcome.kind === 'refused') return invalid(c);
    if (outcome.kind === 'totp') {
      setCookie(c, TOTP_PENDING_COOKIE, outcome.pending, { ...pendingCookieOptions(c), maxAge: 300 });
      return c.redirect('/admin/login/totp', 303);
    }
    await signedIn(c, outcome.session);
    return c.redirect('/admin/campaigns', 303);
  });

  routes.get('/reset/:secret', async (c) => {
    const t = textsFor(c, accountTexts);
    const holder = await openPasswordReset(c.get('services').ctx, c.req.param('secret'));
    if (!holder) return invalid(c);
    const lead = interpolate(t.resetLead, { email: holder.user.email });
    return renderPage(c, { title: t.resetTitle }, <LinkFormPage title={t.resetTitle} lead={lead} action={c.req.path} submit={t.savePassword} fields={['password']} values={{}} errors={{}} />);
  });

  routes.post('/reset/:secret', async (c) => {
    const t = textsFor(c, accountTexts);
    const ctx = c.get('services').ctx;
    const holder = await openPasswordReset(ctx, c.req.param('secret'));
    if (!holder) return invalid(c);
    const body = await form(c);
    try {
      if (!(await resetPassword(ctx, c.req.param('secret'), { password: body.password }))) return invalid(c);
      // The link proved the mailbox: this browser signs in with the new password whatever strangers tried on the account.
      await trustThisDevice(c, holder.user.id);
      // The audit log names whose password was reset (no session is opened).
      c.set('principal', { kind: 'user', id: holder.user.id, name: holder.user.name, scopes: [], access: { kind: 'campaigns', campaigns: new Map() } });
    } catch (error) {
      const { status, errors, message } = errorsOf(error, c);
      const lead = interpolate(t.resetLead, { email: holder.user.email });
      return renderPage(c, { title: t.resetTitle, status }, <LinkFormPage title={t.resetTitle} lead={lead} action={c.req.path} submit={t.savePassword} fields={['password']} values={{}} errors={errors} message={message} />);
    }
    // Signing in again (not straight in) keeps the second factor in the way of whoever holds a reset link.
    return c.redirect('/admin/login?done=reset', 303);
  });

  return routes;
}

// ————— Pages of a signed-in session —————

function AccountPage(props: {
  session: AdminContext['var']['session'];
  account: Awaited<ReturnType<typeof ownAccount>>;
  totp: Awaited<ReturnType<typeof totpStatus>>;
  notice?: string | undefined;
  error?: string | undefined;
  errors?: FieldErrors;
}) {
  const t = useTexts(accountTexts);
  const { account, totp, session } = props;
  const errors = props.errors ?? {};
  return (
    <>
      <h1>{t.accountTitle}</h1>
      <Alert text={props.notice} kind="notice" />
      <Alert text={props.error} />
      <section class="card">
        <p>
          {t.signedInAs} <b>{account.email}</b>
          {account.orgRole ? ` (${account.orgRole === 'owner' ? t.roleOwner : t.roleAdmin})` : ''}
        </p>
        <form method="post" action="/admin/account">
          <CsrfField session={session} />
          <TextField name="name" label={t.name} values={{ name: account.name }} errors={errors} required />
          <SelectField
            name="locale"
            label={t.language}
            values={{ locale: account.locale }}
            errors={errors}
            options={[
              { value: 'en', label: t.english },
              { value: 'ja', label: t.japanese },
            ]}
          />
          <button type="submit">{t.save}</button>
        </form>
      </section>
      <section class="card">
        <h2>{t.changePassword}</h2>
        <form method="post" action="/admin/account/password">
          <CsrfField session={session} />
          <PasswordField name="current" label={t.currentPassword} errors={errors} autocomplete="current-password" />
          <PasswordField name="password" label={t.newPassword} hint={t.passwordHint} errors={errors} autocomplete="new-password" />
          <button type="submit">{t.changePassword}</button>
        </form>
      </section>
      <section class="card" id="totp">
        <h2>{t.totpTitle}</h2>
        {totp.enabled ? (
          <>
            <p>{t.totpOn}</p>
            <form method="post" action="/admin/account/totp/disable">
              <CsrfField session={session} />
              <PasswordField name="password" label={t.password} hint={t.totpDisableHint} errors={{}} autocomplete="current-password" />
              <button type="submit" class="danger">
                {t.totpDisable}
              </button>
            </form>
          </>
        ) : totp.pending ? (
          <>
            <p>{t.totpSetupLead}</p>
            <dl>
              <dt>{t.totpSecret}</dt>
              <dd>
                <code id="totp-secret">{totp.pending.secret}</code>
              </dd>
              <dt>{t.totpUri}</dt>
              <dd>
                <a href={totp.pending.uri} id="totp-uri">
                  {totp.pending.uri}
                </a>
              </dd>
            </dl>
            <form method="post" action="/admin/account/totp/confirm">
              <CsrfField session={session} />
              <div class="field">
                <label for="f-code">{t.totpCode}</label>
                <input id="f-code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" required />
              </div>
              <button type="submit">{t.totpConfirm}</button>
            </form>
          </>
        ) : (
          <>
            <p>{t.totpOff}</p>
            <form method="post" action="/admin/account/totp/start">
              <CsrfField session={session} />
              <button type="submit">{t.totpStart}</button>
            </form>
          </>
        )}
      </section>
    </>
  );
}

type CampaignChoice = { id: string; slug: string; title: string };

function RoleFields(props: { prefix: string; orgRole: string; grants: Map<string, string>; campaigns: CampaignChoice[]; canMakeOwner: boolean }) {
  const t = useTexts(accountTexts);
  const orgOptions = [
    { value: '', label: t.roleMember },
    { value: 'admin', label: t.roleAdmin },
    ...(props.canMakeOwner ? [{ value: 'owner', label: t.roleOwner }] : []),
  ];
  const campaignOptions = [
    { value: '', label: t.roleNone },
    { value: 'editor', label: t.roleEditor },
    { value: 'viewer', label: t.roleViewer },
  ];
  return (
    <>
      <div class="field">
        <label for={`f-${props.prefix}orgRole`}>{t.organisationRole}</label>
        <select id={`f-${props.prefix}orgRole`} name="orgRole">
          {orgOptions.map((o) => (
            <option value={o.value} selected={o.value === props.orgRole}>
              {o.label}
            </option>
          ))}
        </select>
      </div>
      {props.campaigns.length > 0 ? (
        <fieldset>
          <legend>{t.campaignRoles}</legend>
          <p class="hint">{t.campaignRolesHint}</p>
          {props.campaigns.map((campaign) => (
            <div class="field">
              <label for={`f-${props.prefix}role-${campaign.id}`}>{`${campaign.title} (${campaign.slug})`}</label>
              <select id={`f-${props.prefix}role-${campaign.id}`} name={`role:${campaign.id}`}>
                {campaignOptions.map((o) => (
                  <option value={o.value} selected={o.value === (props.grants.get(campaign.id) ?? '')}>
                    {o.label}
                  </option>
                ))}
              </select>
            </div>
          ))}
        </fieldset>
      ) : null}
    </>
  );
}

function UsersPage(props: {
  session: AdminContext['var']['session'];
  users: UserView[];
  campaigns: CampaignChoice[];
  canMakeOwner: boolean;
  notice?: string | undefined;
  errors?: FieldErrors;
  message?: string | undefined;
  values?: Record<string, string>;
}) {
  const t = useTexts(accountTexts);
  const roleName = (user: UserView) => (user.orgRole === 'owner' ? t.roleOwner : user.orgRole === 'admin' ? t.roleAdmin : null);
  return (
    <>
      <h1>{t.usersTitle}</h1>
      <p class="muted">{t.usersLead}</p>
      <Alert text={props.notice} kind="notice" />
      <table>
        <thead>
          <tr>
            <th>{t.userName}</th>
            <th>{t.email}</th>
            <th>{t.role}</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          {props.users.map((user) => (
            <tr id={`user-${user.id}`}>
              <td>
                {user.name}
                {user.invited ? <span class="muted"> ({t.pendingInvitation})</span> : null}
                {user.removed ? <span class="muted"> ({t.removedUser})</span> : null}
                {user.totpEnabled ? <span class="muted"> ({t.twoStep})</span> : null}
              </td>
              <td>{user.email}</td>
              <td>
                {roleName(user) ??
                  (user.campaigns.length === 0
                    ? t.noCampaignRoles
                    : user.campaigns.map((g) => `${g.slug}: ${g.role === 'editor' ? t.roleEditor : t.roleViewer}`).join(', '))}
              </td>
              <td>
                {user.removed || (user.orgRole === 'owner' && !props.canMakeOwner) ? null : (
                  <details>
                    <summary>{t.manage}</summary>
                    <form method="post" action={`/admin/users/${user.id}`}>
                      <CsrfField session={props.session} />
                      <RoleFields
                        prefix={`${user.id}-`}
                        orgRole={user.orgRole ?? ''}
                        grants={new Map(user.campaigns.map((g) => [g.campaignId, g.role]))}
                        campaigns={props.campaigns}
                        canMakeOwner={props.canMakeOwner}
                      />
                      <button type="submit">{t.saveRoles}</button>
                    </form>
                    {user.invited ? (
                      <form method="post" action={`/admin/users/${user.id}/invitation`} class="inline">
                        <CsrfField session={props.session} />
                        <button type="submit" class="secondary">
                          {t.inviteAgain}
                        </button>
                      </form>
                    ) : null}
                    {user.totpEnabled ? (
                      <form method="post" action={`/admin/users/${user.id}/totp-off`} class="inline">
                        <CsrfField session={props.session} />
                        <button type="submit" class="secondary">
                          {t.resetTotp}
                        </button>
                      </form>
                    ) : null}
                    <form method="post" action={`/admin/users/${user.id}/remove`} class="inline">
                      <CsrfField session={props.session} />
                      <button type="submit" class="danger">
                        {t.remove}
                      </button>
                    </form>
                  </details>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <section class="card">
        <h2>{t.inviteTitle}</h2>
        <p class="muted">{t.inviteLead}</p>
        <ErrorSummary errors={props.errors ?? {}} message={props.message} labels={{ email: t.email, name: t.userName, campaigns: t.campaignRoles, orgRole: t.organisationRole }} />
        <form method="post" action="/admin/users">
          <CsrfField session={props.session} />
          <TextField name="email" label={t.email} type="email" values={props.values ?? {}} errors={props.errors ?? {}} required />
          <TextField name="name" label={t.userName} hint={t.inviteeNameHint} values={props.values ?? {}} errors={props.errors ?? {}} />
          <SelectField
            name="locale"
            label={t.emailLanguage}
            // The invitee most likely reads the inviter's language: a Japanese dashboard invites in Japanese.
            values={{ locale: useDashboardLanguage(), ...props.values }}
            errors={{}}
            options={[
              { value: 'en', label: t.english },
              { value: 'ja', label: t.japanese },
            ]}
          />
          <RoleFields prefix="new-" orgRole={props.values?.orgRole ?? ''} grants={new Map()} campaigns={props.campaigns} canMakeOwner={props.canMakeOwner} />
          <button type="submit">{t.invite}</button>
        </form>
      </section>
    </>
  );
}

/** The roles a users-page form chose: `orgRole` and one `role:<campaign id>` select per campaign. */
function rolesOf(body: FormValues) {
  const orgRole = body.orgRole === 'owner' || body.orgRole === 'admin' ? body.orgRole : null;
  const campaigns = Object.entries(body)
    .filter(([key, value]) => key.startsWith('role:') && value !== '')
    .map(([key, role]) => ({ campaignId: key.slice('role:'.length), role }));
  return { orgRole, campaigns };
}

const userNotices = { invited: 'invited', 'invited-again': 'invitedAgain', roles: 'rolesSaved', removed: 'removed', totp: 'totpReset' } as const;
const accountNotices = { saved: 'saved', password: 'passwordChanged', 'totp-on': 'totpEnabled', 'totp-off': 'totpDisabled' } as const;

/** A signed-in user's account page, and the users page of owners and admins. */
export function accountPages() {
  const routes = new Hono<AdminEnv>();

  const userOnly = (c: AdminContext) => {
    const t = textsFor(c, accountTexts);
    return renderPage(c, { title: t.accountTitle, status: 403 }, <Alert text={t.tokenAccount} />);
  };

  const showAccount = async (c: AdminContext, extra: { notice?: string; error?: string; errors?: FieldErrors; status?: Status } = {}) => {
    const session = c.var.session;
    const ctx = c.get('services').ctx;
    const t = textsFor(c, accountTexts);
    const [account, totp] = await Promise.all([ownAccount(ctx, session.principal.id), totpStatus(ctx, session.principal.id)]);
    return renderPage(c, { title: t.accountTitle, status: extra.status ?? 200 }, <AccountPage session={session} account={account} totp={totp} notice={extra.notice} error={extra.error} errors={extra.errors} />);
  };

  routes.get('/account', (c) => {
    if (c.var.session.principal.kind !== 'user') return userOnly(c);
    const done = c.req.query('done') as keyof typeof accountNotices | undefined;
    const t = textsFor(c, accountTexts);
    return showAccount(c, { ...(done && done in accountNotices ? { notice: t[accountNotices[done]] } : {}) });
  });

  routes.post('/account', async (c) => {
    const principal = c.var.session.principal;
    if (principal.kind !== 'user') return userOnly(c);
    try {
      await updateOwnAccount(c.get('services').ctx, principal.id, { name: c.var.form.name, locale: c.var.form.locale });
    } catch (error) {
      const { status, errors, message } = errorsOf(error, c);
      return showAccount(c, { status, errors, ...(message ? { error: message } : {}) });
    }
    // The language just chosen wins over an earlier ?lang= choice remembered in the cookie.
    const secure = new URL(c.req.url).protocol === 'https:';
    setCookie(c, DASHBOARD_LANGUAGE_COOKIE, c.var.form.locale!, { path: '/admin', sameSite: 'Lax', secure, maxAge: 365 * 86_400 });
    return c.redirect('/admin/account?done=saved', 303);
  });

  routes.post('/account/password', async (c) => {
    const session = c.var.session;
    if (session.principal.kind !== 'user') return userOnly(c);
    const t = textsFor(c, accountTexts);
    try {
      const changed = await changePassword(c.get('services').ctx, session.principal.id, session.id, { current: c.var.form.current ?? '', password: c.var.form.password ?? '' });
      if (!changed) return showAccount(c, { status: 422, error: t.currentPasswordWrong, errors: { current: [t.currentPasswordWrong] } });
      // The new password ended every device cookie of the account; this browser keeps being one.
      await trustThisDevice(c, session.principal.id);
    } catch (error) {
      const { status, errors, message } = errorsOf(error, c);
      return showAccount(c, { status, errors, ...(message ? { error: message } : {}) });
    }
    return c.redirect('/admin/account?done=password', 303);
  });

  routes.post('/account/totp/start', async (c) => {
    const principal = c.var.session.principal;
    if (principal.kind !== 'user') return userOnly(c);
    await startTotpSetup(c.get('services').ctx, principal.id);
    return c.redirect('/admin/account#totp', 303);
  });

  routes.post('/account/totp/confirm', async (c) => {
    const principal = c.var.session.principal;
    if (principal.kind !== 'user') return userOnly(c);
    if (!(await confirmTotpSetup(c.get('services').ctx, principal.id, (c.var.form.code ?? '').slice(0, 16)))) {
      return showAccount(c, { status: 422, error: textsFor(c, accountTexts).totpRefused });
    }
    return c.redirect('/admin/account?done=totp-on', 303);
  });

  routes.post('/account/totp/disable', async (c) => {
    const principal = c.var.session.principal;
    if (principal.kind !== 'user') return userOnly(c);
    if (!(await disableTotp(c.get('services').ctx, principal.id, c.var.form.password ?? ''))) {
      return showAccount(c, { status: 422, error: textsFor(c, accountTexts).currentPasswordWrong });
    }
    return c.redirect('/admin/account?done=totp-off', 303);
  });

  const showUsers = async (c: AdminContext, extra: { notice?: string; errors?: FieldErrors; message?: string | undefined; values?: Record<string, string>; status?: Status } = {}) => {
    const ctx = serviceContextOf(c);
    const principal = c.var.session.principal;
    const t = textsFor(c, accountTexts);
    const [users, campaigns] = await Promise.all([listUsers(ctx, principal), campaignChoices(ctx, principal)]);
    const canMakeOwner = principal.kind === 'token' || c.var.session.orgRole === 'owner';
    return renderPage(
      c,
      { title: t.usersTitle, status: extra.status ?? 200, section: 'users' },
      <UsersPage session={c.var.session} users={users} campaigns={campaigns} canMakeOwner={canMakeOwner} notice={extra.notice} errors={extra.errors} message={extra.message} values={extra.values} />,
    );
  };

  routes.get('/users', (c) => {
    const done = c.req.query('done') as keyof typeof userNotices | undefined;
    const t = textsFor(c, accountTexts);
    return showUsers(c, done && done in userNotices ? { notice: t[userNotices[done]] } : {});
  });

  routes.post('/users', async (c) => {
    const body = c.var.form;
    const principal: Principal = c.var.session.principal;
    let invited: { userId: string };
    try {
      invited = await inviteUser(serviceContextOf(c), principal, { email: body.email ?? '', ...(body.name ? { name: body.name } : {}), locale: body.locale === 'ja' ? 'ja' : 'en', ...rolesOf(body) });
    } catch (error) {
      const { status, errors, message } = errorsOf(error, c);
      const { _csrf: _ignored, ...values } = body;
      if (status === 403) throw error;
      return showUsers(c, { status, errors, message, values });
    }
    c.get('services').onMailQueued();
    return c.redirect(`/admin/users?done=invited#user-${invited.userId}`, 303);
  });

  routes.post('/users/:id', async (c) => {
    try {
      await setUserRoles(serviceContextOf(c), c.var.session.principal, c.req.param('id'), rolesOf(c.var.form));
    } catch (error) {
      if (!(error instanceof ServiceError) || error.code === 'FORBIDDEN' || error.code === 'NOT_FOUND') throw error;
      const { status, errors, message } = errorsOf(error, c);
      return showUsers(c, { status, errors, message: message ?? Object.values(errors).flat().join('; ') });
    }
    return c.redirect('/admin/users?done=roles', 303);
  });

  routes.post('/users/:id/invitation', async (c) => {
    try {
      await resendInvitation(serviceContextOf(c), c.var.session.principal, c.req.param('id'));
    } catch (error) {
      if (!(error instanceof ServiceError) || error.code === 'FORBIDDEN' || error.code === 'NOT_FOUND') throw error;
      const { status, message } = errorsOf(error, c);
      return showUsers(c, { status, message });
    }
    c.get('services').onMailQueued();
    return c.redirect('/admin/users?done=invited-again', 303);
  });

  routes.post('/users/:id/totp-off', async (c) => {
    await resetUserTotp(serviceContextOf(c), c.var.session.principal, c.req.param('id'));
    return c.redirect('/admin/users?done=totp', 303);
  });

  routes.post('/users/:id/remove', async (c) => {
    try {
      await removeUser(serviceContextOf(c), c.var.session.principal, c.req.param('id'));
    } catch (error) {
      if (!(error instanceof ServiceError) || error.code === 'FORBIDDEN' || error.code === 'NOT_FOUND') throw error;
      const { status, message } = errorsOf(error, c);
      return showUsers(c, { status, message });
    }
    return c.redirect('/admin/users?done=removed', 303);
  });

  return routes;
}
