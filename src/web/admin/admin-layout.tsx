import type { Child } from 'hono/jsx';
import type { AdminSession } from '../../services/admin-sessions.js';
import { commonTexts, statusTexts } from './i18n/common.js';
import { layoutTexts } from './i18n/layout.js';
import { accountTexts } from './i18n/accounts.js';
import { organisationTexts } from './i18n/organisation.js';
import { dashboardLanguages, type DashboardLanguage, useTexts } from './i18n/texts.js';
import { interpolate } from '../i18n/index.js';
import { adminCssPath, adminScriptPath } from './admin-assets.js';

export type Section = 'campaigns' | 'targets' | 'templates' | 'deliveries' | 'print-queue' | 'mailings' | 'privacy' | 'abuse' | 'audit' | 'users' | 'organisation' | 'webhooks' | 'none';

type LayoutTextKey = keyof (typeof layoutTexts)['en'];

const sections: { id: Section; href: string; label: LayoutTextKey }[] = [
  { id: 'campaigns', href: '/admin/campaigns', label: 'campaigns' },
  { id: 'targets', href: '/admin/targets', label: 'targets' },
  { id: 'templates', href: '/admin/templates', label: 'templates' },
  { id: 'deliveries', href: '/admin/deliveries', label: 'deliveries' },
  { id: 'print-queue', href: '/admin/print-queue', label: 'printQueue' },
  { id: 'mailings', href: '/admin/mailings', label: 'mailings' },
  { id: 'privacy', href: '/admin/privacy', label: 'privacy' },
  { id: 'abuse', href: '/admin/abuse', label: 'abuse' },
  { id: 'audit', href: '/admin/audit', label: 'audit' },
];

/** Each language's name in itself: the switch offers a language to someone who may not read the current one. */
const languageNames: Record<DashboardLanguage, string> = { en: 'English', ja: '日本語' };

/** The same page in another language: `here` with its `lang` replaced (the choice is then kept in a cookie). */
function inLanguage(here: string, language: DashboardLanguage): string {
  const url = new URL(here, 'http://dashboard.invalid');
  url.searchParams.set('lang', language);
  return `${url.pathname}${url.search}${url.hash}`;
}

/** English / 日本語 links to the page being shown; the current one is marked, not linked away from. */
export function LanguageSwitch(props: { here: string; language: DashboardLanguage }) {
  const t = useTexts(layoutTexts);
  return (
    <nav class="languages" aria-label={t.languageSwitch}>
      <ul>
        {dashboardLanguages.map((language) => (
          <li>
            <a href={inLanguage(props.here, language)} hreflang={language} lang={language} aria-current={language === props.language ? 'true' : undefined}>
              {languageNames[language]}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

/** Owners and admins (and organisation-wide admin tokens): who manage users and the organisation profile. */
export function managesOrganisation(session: AdminSession): boolean {
  return session.principal.access.kind === 'organisation' && session.principal.scopes.includes('admin');
}

/**
 * The dashboard shell: its own stylesheet and script, never indexed, a sign-out form carrying the
 * session's form token, and (`organisationNotSet`) the banner saying the organisation is not set up.
 */
export function AdminLayout(props: {
  title: string;
  session?: AdminSession | undefined;
  section?: Section;
  language: DashboardLanguage;
  here: string;
  organisationNotSet?: boolean;
  children: Child;
}) {
  const { session } = props;
  const t = useTexts(layoutTexts);
  const accounts = useTexts(accountTexts);
  const organisation = useTexts(organisationTexts);
  return (
    <html lang={props.language}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        {/* No favicon request (and no 404 for it) on every page. */}
        <link rel="icon" href="data:," />
        <title>{interpolate(t.pageTitle, { title: props.title })}</title>
        <link rel="stylesheet" href={adminCssPath} />
        <script src={adminScriptPath} defer></script>
      </head>
      <body>
        <a class="skip" href="#main">
          {t.skipToContent}
        </a>
        <header class="bar">
          <a class="brand" href="/admin/campaigns">
            {t.dashboardName}
          </a>
          {session ? (
            <>
              <nav aria-label={t.navigation}>
                <ul>
                  {sections.map((s) => (
                    <li>
                      <a href={s.href} aria-current={props.section === s.id ? 'page' : undefined}>
                        {t[s.label]}
                      </a>
                    </li>
                  ))}
                  {managesOrganisation(session) ? (
                    <>
                      <li>
                        <a href="/admin/users" aria-current={props.section === 'users' ? 'page' : undefined}>
                          {accounts.usersTitle}
                        </a>
                      </li>
                      <li>
                        <a href="/admin/organisation" aria-current={props.section === 'organisation' ? 'page' : undefined}>
                          {organisation.title}
                        </a>
                      </li>
                      <li>
                        <a href="/admin/webhooks" aria-current={props.section === 'webhooks' ? 'page' : undefined}>
                          {t.webhooks}
                        </a>
                      </li>
                    </>
                  ) : null}
                </ul>
              </nav>
              <div class="who">
                {session.principal.kind === 'user' ? (
                  <span>
                    {accounts.signedInAs}{' '}
                    <a href="/admin/account" id="account-link">
                      <b>{session.principal.name}</b>
                    </a>
                  </span>
                ) : (
                  <span>{interpolate(t.signedInWith, { name: <b>{session.principal.name}</b> })}</span>
                )}
                <form method="post" action="/admin/logout" class="inline">
                  <CsrfField session={session} />
                  <button type="submit">{t.signOut}</button>
                </form>
              </div>
            </>
          ) : null}
          <LanguageSwitch here={props.here} language={props.language} />
        </header>
        <main id="main">
          {props.organisationNotSet ? (
            <p class="warning" id="organisation-not-set">
              {organisation.notSetBanner} <a href="/admin/organisation">{organisation.notSetBannerLink}</a>
            </p>
          ) : null}
          {props.children}
        </main>
      </body>
    </html>
  );
}

/** The hidden form token every POST form of a session carries. */
export function CsrfField(props: { session: AdminSession }) {
  return <input type="hidden" name="_csrf" value={props.session.csrfToken} />;
}

/** A POST button in its own small form (status changes, sign-out…). */
export function PostButton(props: { session: AdminSession; action: string; label: string; variant?: 'secondary' | 'danger'; fields?: Record<string, string> }) {
  return (
    <form method="post" action={props.action} class="inline">
      <CsrfField session={props.session} />
      {Object.entries(props.fields ?? {}).map(([name, value]) => (
        <input type="hidden" name={name} value={value} />
      ))}
      <button type="submit" class={props.variant}>
        {props.label}
      </button>
    </form>
  );
}

export function StatusBadge(props: { status: string }) {
  const t = useTexts(statusTexts);
  return <span class={`status status-${props.status}`}>{t[props.status as keyof typeof t] ?? props.status}</span>;
}

/** Field errors by field name (a dotted path's first segment, or the whole path). */
export type FieldErrors = Record<string, string[]>;

export function ErrorSummary(props: { errors: FieldErrors; message?: string | undefined; labels?: Record<string, string> }) {
  const entries = Object.entries(props.errors);
  if (entries.length === 0 && !props.message) return null;
  return (
    <div class="errors" role="alert" id="error-summary">
      <b>{props.message ?? useTexts(commonTexts).correctFields}</b>
      {entries.length > 0 ? (
        <ul>
          {entries.map(([field, messages]) => (
            <li>
              <a href={`#f-${field}`}>{props.labels?.[field] ?? field}</a>: {messages.join('; ')}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/** A labelled form control with its hint and errors next to it (linked with aria-describedby). */
export function Field(props: { name: string; label: string; errors: FieldErrors; hint?: string; children: (describedBy: string | undefined, invalid: boolean) => Child }) {
  const errors = props.errors[props.name] ?? [];
  const ids = [props.hint ? `h-${props.name}` : '', errors.length ? `e-${props.name}` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class={errors.length ? 'field invalid' : 'field'}>
      <label for={`f-${props.name}`}>{props.label}</label>
      {props.hint ? (
        <p class="hint" id={`h-${props.name}`}>
          {props.hint}
        </p>
      ) : null}
      {errors.length ? (
        <p class="field-error" id={`e-${props.name}`}>
          {errors.join('; ')}
        </p>
      ) : null}
      {props.children(ids, errors.length > 0)}
    </div>
  );
}

export function TextField(props: { name: string; label: string; values: Record<string, string>; errors: FieldErrors; hint?: string; type?: string; required?: boolean; multiline?: boolean; placeholder?: string }) {
  return (
    <Field name={props.name} label={props.label} errors={props.errors} hint={props.hint}>
      {(describedBy, invalid) =>
        props.multiline ? (
          <textarea id={`f-${props.name}`} name={props.name} aria-describedby={describedBy} aria-invalid={invalid ? 'true' : undefined}>
            {props.values[props.name] ?? ''}
          </textarea>
        ) : (
          <input
            id={`f-${props.name}`}
            name={props.name}
            type={props.type ?? 'text'}
            value={props.values[props.name] ?? ''}
            required={props.required}
            placeholder={props.placeholder}
            aria-describedby={describedBy}
            aria-invalid={invalid ? 'true' : undefined}
          />
        )
      }
    </Field>
  );
}

export function SelectField(props: { name: string; label: string; values: Record<string, string>; errors: FieldErrors; options: { value: string; label: string }[]; hint?: string }) {
  const current = props.values[props.name] ?? '';
  return (
    <Field name={props.name} label={props.label} errors={props.errors} hint={props.hint}>
      {(describedBy, invalid) => (
        <select id={`f-${props.name}`} name={props.name} aria-describedby={describedBy} aria-invalid={invalid ? 'true' : undefined}>
          {props.options.map((o) => (
            <option value={o.value} selected={o.value === current}>
              {o.label}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}
