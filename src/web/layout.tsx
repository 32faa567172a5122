import type { Child } from 'hono/jsx';
import { siteStylesheet } from './assets/index.js';
import { catalogs, htmlLang, interpolate, ogLocale, pageLanguages, type Messages, type PageLanguage } from './i18n/index.js';

export type PageMeta = {
  /** The document title (the h1's text, usually). */
  title: string;
  description?: string | undefined;
  /** Token pages: kept out of search engines, caches and Referer headers. */
  private?: boolean;
  /** Open Graph / Twitter card for pages worth sharing (the campaign page). */
  share?: { title: string; description: string; siteName: string | undefined; image?: ShareImage | undefined } | undefined;
};

/** The page's Open Graph card (src/web/og-image/): an absolute URL, its size in pixels and a text alternative. */
export type ShareImage = { url: string; width: number; height: number; alt: string };

export type LayoutProps = {
  language: PageLanguage;
  /** The page's path without query: the language switch and the alternates point at it with `?lang=`. */
  path: string;
  /** A partner's code the language switch carries on (`&ref=`); the alternates stay the plain page's. */
  refKept?: string | undefined;
  /** PUBLIC_URL without a trailing slash. */
  publicUrl: string;
  /** The organisation running the site (letters/organisation.json), for the header and footer. */
  organisation: string | undefined;
  meta: PageMeta;
  children?: Child;
};

const languageHref = (path: string, language: PageLanguage, ref?: string) => `${path}?lang=${language}${ref ? `&ref=${encodeURIComponent(ref)}` : ''}`;

function LanguageSwitch(props: { current: PageLanguage; path: string; t: Messages; refKept?: string | undefined }) {
  return (
    <nav class="language-switch" aria-label={props.t.languageNav}>
      <ul>
        {pageLanguages.map((language) => (
          <li>
            <a
              href={languageHref(props.path, language, props.refKept)}
              hreflang={htmlLang[language]}
              lang={htmlLang[language]}
              aria-current={language === props.current ? 'page' : undefined}
            >
              {catalogs[language].languageName}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

/** Every supporter page: one stylesheet, no script, a skip link, the language switch, one `main`. */
export function Layout(props: LayoutProps) {
  const { language, path, publicUrl, meta } = props;
  const t = catalogs[language];
  const url = `${publicUrl}${path}`;
  return (
    <html lang={htmlLang[language]}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{meta.title}</title>
        {meta.description ? <meta name="description" content={meta.description} /> : null}
        {meta.private ? (
          <>
            <meta name="robots" content="noindex, nofollow" />
            <meta name="referrer" content="no-referrer" />
          </>
        ) : (
          <>
            <link rel="canonical" href={languageHref(url, language)} />
            {pageLanguages.map((other) => (
              <link rel="alternate" hreflang={htmlLang[other]} href={languageHref(url, other)} />
            ))}
            <link rel="alternate" hreflang="x-default" href={url} />
          </>
        )}
        {meta.share ? (
          <>
            <meta property="og:type" content="website" />
            <meta property="og:title" content={meta.share.title} />
            <meta property="og:description" content={meta.share.description} />
            <meta property="og:url" content={languageHref(url, language)} />
            {meta.share.siteName ? <meta property="og:site_name" content={meta.share.siteName} /> : null}
            <meta property="og:locale" content={ogLocale[language]} />
            {pageLanguages
              .filter((other) => other !== language)
              .map((other) => (
                <meta property="og:locale:alternate" content={ogLocale[other]} />
              ))}
            {meta.share.image ? (
              <>
                <meta property="og:image" content={meta.share.image.url} />
                <meta property="og:image:type" content="image/png" />
                <meta property="og:image:width" content={String(meta.share.image.width)} />
                <meta property="og:image:height" content={String(meta.share.image.height)} />
                <meta property="og:image:alt" content={meta.share.image.alt} />
                <meta name="twitter:image" content={meta.share.image.url} />
                <meta name="twitter:image:alt" content={meta.share.image.alt} />
              </>
            ) : null}
            <meta name="twitter:card" content={meta.share.image ? 'summary_large_image' : 'summary'} />
            <meta name="twitter:title" content={meta.share.title} />
            <meta name="twitter:description" content={meta.share.description} />
          </>
        ) : null}
        {/* No icon yet: an empty one spares every visit a request for /favicon.ico that would only 404. */}
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href={siteStylesheet.path} />
      </head>
      <body>
        <a class="skip-link" href="#main">
          {t.skipLink}
        </a>
        <header class="site-header">
          <div class="inner">
            <span class="site-name">{props.organisation ?? 'Signet'}</span>
            <LanguageSwitch current={language} path={path} t={t} refKept={props.refKept} />
          </div>
        </header>
        <main id="main" tabindex={-1}>
          {props.children}
        </main>
        {props.organisation ? (
          <footer class="site-footer">
            <div class="inner">
              <p>{interpolate(t.footerRunBy, { organisation: props.organisation })}</p>
            </div>
          </footer>
        ) : null}
      </body>
    </html>
  );
}
