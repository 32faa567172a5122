import type { Child } from 'hono/jsx';
import * as v from 'valibot';
import { Conflict, Forbidden, NotFound, RateLimited, ServiceError, Unprocessable, ValidationFailed } from '../../services/errors.js';
import type { Scope } from '../../services/tokens.js';
import type { AdminContext } from './admin-env.js';
import { DashboardLanguageContext } from './i18n/texts.js';
import { AdminLayout, type FieldErrors, type Section } from './admin-layout.js';

type PageOptions = { title: string; section?: Section; status?: 200 | 400 | 401 | 403 | 404 | 409 | 410 | 422 | 429 | 500 };

/** A full dashboard page (never cached: it can hold personal data). */
export function renderPage(c: AdminContext, options: PageOptions, content: Child): Response | Promise<Response> {
  const session = c.var.session as AdminContext['var']['session'] | undefined;
  const language = c.var.language ?? 'en';
  return c.html(
    <DashboardLanguageContext.Provider value={language}>
      <AdminLayout title={options.title} session={session} section={options.section ?? 'none'} language={language}>
        {content}
      </AdminLayout>
    </DashboardLanguageContext.Provider>,
    options.status ?? 200,
    { 'Cache-Control': 'no-store' },
  );
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
      {back ? <a href={back.href}>{back.label}</a> : <a href="/admin/campaigns">Back to the campaigns</a>}
    </>,
  );
}

export function forbiddenPage(c: AdminContext, message: string) {
  return messagePage(c, 403, 'Not allowed', message);
}

export function missingScopePage(c: AdminContext, scope: Scope) {
  const session = c.var.session;
  return messagePage(
    c,
    403,
    'Not allowed with this token',
    `The token you signed in with (“${session.principal.name}”) does not have the “${scope}” scope, which this page needs. Sign out and sign in with a token that has it, or ask an administrator for one.`,
  );
}

/** The HTTP status a service error gets on a page. */
export function statusOf(error: ServiceError): NonNullable<PageOptions['status']> {
  if (error instanceof NotFound) return 404;
  if (error instanceof Forbidden) return 403;
  if (error instanceof RateLimited) return 429;
  if (error instanceof ValidationFailed || error instanceof Unprocessable) return 422;
  if (error instanceof Conflict) return 409;
  if (error.code === 'LETTER_FILE_MISSING') return 410;
  if (error.code === 'NOT_FOUND' || error.code === 'TEMPLATE_NOT_FOUND') return 404;
  return 400;
}

function addError(errors: FieldErrors, path: string, message: string) {
  // `targetIds.0` → `targetIds`: an error on an item belongs to the list's field.
  const field = path.replace(/\.\d+(?=\.|$)/g, '') || '_';
  (errors[field] ??= []).push(message);
}

/** valibot issues as errors by field. */
export function issuesToErrors(issues: readonly v.BaseIssue<unknown>[]): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of issues) addError(errors, v.getDotPath(issue) ?? '', issue.message);
  return errors;
}

/**
 * A service error as a form shows it: field errors where the error names
 * fields (validation details, a taken slug, a time in a DST gap), else a
 * message at the top. Null for anything that is not a service error.
 */
export function formErrorOf(error: unknown): { status: NonNullable<PageOptions['status']>; errors: FieldErrors; message: string | undefined } | null {
  if (!(error instanceof ServiceError)) return null;
  const errors: FieldErrors = {};
  const details = error.details;
  if (Array.isArray(details)) {
    for (const d of details) if (d && typeof d === 'object' && typeof d.path === 'string' && typeof d.message === 'string') addError(errors, d.path, d.message);
  } else if (details && typeof details === 'object' && typeof (details as { path?: unknown }).path === 'string') {
    addError(errors, (details as { path: string }).path, error.message);
  }
  const status = error instanceof ValidationFailed ? 422 : statusOf(error);
  return { status, errors, message: Object.keys(errors).length ? undefined : error.message };
}

/** Field values to put back in a form: the submitted text minus the form token. */
export function keptValues(form: Record<string, string>): Record<string, string> {
  const { _csrf: _ignored, ...values } = form;
  return values;
}

/** Short fixed notices after a redirect (`?done=`), so no link can put its own words on a page. */
export const notices: Record<string, string> = {
  created: 'Created.',
  saved: 'Saved.',
  opened: 'The campaign is open.',
  closed: 'The campaign is closed.',
  archived: 'The campaign is archived.',
  attached: 'Target attached.',
  detached: 'Target removed from the campaign.',
  'target-created': 'Target created and attached.',
  'target-saved': 'Target saved.',
  generated: 'Letters generated.',
  delivery: 'Delivery created.',
  'delivery-updated': 'Delivery updated.',
  scheduled: 'Mailing scheduled.',
  paused: 'Mailing paused.',
  resumed: 'Mailing resumed.',
  cancelled: 'Mailing cancelled.',
  erased: 'The address was erased; the first row below records it.',
};

export function Notice(props: { done: string | undefined }) {
  const text = props.done ? notices[props.done] : undefined;
  return text ? (
    <p class="notice" role="status">
      {text}
    </p>
  ) : null;
}

export function formatTime(iso: string | null, timeZone: string): string {
  if (!iso) return '—';
  return new Intl.DateTimeFormat('en-GB', { timeZone, dateStyle: 'medium', timeStyle: 'short', hourCycle: 'h23' }).format(new Date(iso)) + ` (${timeZone})`;
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
