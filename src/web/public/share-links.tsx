import type { Messages, PageLanguage } from '../i18n/index.js';
import { shareScript } from './share-script.js';

/** The campaign page in one language: what every share link and the copy field carry, with no tracking parameters. */
export function campaignShareUrl(publicUrl: string, slug: string, language: PageLanguage): string {
  return `${publicUrl}/c/${encodeURIComponent(slug)}?lang=${language}`;
}

/** The services' own share pages, each opened by a plain link: no script or pixel of theirs on our pages. */
export function shareLinks(t: Messages, url: string, title: string) {
  const q = encodeURIComponent;
  return {
    line: `https://social-plugins.line.me/lineit/share?url=${q(url)}`,
    x: `https://x.com/intent/post?text=${q(title)}&url=${q(url)}`,
    facebook: `https://www.facebook.com/sharer/sharer.php?u=${q(url)}`,
    // mailto wants %20, not +, for spaces: encodeURIComponent, never URLSearchParams.
    email: `mailto:?subject=${q(title)}&body=${q(`${t.shareInvite}\n${title}\n${url}`)}`,
  };
}

export type ShareLinksProps = { t: Messages; url: string; title: string };

/**
 * "Share this campaign": LINE, X, Facebook and email links, and the link itself in a read-only
 * field with a copy button (share-script.ts shows the button where the Clipboard API exists).
 */
export function ShareLinks(props: ShareLinksProps) {
  const { t, url, title } = props;
  const links = shareLinks(t, url, title);
  const external = [
    { href: links.line, label: t.shareOnLine },
    { href: links.x, label: t.shareOnX },
    { href: links.facebook, label: t.shareOnFacebook },
  ];
  return (
    <section class="share" aria-labelledby="share-title">
      <h2 id="share-title">{t.shareHeading}</h2>
      <ul>
        {external.map((link) => (
          <li>
            <a href={link.href} target="_blank" rel="noopener noreferrer">
              {link.label}
              <span class="visually-hidden"> {t.shareNewTab}</span>
            </a>
          </li>
        ))}
        <li>
          <a href={links.email}>{t.shareByEmail}</a>
        </li>
      </ul>
      <div class="share-copy">
        <label for="share-url">{t.shareLinkLabel}</label>
        <input type="text" id="share-url" value={url} readonly spellcheck={false} />
        <button type="button" data-copy="share-url" data-status="share-status" data-copied={t.shareCopied} data-failed={t.shareCopyFailed} hidden>
          {t.shareCopy}
        </button>
        <p class="share-status" id="share-status" role="status"></p>
      </div>
      <script src={shareScript.path} defer></script>
    </section>
  );
}
