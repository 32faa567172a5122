import type { Context } from 'hono';
import type { Child } from 'hono/jsx';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppEnv } from '../../http/env.js';
import { siteStylesheet } from '../assets/index.js';
import { catalogs, htmlLang, isPageLanguage, type Messages, type PageLanguage } from '../i18n/index.js';
import { CampaignProgress, campaignTexts, ErrorSummary, fieldLabels, SignForm, signingNotice, type CampaignPageProps } from './campaign-page.js';
import { MessagePage, type MessagePageProps } from './render.js';
import type { NextStepOffer } from '../../services/next-step.js';
import { NextStepBlock } from './next-step.js';

/**
 * The embed's document: no site header, language switch or footer (the host page has its own),
 * kept out of search engines (the campaign page is the one to find).
 */
function EmbedDocument(props: { language: PageLanguage; title: string; children?: Child }) {
  return (
    <html lang={htmlLang[props.language]}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title}</title>
        <meta name="robots" content="noindex" />
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href={siteStylesheet.path} />
      </head>
      <body class="embed">
        <main id="main" tabindex={-1}>
          {props.children}
        </main>
      </body>
    </html>
  );
}

/** An embed page as text. */
export async function embedHtml(page: { language: PageLanguage; title: string }, body: Child): Promise<string> {
  return `<!DOCTYPE html>${await (<EmbedDocument language={page.language} title={page.title}>{body}</EmbedDocument>).toString()}`;
}

/**
 * An embed page as a response, made for this request only (the pages every visitor shares are
 * built once: public-pages.ts); the pages after a post are never stored.
 */
export async function renderEmbed(
  c: Context<AppEnv>,
  status: ContentfulStatusCode,
  page: { language: PageLanguage; title: string; private: boolean; headers?: Record<string, string> | undefined },
  body: Child,
): Promise<Response> {
  const html = await embedHtml(page, body);
  const caching: Record<string, string> = page.private ? { 'Cache-Control': 'no-store' } : { 'Cache-Control': 'no-cache', Vary: 'Accept-Language, Cookie' };
  return c.html(html, status, { ...caching, ...page.headers });
}

/** A message (thanks, a refused post, too many requests) inside the frame. */
export function renderEmbedMessage(
  c: Context<AppEnv>,
  status: ContentfulStatusCode,
  language: PageLanguage,
  content: (t: Messages) => MessagePageProps,
  options: { headers?: Record<string, string> } = {},
): Promise<Response> {
  const props = content(catalogs[language]);
  return renderEmbed(c, status, { language, title: props.title, private: true, headers: options.headers }, <MessagePage {...props} />);
}

/** Links that leave the frame open in a new tab, and say so to screen readers. */
function OutsideLink(props: { href: string; label: string; t: Messages }) {
  return (
    <a href={props.href} target="_blank" rel="noopener">
      {props.label}
      <span class="visually-hidden"> {props.t.shareNewTab}</span>
    </a>
  );
}

/**
 * `/c/:slug/embed`: the title, the count and the signing form (the campaign page's own, posting
 * to `/c/:slug/embed/sign`), with a link to the whole campaign page.
 */
export function EmbedPage(props: CampaignPageProps) {
  const { t, language, campaign, state } = props;
  const texts = campaignTexts(campaign, language);
  const textLang = isPageLanguage(texts.language) ? htmlLang[texts.language] : texts.language;
  return (
    <>
      {state === 'open' ? <ErrorSummary errors={props.form.errors} t={t} labels={fieldLabels(t)} /> : null}
      <h1 lang={textLang}>{texts.title}</h1>
      <CampaignProgress t={t} language={language} campaign={campaign} />
      <p>
        <OutsideLink href={props.shareUrl} label={t.embedFullPage} t={t} />
      </p>
      {state === 'open' ? <SignForm {...props} embedded /> : <p class="notice">{signingNotice(t, state)}</p>}
    </>
  );
}

/** After signing in the frame: check your email, and the share links. */
export function EmbedThanks(props: { t: Messages; language: PageLanguage; offer: NextStepOffer; share: { url: string; title: string } }) {
  const { t } = props;
  return (
    <>
      <MessagePage title={t.thanksTitle} paragraphs={[t.thanksBody, t.thanksSpam]} />
      <NextStepBlock t={t} language={props.language} offer={props.offer} share={props.share} newTab />
    </>
  );
}
