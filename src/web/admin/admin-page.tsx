import type { Child } from 'hono/jsx';
import type { Context } from 'hono';
import * as v from 'valibot';
import { Conflict, Forbidden, NotFound, RateLimited, ServiceError, Unprocessable, ValidationFailed } from '../../lib/service-errors.js';
import type { Scope } from '../../services/tokens.js';
import type { AdminContext } from './admin-env.js';
import { interpolate } from '../i18n/index.js';
import { commonTexts, noticeTexts } from './i18n/common.js';
import { fieldMessage } from './i18n/field-messages.js';
import { DashboardLanguageContext, type DashboardLanguage, formatDateTime, textsFor, useTexts } from './i18n/texts.js';
import { safeNext } from './admin-env.js';
import { AdminLayout, type FieldErrors, managesOrganisation, type Section } from './admin-layout.js';
import { organisationNotSet } from '../../services/organisation.js';
import { serviceContextOf } from '../../http/principal.js';

type PageOptions = { title: string; section?: Section; status?: 200 | 400 | 401 | 403 | 404 | 409 | 410 | 422 | 429 | 500 };

/**
 * A full dashboard page (never cached: it can hold personal data). Owners and admins see, on every
 * page but the organisation form itself, a banner while the organisation profile is the shipped example.
 */
export async function renderPage(c: AdminContext, options: PageOptions, content: Child): Promise<Response> {
  const session = c.var.session as AdminContext['var']['session'] | undefined;
  const language = c.var.language ?? 'en';
  const banner = session !== undefined && options.section !== 'organisation' && managesOrganisation(session) && (await organisationNotSetFor(c));
  return c.html(
    <DashboardLanguageContext.Provider value={language}>
      <AdminLayout
        title={options.title}
        session={session}
        section={options.section ?? 'none'}
        language={language}
        here={pageAddress(c)}
        organisationNotSet={banner}
      >
        {content}
      </AdminLayout>
    </DashboardLanguageContext.Provider>,
    options.status ?? 200,
    { 'Cache-Control': 'no-store' },
  );
}

/** Whether the organisation profile is still the shipped example; a failed read shows no banner rather than no page. */
async function organisationNotSetFor(c: AdminContext): Promise<boolean> {
  try {
    return await organisationNotSet(serviceContextOf(c), c.get('services').letters);
  } catch (error) {
    c.get('logger')?.warn('organisation profile unavailable for the dashboard banner', { error: String(error) });
    return false;
  }
}

/**
 * Where the language switch leads: this page for a GET; after a POST (a form
 * shown again with its errors) the page the form was on, as a POST address
 * may have no page of its own.
 */
function pageAddress(c: AdminContext): string {
  const url = new URL(c.req.url);
  if (c.req.method === 'GET') return url.pathname + url.search;
  const referer = c.req.header('referer');
  const from = referer && URL.canParse(referer) ? new URL(referer) : null;
  return safeNext(from && from.origin === url.origin ? from.pathname + from.search : url.pathname);
}

export function messagePage(c: AdminContext, status: NonNullable<PageOptions['status']>, title: string, message: string, back?: { href: string; label: string }) {
  return renderPage(
    c,
    { title, status },
    <>
      <h1>{title}</h1>
      <p class={status >= 400 ? 'error' : 'notice'} role={status >= 400 ? 'alert' : undefined}>
        {message}
      </p>
      {back ? <a href={back.href}>{back.label}</a> : <a href="/admin/campaigns">{textsFor(c, commonTexts).backToCampaigns}</a>}
    </>,
  );
}

export function forbiddenPage(c: AdminContext, message: string) {
  return messagePage(c, 403, textsFor(c, commonTexts).notAllowed, message);
}

export function missingScopePage(c: AdminContext, scope: Scope) {
  const session = c.var.session;
  const t = textsFor(c, commonTexts);
  return messagePage(c, 403, t.notAllowedWithToken, interpolate(t.missingScope, { name: session.principal.name, scope }));
}

/** The HTTP status a service error gets on a page. */
export function statusOf(error: ServiceError): NonNullable<PageOptions['status']> {
  if (error instanceof NotFound) return 404;
  if (error instanceof Forbidden) return 403;
  if (error instanceof RateLimited) return 429;
  if (error instanceof ValidationFailed || error instanceof Unprocessable) return 422;
  if (error instanceof Conflict) return 409;
  if (error.code === 'LETTER_FILE_MISSING' || error.code === 'LETTER_WITHDRAWN') return 410;
  if (error.code === 'NOT_FOUND' || error.code === 'TEMPLATE_NOT_FOUND') return 404;
  return 400;
}

/** The language the dashboard answers `c` in (set by its language middleware). */
function languageOf(c: Context): DashboardLanguage {
  return (c.get('language') as DashboardLanguage | undefined) ?? 'en';
}

function addError(errors: FieldErrors, path: string, message: string, language: DashboardLanguage) {
  // `targetIds.0` → `targetIds`: an error on an item belongs to the list's field.
  const field = path.replace(/\.\d+(?=\.|$)/g, '') || '_';
  const shown = fieldMessage(language, message);
  // Two checks of one field can say the same (a pattern and a URL check): once is enough.
  const list = (errors[field] ??= []);
  if (!list.includes(shown)) list.push(shown);
}

/** valibot issues as errors by field. */
export function issuesToErrors(issues: readonly v.BaseIssue<unknown>[], c: Context): FieldErrors {
  const errors: FieldErrors = {};
  const language = languageOf(c);
  for (const issue of issues) addError(errors, v.getDotPath(issue) ?? '', issue.message, language);
  return errors;
}

/**
 * A service error as a form shows it: field errors where the error names
 * fields (validation details, a taken slug, a time in a DST gap), else a
 * message at the top. Null for anything that is not a service error, and for
 * one about the page rather than the form (not found, not allowed: a viewer
 * submitting an edit form): those are thrown on and answered as error pages
 * with their own status (404, 403), never as a form to correct.
 */
export function formErrorOf(error: unknown, c: Context): { status: NonNullable<PageOptions['status']>; errors: FieldErrors; message: string | undefined } | null {
  if (!(error instanceof ServiceError) || error instanceof NotFound || error instanceof Forbidden) return null;
  const errors: FieldErrors = {};
  const language = languageOf(c);
  const details = error.details;
  if (Array.isArray(details)) {
    for (const d of details) if (d && typeof d === 'object' && typeof d.path === 'string' && typeof d.message === 'string') addError(errors, d.path, d.message, language);
  } else if (details && typeof details === 'object' && typeof (details as { path?: unknown }).path === 'string') {
    addError(errors, (details as { path: string }).path, error.message, language);
  }
  const status = error instanceof ValidationFailed ? 422 : statusOf(error);
  return { status, errors, message: Object.keys(errors).length ? undefined : fieldMessage(language, error.message) };
}

/** Field values to put back in a form: the submitted text minus the form token. */
export function keptValues(form: Record<string, string>): Record<string, string> {
  const { _csrf: _ignored, ...values } = form;
  return values;
}

/** Short fixed notices after a redirect (`?done=`, from noticeTexts), so no link can put its own words on a page. */
export function Notice(props: { done: string | undefined }) {
  const notices = useTexts(noticeTexts);
  const text = props.done && Object.hasOwn(notices, props.done) ? notices[props.done as keyof typeof notices] : undefined;
  return text ? (
    <p class="notice" role="status">
      {text}
    </p>
  ) : null;
}

/** An instant in the viewer's language and in `timeZone`, or a dash for none. */
export function formatTime(language: DashboardLanguage, iso: string | null, timeZone: string): string {
  return iso ? formatDateTime(language, iso, timeZone) : '—';
}

/** Common IANA zones for the selects, Asia/Tokyo first. */
export const commonTimeZones = [
  'Asia/Tokyo',
  'UTC',
  'Asia/Seoul',
  'Asia/Shanghai',
  'Asia/Taipei',
  'Asia/Hong_Kong',
  'Asia/Singapore',
  'Asia/Bangkok',
  'Asia/Kolkata',
  'Australia/Sydney',
  'Pacific/Auckland',
  'Europe/London',
  'Europe/Paris',
  'Europe/Berlin',
  'America/New_York',
  'America/Chicago',
  'America/Denver',
  'America/Los_Angeles',
  'America/Sao_Paulo',
];

export function timeZoneOptions(current: string | undefined) {
  const zones = current && !commonTimeZones.includes(current) ? [current, ...commonTimeZones] : commonTimeZones;
  return zones.map((zone) => ({ value: zone, label: zone }));
}
