import type { Context } from 'hono';
import type { Child } from 'hono/jsx';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppEnv } from '../../http/env.js';
import type { Organisation } from '../../letters/template/types.js';
import { publicOrganisation } from '../../services/organisation.js';
import { catalogs, type Messages, type PageLanguage } from '../i18n/index.js';
import { Layout, type PageMeta } from '../layout.js';

/**
 * The organisation as the public pages name it in `language` (src/services/organisation.ts reads
 * it at most every few seconds), or undefined while its profile is the shipped example: the pages
 * then name nobody rather than the placeholder. A failed read must not take the supporter pages
 * down; it counts as not set.
 */
export async function siteOrganisation(c: Context<AppEnv>, language: PageLanguage): Promise<Organisation | undefined> {
  const { letters, ctx } = c.get('services');
  try {
    return await publicOrganisation(ctx, letters, language);
  } catch (error) {
    c.get('logger')?.warn('organisation unavailable for the web pages', { error: String(error) });
    return undefined;
  }
}

/** Where the language switch and the alternates point: a refused sign form's page is the campaign page it came from. */
function pagePath(c: Context<AppEnv>): string {
  return c.req.method === 'POST' ? c.req.path.replace(/\/sign$/, '') : c.req.path;
}

export type PageOptions = {
  language: PageLanguage;
  meta: PageMeta;
  organisation?: Organisation | undefined;
  headers?: Record<string, string>;
  /** Where the language switch points; the request's path unless given (a page built once for every URL that reaches it). */
  path?: string;
  /** A partner's code the language switch keeps, so a supporter who changes language still signs through the partner's link. */
  ref?: string | undefined;
};

/** A full HTML page in the layout, as text. */
export async function pageHtml(c: Context<AppEnv>, options: PageOptions, body: Child): Promise<string> {
  const organisation = options.organisation === undefined ? await siteOrganisation(c, options.language) : options.organisation;
  const page = (
    <Layout language={options.language} path={options.path ?? pagePath(c)} refKept={options.ref} publicUrl={c.get('services').ctx.publicUrl} organisation={organisation?.name} meta={options.meta}>
      {body}
    </Layout>
  );
  return `<!DOCTYPE html>${await page.toString()}`;
}

/**
 * A full HTML page in the layout, made for this request only: token pages and answers to a post
 * (`meta.private`) are never stored by caches; the others (a 404, a message) vary with the
 * language negotiation. The pages every visitor shares are built once (public-pages.ts).
 */
export async function renderPage(c: Context<AppEnv>, status: ContentfulStatusCode, options: PageOptions, body: Child): Promise<Response> {
  const html = await pageHtml(c, options, body);
  const headers: Record<string, string> = options.meta.private
    ? { 'Cache-Control': 'no-store' }
    : { 'Cache-Control': 'no-cache', Vary: 'Accept-Language, Cookie' };
  return c.html(html, status, { ...headers, ...options.headers });
}

export type MessagePageProps = {
  title: string;
  paragraphs: string[];
  /** Facts shown as a list of terms and values before the form (e.g. what a confirmation records). */
  details?: { term: string; value: string }[] | undefined;
  /** A paragraph after the details, before the form. */
  note?: string | undefined;
  link?: { href: string; label: string } | undefined;
  form?: { action: string; button: string; fields: Record<string, string> } | undefined;
};

/** A title, a few paragraphs, and a link or a one-button form: thanks, confirmations and errors. */
export function MessagePage(props: MessagePageProps) {
  return (
    <>
      <h1>{props.title}</h1>
      {props.paragraphs.map((paragraph) => (
        <p>{paragraph}</p>
      ))}
      {props.details ? (
        <dl class="facts">
          {props.details.map((detail) => (
            <>
              <dt>{detail.term}</dt>
              <dd>{detail.value}</dd>
            </>
          ))}
        </dl>
      ) : null}
      {props.note ? <p>{props.note}</p> : null}
      {props.form ? (
        <form method="post" action={props.form.action}>
          {Object.entries(props.form.fields).map(([name, value]) => (
            <input type="hidden" name={name} value={value} />
          ))}
          <button type="submit">{props.form.button}</button>
        </form>
      ) : null}
      {props.link ? (
        <p>
          <a href={props.link.href}>{props.link.label}</a>
        </p>
      ) : null}
    </>
  );
}

/** A message page as a whole response. */
export function renderMessage(
  c: Context<AppEnv>,
  status: ContentfulStatusCode,
  language: PageLanguage,
  content: (t: Messages) => MessagePageProps,
  options: { private?: boolean; headers?: Record<string, string> } = {},
): Promise<Response> {
  const props = content(catalogs[language]);
  return renderPage(c, status, { language, meta: { title: props.title, private: options.private ?? false }, headers: options.headers }, <MessagePage {...props} />);
}
